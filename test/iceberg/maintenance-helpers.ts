// Shared set-up for the maintenance tests: a chDB source of trades and an
// Iceberg table built from it by many small appends (what a 15-minute offload
// leaves behind), committed locally by taking each prepared metadata as the
// next base (no catalog needed: icebergLocal reads the newest metadata file).

import { createFileIO, newTableLocation, newTableMetadata, prepareAppend, serializeTableMetadata, writeDataFiles, type PreparedCommit, type TableMetadata } from '../../src/iceberg';
import { icebergSchemaFromClickHouse } from '../../src/clickhouse/schema/from-clickhouse';
import { randomName, warehouseDir, type Chdb } from './helpers';

// S3 settings of the shared test stack when present (MinIO), so the same io serves s3:// and file:// tables.
const env = process.env;
export const io = createFileIO(env.COLDTIER_TEST_S3_ENDPOINT ? {
  s3: {
    endpoint: env.COLDTIER_TEST_S3_ENDPOINT,
    region: env.COLDTIER_TEST_S3_REGION ?? 'us-east-1',
    accessKeyId: env.COLDTIER_TEST_S3_ACCESS_KEY_ID,
    secretAccessKey: env.COLDTIER_TEST_S3_SECRET_ACCESS_KEY,
    forcePathStyle: true,
  },
} : {});

export interface Committed {
  metadata: TableMetadata;
  metadataUri: string;
}

export interface TradesTable {
  source: string;
  select: string[];
  location: string;
  /** Path for icebergLocal() (file:// tables only). */
  path: string;
  head: Committed;
}

/** n trades from `offset`, one every 72 s starting 2026-11-20, so 1200 rows span a day. */
export const insertSql = (source: string, offset: number, n: number) => `INSERT INTO ${source}
  SELECT toDateTime64('2026-11-20 00:00:00', 6, 'UTC') + toIntervalMicrosecond((number + ${offset}) * 72000001),
         ['BTC', 'ETH', 'SOL', 'XRP'][(number * 7 + ${offset}) % 4 + 1],
         toDecimal64((number + ${offset}) / 7, 8), (number + ${offset}) * 1.5, toInt64(number + ${offset}),
         if((number + ${offset}) % 5 = 0, NULL, concat('nöte ☃ ', toString(number))),
         ['a', toString(number)], map('k', toInt32(number % 100))
  FROM numbers(${n})`;

/** Creates the source and an empty day-partitioned table sorted by (symbol, ts), in a local warehouse unless one is given. */
export async function createTradesTable(ch: Chdb, prefix: string, warehouse = `file://${warehouseDir(prefix)}`): Promise<TradesTable> {
  const source = randomName(prefix);
  await ch.command(`CREATE TABLE ${source} (ts DateTime64(6, 'UTC'), symbol String, price Decimal(18, 8), qty Float64, id Int64,
    note Nullable(String), tags Array(String), attrs Map(String, Int32)) ENGINE = MergeTree ORDER BY ts`);
  const columns = await ch.rows<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '${source}' ORDER BY position`);
  const { schema, select } = icebergSchemaFromClickHouse(source, columns);
  const location = newTableLocation(warehouse, 'cold', source);
  const metadata = newTableMetadata({
    location,
    schema,
    partitionBy: [{ sourceColumn: 'ts', transform: 'day' }],
    sortBy: [{ sourceColumn: 'symbol' }, { sourceColumn: 'ts' }],
  });
  const metadataUri = `${location}/metadata/00000-${crypto.randomUUID()}.metadata.json`;
  await io.write(metadataUri, new TextEncoder().encode(serializeTableMetadata(metadata)));
  return { source, select, location, path: location.slice('file://'.length), head: { metadata, metadataUri } };
}

/** Inserts n rows into the source and appends exactly those rows as one snapshot. */
export async function appendBatch(ch: Chdb, t: TradesTable, offset: number, n: number): Promise<PreparedCommit> {
  await ch.command(insertSql(t.source, offset, n));
  const rows = await ch.arrow(`SELECT ${t.select.join(', ')} FROM ${t.source} WHERE id >= ${offset} AND id < ${offset + n} ORDER BY symbol, ts`);
  const files = await writeDataFiles(io, t.head.metadata, rows);
  const p = await prepareAppend(io, t.head, files, { summary: { 'test.offset': String(offset) } });
  t.head = { metadata: p.metadata, metadataUri: p.metadataUri };
  return p;
}

export const COLS = ['toString(ts)', 'symbol', 'toString(price)', 'toString(qty)', 'toString(id)', "ifNull(note, '<null>')", 'toString(tags)', 'toString(attrs)'];

export interface Totals { n: string; sumPrice: string; hash: string }

/** Count, a sum and an order-independent hash of every row's content. */
export async function totals(ch: Chdb, from: string, where = '1'): Promise<Totals> {
  const [row] = await ch.rows<Totals>(`SELECT toString(count()) AS n, toString(sum(price)) AS sumPrice, toString(sum(cityHash64(${COLS.join(', ')}))) AS hash FROM ${from} WHERE ${where}`);
  return row!;
}
