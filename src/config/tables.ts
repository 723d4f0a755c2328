import { z } from 'zod';

/** A ClickHouse/Iceberg identifier: letters, digits and underscores, not starting with a digit. Never quoted from user text otherwise. */
export const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be a plain identifier: letters, digits and _ (no quotes, dots, spaces or SQL)');

const transform = z
  .string()
  .regex(/^(identity|year|month|day|hour|bucket\[[1-9][0-9]*\]|truncate\[[1-9][0-9]*\])$/, 'must be identity, year, month, day, hour, bucket[N] or truncate[N]');

export const tableConfigSchema = z
  .object({
    /** Iceberg table name inside the namespace; also the key used on the command line. */
    name: identifier,
    /** ClickHouse source table, `table` or `database.table`. */
    source: z.string().regex(/^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/, 'must be table or database.table'),
    /** bronze / silver / gold. Work runs bronze → silver → gold. */
    layer: z.enum(['bronze', 'silver', 'gold']),
    /** Tables that must finish offloading in the same cycle before this one starts. */
    dependsOn: z.array(identifier).default([]),
    /**
     * Ingestion-ordered watermark columns, compared as a tuple. The first must be a DateTime64 column;
     * it drives lag and the late-data buffer.
     * @default ['ingested_at', 'sequence']
     */
    watermark: z.array(identifier).min(1).default(['ingested_at', 'sequence']),
    /**
     * Event-time column used by the audit (rows per hour) and by backfill/repair windows.
     * @default the first partition column
     */
    timeColumn: identifier.optional(),
    /** Hidden partitioning of the Iceberg table. */
    partitionBy: z.array(z.object({ column: identifier, transform })).default([]),
    /** Sort order of each data file (rows are sorted by ClickHouse before writing). */
    sortBy: z.array(identifier).default([]),
    /**
     * Rows whose first watermark column is newer than now − this many seconds are left for the next cycle,
     * so inserts still in flight when the batch bound is fixed are never skipped.
     * @default 5
     */
    lateDataBufferSeconds: z.number().int().min(0).max(86_400).default(5),
    /**
     * For rollups: the window width in seconds. A row is taken only once its window [first watermark column,
     * + closedWindowSeconds) has closed and the late-data buffer has passed, so a window is offloaded once, complete.
     * @default 0 (not a rollup)
     */
    closedWindowSeconds: z.number().int().min(0).max(31 * 86_400).default(0),
    /**
     * When true, the table is skipped in a cycle where one of its dependsOn tables failed. When false, dependsOn
     * only orders the work (each table reads its own ClickHouse source, so it can still be offloaded safely).
     * @default false
     */
    requireDependencies: z.boolean().default(false),
    /**
     * A catch-up of more than this many batches is written by parallel activities (spread over the workers) and
     * committed once at the end. Worth it with several worker machines; on one small machine parallel range writes
     * only add memory (docs/performance.md), so it is off unless set.
     * @default 0 (off)
     */
    fanOutBatches: z.number().int().min(0).max(1000).default(0),
    /**
     * Upper bound of rows per commit; a large catch-up becomes several commits. With the ClickHouse encoder a batch
     * costs the worker only its Parquet bytes; with the Arrow encoder peak worker memory grows with it (~550 MB per
     * million rows of a trade table).
     * @default 2_000_000 with the ClickHouse encoder, 500_000 with the Arrow encoder
     */
    batchRows: z.number().int().min(1).max(50_000_000).optional(),
    /**
     * Who encodes the Parquet files. `clickhouse`: ClickHouse sorts and encodes each partition (`FORMAT Parquet`, on
     * its own cores) and coldtier only rewrites the footer to add field ids — fast, and the rows never pass through
     * the worker's memory. `arrow`: the rows are read as Arrow and encoded in the worker (parquet-wasm). `auto` uses
     * ClickHouse unless the table has a type or partition transform it cannot write exactly as Iceberg requires
     * (nested columns, wide decimals, bucket/truncate partitions).
     * @default 'auto'
     */
    encoder: z.enum(['auto', 'clickhouse', 'arrow']).default('auto'),
    /**
     * For rollups (closedWindowSeconds > 0): the registry table whose rows the rollup is computed from, and that
     * table's event-time column. A rollup's window start (its first watermark column) must be
     * toStartOfInterval(timeColumn, closedWindowSeconds) in UTC. Late rows of `table` (new ingestion key, old event
     * time) for windows already in Iceberg make the next offload cycle restate those windows (README "Restated rollups", docs/operations.md).
     * @default unset (no restatement); the seeds' gold tables: { table: 'silver_trades', timeColumn: 'exchange_timestamp' }
     */
    derivedFrom: z.object({ table: identifier, timeColumn: identifier }).strict().optional(),
    /**
     * With the ClickHouse encoder: files of one offload batch that ClickHouse sorts and encodes (and the worker
     * adopts and uploads) at once, and partitions a compaction rewrites at once (within 256 MiB of input). 2 or more
     * overlaps one partition's single-threaded merge with another's and with the uploads, which pays where ClickHouse
     * has idle cores (a server of its own); on the bench's shared 2-core machine, chDB in the same process and load
     * 3–11, two at a time measured 0.79–1.23× of one at a time, median 0.84× over six paired runs
     * (docs/performance.md), hence the default.
     * @default 1
     */
    writeConcurrency: z.number().int().min(1).max(8).default(1),
    /** Iceberg table properties (e.g. write.target-file-size-bytes). */
    properties: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export type TableConfig = z.infer<typeof tableConfigSchema>;
export type TableConfigInput = z.input<typeof tableConfigSchema>;

const bronze = (exchange: string): TableConfigInput => ({
  name: `bronze_trades_${exchange}`,
  source: `bronze_trades_${exchange}`,
  layer: 'bronze',
  watermark: ['ingested_at', 'sequence'],
  partitionBy: [{ column: 'exchange_timestamp', transform: 'day' }],
  sortBy: ['symbol', 'exchange_timestamp'],
});

/** The OHLCV rollups of silver_trades: window label and width in seconds. */
export const GOLD_WINDOWS = [
  ['1m', 60],
  ['5m', 300],
  ['15m', 900],
  ['30m', 1800],
  ['1h', 3600],
  ['1d', 86_400],
] as const;

const gold = ([label, seconds]: (typeof GOLD_WINDOWS)[number]): TableConfigInput => ({
  name: `gold_ohlcv_${label}`,
  source: `gold_ohlcv_${label}`,
  layer: 'gold',
  dependsOn: ['silver_trades'],
  watermark: ['window_start'],
  closedWindowSeconds: seconds,
  // Trades may reach ClickHouse a little after their exchange time; a window is closed only after this much more.
  lateDataBufferSeconds: 300,
  // Late silver trades for windows already offloaded restate those windows in the next cycle.
  derivedFrom: { table: 'silver_trades', timeColumn: 'exchange_timestamp' },
  partitionBy: [{ column: 'window_start', transform: seconds >= 86_400 ? 'year' : 'month' }],
  sortBy: ['symbol', 'exchange', 'window_start'],
});

/** The seeds' ten cold tables in the order of work: 3 bronze feeds → silver_trades → 6 gold OHLCV rollups. */
export const defaultTables: TableConfigInput[] = [
  bronze('binance'),
  bronze('kraken'),
  bronze('coinbase'),
  {
    name: 'silver_trades',
    source: 'silver_trades',
    layer: 'silver',
    dependsOn: ['bronze_trades_binance', 'bronze_trades_kraken', 'bronze_trades_coinbase'],
    watermark: ['ingested_at', 'exchange', 'sequence'],
    partitionBy: [{ column: 'exchange_timestamp', transform: 'day' }],
    sortBy: ['symbol', 'exchange_timestamp'],
  },
  ...GOLD_WINDOWS.map(gold),
];
