import type { Settings } from '../config/settings';
import { quote, type ClickHouse } from './client';
import { literal, namedCollectionDdl, type IcebergAccess } from './federation';

/**
 * ClickHouse reading an exact list of Iceberg data files (the ones the manifests name, nothing listed): the audit and
 * compaction hand ClickHouse the files and let it do the decoding, counting and sorting on its own cores.
 */

/** The named collection coldtier keeps the S3 keys in when the settings have keys and none is named. */
export const DEFAULT_NAMED_COLLECTION = 'coldtier_s3';

/** How ClickHouse reaches the warehouse with these settings (the keys, if any, through the named collection). */
export function warehouseAccess(s: Settings, namedCollection?: string): IcebergAccess {
  const keys = Boolean(s.s3.accessKeyId && s.s3.secretAccessKey);
  const coll = namedCollection ?? (keys ? DEFAULT_NAMED_COLLECTION : undefined);
  return { ...(s.s3.endpoint ? { s3Endpoint: s.s3.endpoint } : {}), s3Region: s.s3.region, ...(coll ? { namedCollection: coll } : {}) };
}

export async function namedCollectionExists(ch: ClickHouse, name: string): Promise<boolean> {
  return (await ch.json<{ n: number }>('SELECT count() AS n FROM system.named_collections WHERE name = {n:String}', { n: name }))[0]?.n === 1;
}

/**
 * Creates (or updates, so rotated keys take effect) the default named collection from the settings' S3 keys, and
 * returns the access to use. No-op for a file:// warehouse or settings without keys.
 */
export async function ensureWarehouseAccess(ch: ClickHouse, s: Settings): Promise<IcebergAccess> {
  const access = warehouseAccess(s);
  if (s.warehouse.startsWith('s3://') && s.s3.accessKeyId && s.s3.secretAccessKey) {
    const keys = { accessKeyId: s.s3.accessKeyId, secretAccessKey: s.s3.secretAccessKey };
    const apply = async () => ch.command(namedCollectionDdl(DEFAULT_NAMED_COLLECTION, await namedCollectionExists(ch, DEFAULT_NAMED_COLLECTION), keys));
    // Two activities may both find it missing and CREATE it: the one that loses that race ALTERs it on its second try.
    await apply().catch(apply);
  }
  return access;
}

/**
 * Settings every query over dataFilesFunction needs: files written before a column was added read it as its default,
 * and Hive-style folder names (`col=value/`) are not turned into columns — ClickHouse's `use_hive_partitioning` (on
 * by default in chDB) would replace an identity partition column with its URL-encoded folder name ('ÿ' read back as
 * '%C3%BF'; test/iceberg/clickhouse-compact.test.ts).
 */
export const DATA_FILES_SETTING_VALUES = { input_format_parquet_allow_missing_columns: 1, use_hive_partitioning: 0 } as const;
/** DATA_FILES_SETTING_VALUES as a query's SETTINGS clause. */
export const DATA_FILES_SETTINGS = Object.entries(DATA_FILES_SETTING_VALUES).map(([k, v]) => `${k} = ${v}`).join(', ');

/** Characters ClickHouse reads as glob syntax in a path; a file name holding one cannot be listed exactly. */
const GLOB = /[{}*?,\\]/;

function commonPrefix(paths: string[]): string {
  let p = paths[0]!;
  for (const x of paths) while (!x.startsWith(p)) p = p.slice(0, -1);
  return p;
}

/**
 * A table function over exactly these data files (one `{a,b,…}` alternation, so ClickHouse lists nothing):
 * `file()` for file:// locations (chDB/clickhouse-local reach only files below their user_files_path), `s3()` for
 * s3:// ones through `access`. `structure` (ClickHouse `name Type, …`) fixes the columns. Query it with
 * `SETTINGS ${DATA_FILES_SETTINGS}`.
 */
export function dataFilesFunction(locations: string[], access: IcebergAccess, structure?: string): string {
  if (!locations.length) throw new Error('dataFilesFunction: no data files given');
  const bad = locations.find((l) => GLOB.test(l));
  if (bad) throw new Error(`data file ${bad} has a character ClickHouse reads as a glob ({ } * ? , \\); cannot name it exactly`);
  const local = locations.every((l) => l.startsWith('file://'));
  const s3 = locations.every((l) => l.startsWith('s3://'));
  if (!local && !s3) throw new Error(`data files must all be file:// or all s3:// (got ${locations[0]} …)`);
  const paths = locations.map((l) => (local ? l.slice('file://'.length) : l));
  const prefix = commonPrefix(paths);
  const rest = paths.map((p) => p.slice(prefix.length));
  const pattern = rest.length === 1 ? `${prefix}${rest[0]}` : `${prefix}{${rest.join(',')}}`;
  const tail = `'Parquet'${structure ? `, ${literal(structure)}` : ''}`;
  if (local) return `file(${literal(pattern)}, ${tail})`;
  const m = /^s3:\/\/([^/]+)\/(.*)$/s.exec(pattern);
  if (!m) throw new Error(`data file location ${locations[0]} is not s3://bucket/key`);
  const [, bucket, key] = m as unknown as [string, string, string];
  const url = access.s3Endpoint
    ? `${access.s3Endpoint.replace(/\/+$/, '')}/${bucket}/${key}`
    : `https://${bucket}.s3.${access.s3Region ?? 'us-east-1'}.amazonaws.com/${key}`;
  if (access.namedCollection) return `s3(${quote(access.namedCollection)}, url = ${literal(url)}, format = 'Parquet'${structure ? `, structure = ${literal(structure)}` : ''})`;
  return `s3(${literal(url)}, ${tail})`;
}
