import { createBronzeTable, insertTrades } from '../../src/feed/synthetic';
import { describeSource, type ClickHouse } from '../../src/clickhouse/client';
import { icebergSchemaFromClickHouse } from '../../src/clickhouse/schema/from-clickhouse';
import { batchOrderBy } from '../../src/clickhouse/range';
import { tableConfigSchema } from '../../src/config/tables';
import type { Bench } from './context';
import { bronzeConfig } from './context';
import { timed } from './stats';

const HOUR = 3_600_000;

export interface Source {
  table: string;
  rows: number;
  /** Event times lie in [windowEnd − 24 h, windowEnd): the audit window. */
  windowStart: Date;
  windowEnd: Date;
  /** The offload's own SELECT list (Iceberg-typed columns) and ORDER BY: the references read exactly this. */
  select: string[];
  orderBy: string;
}

const sources = new Map<string, Source>();

/** Rows in one INSERT: the synthetic feed (one ingested_at, increasing sequence), spread over 24 h of event time. */
export async function tradeSource(b: Bench, table: string, rows: number, o: { spreadSeconds?: number; eventTimeEnd?: Date } = {}): Promise<Source> {
  const known = sources.get(table);
  if (known) return known;
  const ch = b.services.ch;
  const windowEnd = o.eventTimeEnd ?? new Date(Math.floor(Date.now() / HOUR) * HOUR);
  const spread = o.spreadSeconds ?? 86_400;
  await createBronzeTable(ch, table);
  const { s } = await timed(() => insertTrades(ch, table, { rows, exchange: 'binance', seed: 42, spreadSeconds: spread, eventTimeEnd: new Date(windowEnd.getTime() - 1) }));
  b.log(`generated ${rows} trades in chDB table ${table} in ${s.toFixed(1)} s`);
  const cfg = tableConfigSchema.parse(bronzeConfig(table, table));
  const { select } = icebergSchemaFromClickHouse(table, await describeSource(ch, table, table));
  const src: Source = { table, rows, windowStart: new Date(windowEnd.getTime() - spread * 1000), windowEnd, select, orderBy: batchOrderBy(cfg) };
  sources.set(table, src);
  return src;
}

/** The exact rows the offload reads, as SQL (no FORMAT). */
export const sourceQuery = (s: Source): string => `SELECT ${s.select.join(', ')} FROM \`default\`.\`${s.table}\`${s.orderBy}`;

export async function dropTable(ch: ClickHouse, table: string): Promise<void> {
  await ch.command(`DROP TABLE IF EXISTS \`default\`.\`${table}\` SYNC`);
}
