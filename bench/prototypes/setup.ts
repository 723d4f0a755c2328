// Shared setup of the optimisation prototypes: their own chDB directory (bench/.tmp/proto, so they can run while
// nothing else holds it), the bench's trade table, the offload's batch bounds, and an in-memory table metadata.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { batchRowsFor } from '../../src/activities/batch';
import { batchOrderBy, batchUpperBound, cycleUpperBound, rangeWhere, watermarkKey, type Bound } from '../../src/activities/range';
import { describeSource, openClickHouse, type ClickHouse } from '../../src/clickhouse/client';
import { tableConfigSchema, type TableConfig } from '../../src/config/tables';
import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { icebergSchemaFromClickHouse, newTableMetadata, type Schema, type TableMetadata } from '../../src/iceberg';
import { REPO } from '../lib/context';

export const PROTO_DIR = join(REPO, 'bench', '.tmp', 'proto');

export interface Proto {
  ch: ClickHouse;
  rows: number;
  runs: number;
  cfg: TableConfig;
  schema: Schema;
  select: string[];
  /** The offload's batch ranges over the whole table, (lo, hi] each about batchRows rows. */
  batches: Array<{ where: { sql: string; params: Record<string, string> } }>;
  /** `SELECT <offload columns> FROM trades WHERE <batch> ORDER BY <partition, sort>` for batch i (no FORMAT). */
  batchQuery(i: number, extraWhere?: string, orderBy?: string): { query: string; params: Record<string, string> };
  /** Fresh table metadata with a file:// location under bench/.tmp/proto/warehouse/<name>. */
  table(name: string): TableMetadata;
  close(): Promise<void>;
}

export async function openProto(argv = process.argv.slice(2)): Promise<Proto> {
  const { values } = parseArgs({ args: argv, options: { rows: { type: 'string' }, runs: { type: 'string' } }, strict: false });
  const rows = Number(values.rows ?? 5_000_000);
  const runs = Number(values.runs ?? 3);
  rmSync(PROTO_DIR, { recursive: true, force: true });
  mkdirSync(PROTO_DIR, { recursive: true });
  process.chdir(REPO);
  const ch = await openClickHouse({ url: `chdb://${join(PROTO_DIR, 'chdb')}`, username: 'default', password: '', database: 'default' });
  await createBronzeTable(ch, 'trades');
  await insertTrades(ch, 'trades', { rows, exchange: 'binance', seed: 42, spreadSeconds: 86_400, eventTimeEnd: new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 1) });
  const cfg = tableConfigSchema.parse({ name: 'trades', source: 'trades', layer: 'bronze', partitionBy: [{ column: 'exchange_timestamp', transform: 'day' }], sortBy: ['symbol', 'exchange_timestamp'], lateDataBufferSeconds: 0 });
  const columns = await describeSource(ch, 'trades', 'trades');
  const { schema, select } = icebergSchemaFromClickHouse('trades', columns);
  const key = watermarkKey(cfg, columns);
  const src = '`default`.`trades`';
  const top = (await cycleUpperBound(ch, src, key, null, { bufferSeconds: 0, windowSeconds: 0 }))!;
  const batches: Proto['batches'] = [];
  for (let lo: string[] | null = null; !(lo && lo.every((v, i) => v === top.values[i])); ) {
    const hi: Bound = await batchUpperBound(ch, src, key, lo, top, batchRowsFor(cfg, 'arrow'));
    batches.push({ where: rangeWhere(key, lo, hi.values) });
    lo = hi.values;
  }
  return {
    ch, rows, runs, cfg, schema, select, batches,
    batchQuery: (i, extraWhere, orderBy) => {
      const w = batches[i]!.where;
      return { query: `SELECT ${select.join(', ')} FROM ${src} WHERE ${w.sql}${extraWhere ? ` AND ${extraWhere}` : ''}${orderBy ?? batchOrderBy(cfg)}`, params: w.params };
    },
    table: (name) =>
      newTableMetadata({
        location: `file://${join(PROTO_DIR, 'warehouse', name)}`,
        schema,
        partitionBy: cfg.partitionBy.map((p) => ({ sourceColumn: p.column, transform: p.transform as never })),
        sortBy: cfg.sortBy.map((c) => ({ sourceColumn: c })),
        properties: {},
      }),
    close: () => ch.close(),
  };
}
