import { keyTuple, type WatermarkKey } from './range';
import { quote } from './client';

/**
 * The federated view `<database>.<table>_all`: the hot ClickHouse table above the boundary, UNION ALL the Iceberg
 * table at or below it. A view definition is one *consistent pair*, fixed when coldtier (re)creates it: the boundary
 * key as a literal, and the Iceberg side pinned to the committed metadata file read in the same Postgres statement.
 * Nothing is decided at query time, so no query can see the boundary of one commit and the snapshot of another
 * (README "Querying hot and cold together" has the evaluation-order evidence that rules out reading them per query).
 *
 * Identifiers come from validated config (`quote` refuses anything else); values enter the DDL as escaped literals
 * because a CREATE VIEW cannot take bound parameters (`{p:T}` there declares a parameterized view instead).
 */

/** A ClickHouse string literal: backslashes and quotes escaped, so any text stays one literal. */
export function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The key values as a typed tuple literal matching keyTuple(k): CAST('v', 'Type') per column. */
export function literalTuple(k: WatermarkKey, values: string[]): string {
  if (values.length !== k.columns.length) throw new Error(`boundary has ${values.length} values for the ${k.columns.length} key columns ${k.columns.join(', ')}`);
  const parts = values.map((v, i) => `CAST(${literal(v)}, ${literal(k.types[i]!)})`);
  return parts.length === 1 ? parts[0]! : `(${parts.join(', ')})`;
}

/** How ClickHouse reaches the warehouse. */
export interface IcebergAccess {
  /** S3 endpoint (path-style), e.g. http://127.0.0.1:9000. @default AWS virtual-hosted style for the region */
  s3Endpoint?: string;
  /** @default us-east-1 */
  s3Region?: string;
  /**
   * A ClickHouse named collection holding `access_key_id` / `secret_access_key`, so no secret is written into a view
   * definition. Undefined: the server's own credentials (environment, instance role).
   */
  namedCollection?: string;
}

/** The table location and the metadata path relative to it, from `iceberg_tables.metadata_location`. */
export function splitMetadataLocation(metadataLocation: string): { tableLocation: string; metadataPath: string } {
  const i = metadataLocation.lastIndexOf('/metadata/');
  if (i < 0) throw new Error(`metadata location ${metadataLocation} is not under <table>/metadata/; cannot pin the Iceberg side of the view`);
  return { tableLocation: metadataLocation.slice(0, i), metadataPath: metadataLocation.slice(i + 1) };
}

/**
 * The Iceberg table function pinned to one committed metadata file (`iceberg_metadata_file_path`, relative to the
 * table). Unpinned, ClickHouse takes the highest-numbered metadata.json it can list, which may belong to a writer
 * that has not committed (or lost its compare-and-swap), and which changes between two queries of one view.
 */
export function icebergTableFunction(metadataLocation: string, access: IcebergAccess = {}): string {
  const { tableLocation, metadataPath } = splitMetadataLocation(metadataLocation);
  const pin = `SETTINGS iceberg_metadata_file_path = ${literal(metadataPath)}`;
  if (tableLocation.startsWith('file://')) return `icebergLocal(${literal(`${tableLocation.slice('file://'.length)}/`)}, ${pin})`;
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(tableLocation);
  if (!m) throw new Error(`table location ${tableLocation} is neither file:// nor s3://`);
  const [, bucket, key] = m as unknown as [string, string, string];
  const url = access.s3Endpoint
    ? `${access.s3Endpoint.replace(/\/+$/, '')}/${bucket}/${key}/`
    : `https://${bucket}.s3.${access.s3Region ?? 'us-east-1'}.amazonaws.com/${key}/`;
  if (access.namedCollection) return `icebergS3(${quote(access.namedCollection)}, url = ${literal(url)}, ${pin})`;
  return `icebergS3(${literal(url)}, ${pin})`;
}

/** What a view definition was built from; kept in the view's COMMENT so `federate --check` can read it back. */
export interface ViewPin {
  /** The boundary key; null: nothing offloaded yet, the view is the hot table alone. */
  key: string[] | null;
  /** The pinned metadata file (relative to the table); null with key null. */
  metadata: string | null;
}

export interface FederatedView {
  /** `db`.`table_all` */
  name: string;
  ddl: string;
  pin: ViewPin;
}

export interface FederatedViewInput {
  /** Database of the view (the hot table's). */
  database: string;
  /** Registry name of the table; the view is `<table>_all`. */
  table: string;
  /** The hot table, already qualified and quoted. */
  hot: string;
  /** Columns in the hot table's order; the Iceberg table has the same names. */
  columns: string[];
  key: WatermarkKey;
  /** The Iceberg table function (icebergTableFunction), or null when there is no boundary yet. */
  iceberg: string | null;
  pin: ViewPin;
}

export const viewName = (database: string, table: string): string => `${quote(database)}.${quote(`${table}_all`)}`;

/**
 * Hot side: key > boundary; cold side: key ≤ boundary. Each side also gets the first key column's bound on its own,
 * because ClickHouse uses a primary key (hot) or min/max statistics (cold) only from a plain column comparison, not a
 * tuple one. The cold filter is redundant for a pinned snapshot (it holds nothing above the boundary) but keeps the
 * view exact even if the pin were newer than the boundary.
 */
export function federatedView(v: FederatedViewInput): FederatedView {
  const cols = v.columns.map(quote).join(', ');
  const name = viewName(v.database, v.table);
  const comment = literal(JSON.stringify({ coldtier: 'federated view', ...v.pin }));
  if (!v.pin.key || !v.iceberg) {
    return { name, pin: { key: null, metadata: null }, ddl: `CREATE OR REPLACE VIEW ${name} AS SELECT ${cols} FROM ${v.hot} COMMENT ${comment}` };
  }
  const [key, first] = [v.pin.key, v.key.columns[0]!];
  const firstKey: WatermarkKey = { columns: [first], types: [v.key.types[0]!] };
  const hot = `SELECT ${cols} FROM ${v.hot} WHERE ${keyTuple(v.key)} > ${literalTuple(v.key, key)} AND ${quote(first)} >= ${literalTuple(firstKey, [key[0]!])}`;
  const cold = `SELECT ${cols} FROM ${v.iceberg} WHERE ${keyTuple(v.key)} <= ${literalTuple(v.key, key)} AND ${quote(first)} <= ${literalTuple(firstKey, [key[0]!])}`;
  return { name, pin: v.pin, ddl: `CREATE OR REPLACE VIEW ${name} AS ${hot} UNION ALL ${cold} COMMENT ${comment}` };
}

/** Reads a ViewPin back from a view's comment; null when the comment is not coldtier's. */
export function parsePin(comment: string): ViewPin | null {
  try {
    const o = JSON.parse(comment) as { coldtier?: string; key?: string[] | null; metadata?: string | null };
    return o.coldtier === 'federated view' ? { key: o.key ?? null, metadata: o.metadata ?? null } : null;
  } catch {
    return null;
  }
}

/**
 * Row count and an order-independent content hash (a wrapping UInt64 sum of row hashes): equal fingerprints mean the
 * same multiset of rows, and the fingerprint of a disjoint union is the sum of the parts' (addFingerprints).
 */
export function fingerprintQuery(from: string, columns: string[], where = '1'): string {
  const content = columns.map((c) => `toString(${quote(c)})`).join(', ');
  return `SELECT toString(count()) AS n, toString(sum(cityHash64(${content}))) AS hash FROM ${from} WHERE ${where}`;
}

export interface Fingerprint {
  n: string;
  hash: string;
}

export const addFingerprints = (a: Fingerprint, b: Fingerprint): Fingerprint => ({
  n: (BigInt(a.n) + BigInt(b.n)).toString(),
  hash: ((BigInt(a.hash) + BigInt(b.hash)) % 2n ** 64n).toString(),
});

/**
 * The named collection that keeps the S3 keys out of every view definition: views name it, ClickHouse stores the
 * values once and shows them as [HIDDEN] (system.named_collections, SHOW CREATE). ALTER when it exists, so rotated
 * keys take effect without dropping what views depend on.
 */
export function namedCollectionDdl(name: string, exists: boolean, keys: { accessKeyId: string; secretAccessKey: string }): string {
  const values = `access_key_id = ${literal(keys.accessKeyId)}, secret_access_key = ${literal(keys.secretAccessKey)}`;
  return exists ? `ALTER NAMED COLLECTION ${quote(name)} SET ${values}` : `CREATE NAMED COLLECTION ${quote(name)} AS ${values}`;
}
