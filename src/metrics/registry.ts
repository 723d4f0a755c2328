// coldtier's own Prometheus metrics. Activities record through `metrics`; `coldtier worker --metrics-port` serves
// them (next to the Temporal SDK's) on /metrics. Recording is cheap and harmless when nothing serves them.
// Every name here is listed in METRIC_NAMES: test/deploy.test.ts checks that the Grafana dashboard and the alert
// rules use only exported names.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Statuses the maintenance audit writes to maintenance_audit_log.status. */
export const AUDIT_STATUSES = ['ok', 'warning', 'missing_data', 'duplicate_data', 'mismatch', 'error'] as const;
export type AuditStatus = (typeof AUDIT_STATUSES)[number];

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'coldtier_' });

const rows = new Counter({ name: 'coldtier_offload_rows_total', help: 'Rows committed to the Iceberg table by offloads (each commit counted once)', labelNames: ['table'], registers: [registry] });
const bytes = new Counter({ name: 'coldtier_offload_bytes_total', help: 'Bytes of Parquet data files committed by offloads', labelNames: ['table'], registers: [registry] });
const runs = new Counter({
  name: 'coldtier_offload_runs_total',
  help: 'Offload activity attempts per table by result (ok | failed); a retried attempt counts again',
  labelNames: ['table', 'result'],
  registers: [registry],
});
const duration = new Histogram({
  name: 'coldtier_offload_duration_seconds',
  help: 'Duration of a successful offload activity for one table',
  labelNames: ['table'],
  buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
  registers: [registry],
});
const files = new Gauge({ name: 'coldtier_table_data_files', help: 'Data files in the current Iceberg snapshot (after the last offload this process ran)', labelNames: ['table'], registers: [registry] });
const snapshots = new Gauge({ name: 'coldtier_table_snapshots', help: 'Snapshots in the Iceberg table metadata (after the last offload this process ran)', labelNames: ['table'], registers: [registry] });
const watermarkTs = new Gauge({ name: 'coldtier_watermark_timestamp_seconds', help: 'Ingestion time of the newest offloaded row (first watermark column), Unix seconds', labelNames: ['table'], registers: [registry] });

/** How long a scrape waits for the lag and TTL reads (Prometheus' default scrape timeout is 10 s). */
export const SCRAPE_WAIT_MS = 8_000;

/**
 * Reads one value per table from ClickHouse and Postgres into `into`, table by table (src/cli/lag.ts). It reports its own
 * errors (the worker logs them); a read that fails leaves the last values in place.
 */
export type TableValuesSource<V> = (into: Map<string, V>) => Promise<unknown>;

/**
 * Per-table values read at scrape time, so a stalled pipeline shows a growing lag even though no offload reports in.
 * One read runs at a time, however often Prometheus scrapes, and a scrape waits for it at most SCRAPE_WAIT_MS: a slow
 * table (a rollup's view over a large silver table) is read on in the background and shows at the next scrape, and
 * the scrape itself does not time out. A table not read (yet, or its read failed) keeps its last value rather than
 * vanishing (an absent series silences its alert). A read that finished within the last second serves the next
 * gauge of the same scrape.
 */
class ScrapedValues<V> {
  private readonly last = new Map<string, V>();
  private reading: Promise<unknown> | null = null;
  private doneAt = 0;

  constructor(
    private readonly source: TableValuesSource<V>,
    private readonly waitMs: number,
  ) {}

  async values(): Promise<ReadonlyMap<string, V>> {
    if (!this.reading && Date.now() - this.doneAt < 1000) return this.last;
    this.reading ??= this.source(this.last)
      .catch(() => undefined)
      .finally(() => {
        this.reading = null;
        this.doneAt = Date.now();
      });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.reading, new Promise((resolve) => (timer = setTimeout(resolve, this.waitMs)))]);
    clearTimeout(timer);
    return this.last;
  }
}

/** Every table's lag (src/cli/lag.ts: the age of the oldest source row not yet in Iceberg); set by the worker. */
let lags: ScrapedValues<number> | null = null;
new Gauge({
  name: 'coldtier_watermark_lag_seconds',
  help: 'Age of the oldest source row not yet in Iceberg, 0 when none; for rollups counted from when its window closed. The same number as `coldtier status` shows',
  labelNames: ['table'],
  registers: [registry],
  async collect() {
    if (!lags) return;
    for (const [table, seconds] of await lags.values()) this.set({ table }, seconds);
  },
});
/** Every table's TTL headroom (src/cli/lag.ts tableTtl); set by the worker. One read serves both TTL gauges. */
type TtlValue = { ttlSeconds: number; headroomSeconds: number };
let ttls: ScrapedValues<TtlValue> | null = null;
new Gauge({
  name: 'coldtier_source_ttl_seconds',
  help: "Length of the ClickHouse source's TTL (tables whose source has one; a month counted as 30 days)",
  labelNames: ['table'],
  registers: [registry],
  async collect() {
    if (!ttls) return;
    for (const [table, t] of await ttls.values()) this.set({ table }, t.ttlSeconds);
  },
});
new Gauge({
  name: 'coldtier_ttl_headroom_seconds',
  help: "Seconds until the source's ClickHouse TTL deletes the oldest row not yet in Iceberg (negative: overdue); the whole TTL when nothing is pending. The same number as `coldtier status` shows",
  labelNames: ['table'],
  registers: [registry],
  async collect() {
    if (!ttls) return;
    for (const [table, t] of await ttls.values()) this.set({ table }, t.headroomSeconds);
  },
});
const stageRuns = new Counter({
  name: 'coldtier_maintenance_stage_runs_total',
  help: 'Maintenance stage activity attempts per stage and table by result (ok | failed | busy: the table lock was held, retried)',
  labelNames: ['stage', 'table', 'result'],
  registers: [registry],
});
const stageDuration = new Histogram({
  name: 'coldtier_maintenance_stage_duration_seconds',
  help: 'Duration of a successful maintenance stage activity (compact, expire, orphans, audit, …) for one table',
  labelNames: ['stage', 'table'],
  buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
  registers: [registry],
});
const stageFiles = new Counter({
  name: 'coldtier_maintenance_files_total',
  help: 'Files a maintenance stage changed: compact rewrote, expire and orphans deleted (dry runs not counted)',
  labelNames: ['stage', 'table'],
  registers: [registry],
});
const stageBytes = new Counter({
  name: 'coldtier_maintenance_bytes_total',
  help: 'Bytes a maintenance stage changed: compact rewrote, orphans deleted (dry runs not counted)',
  labelNames: ['stage', 'table'],
  registers: [registry],
});
const restatedWindows = new Counter({
  name: 'coldtier_restated_windows_total',
  help: 'Rollup windows recomputed from the source and replaced in Iceberg (late rows, repair), each commit counted once',
  labelNames: ['table'],
  registers: [registry],
});
const audit = new Gauge({ name: 'coldtier_audit_status', help: 'Latest audit status per table: 1 for the current status, 0 for the others', labelNames: ['table', 'status'], registers: [registry] });

const catalogRequests = new Counter({
  name: 'coldtier_catalog_requests_total',
  help: 'Requests to the Iceberg REST catalog (coldtier catalog) by route template, method and HTTP status',
  labelNames: ['route', 'method', 'status'],
  registers: [registry],
});
const catalogDuration = new Histogram({
  name: 'coldtier_catalog_request_duration_seconds',
  help: 'Time to answer a REST catalog request, by route template',
  labelNames: ['route'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

/** Every metric coldtier exports (without the _bucket/_sum/_count series of the histogram). */
export const METRIC_NAMES: readonly string[] = [
  'coldtier_offload_rows_total',
  'coldtier_offload_bytes_total',
  'coldtier_offload_runs_total',
  'coldtier_offload_duration_seconds',
  'coldtier_table_data_files',
  'coldtier_table_snapshots',
  'coldtier_watermark_timestamp_seconds',
  'coldtier_watermark_lag_seconds',
  'coldtier_audit_status',
  'coldtier_ttl_headroom_seconds',
  'coldtier_source_ttl_seconds',
  'coldtier_catalog_requests_total',
  'coldtier_catalog_request_duration_seconds',
  'coldtier_maintenance_stage_runs_total',
  'coldtier_maintenance_stage_duration_seconds',
  'coldtier_maintenance_files_total',
  'coldtier_maintenance_bytes_total',
  'coldtier_restated_windows_total',
];

/** A failure that is not one: another activity holds the table lock, and the attempt is retried (TableBusyError). */
const busy = (err: unknown) => err instanceof Error && err.name === 'TableBusyError';

export interface OffloadFinished {
  table: string;
  seconds: number;
  /** Ingestion time of the table's watermark after the run; null when the table has none yet. */
  watermarkTs: Date | null;
  /** Not used any more: the lag metric is measured from the source (see measureLag). */
  holdbackSeconds?: number;
  snapshots: number;
  files: number;
}

export const metrics = {
  /**
   * Declares the tables a worker serves, so every series exists from the start at 0. Prometheus' increase() cannot
   * see a counter's first increment when the series first appears with it.
   */
  declareTables(tables: readonly string[]): void {
    for (const table of tables) {
      rows.labels(table).inc(0);
      bytes.labels(table).inc(0);
      runs.labels(table, 'ok').inc(0);
      runs.labels(table, 'failed').inc(0);
      runs.labels(table, 'busy').inc(0);
      restatedWindows.labels(table).inc(0);
    }
  },
  /** One commit (Iceberg snapshot + watermark advance) of `rows` rows in files of `bytes` bytes. */
  committed(table: string, committedRows: number, committedBytes: number): void {
    rows.labels(table).inc(committedRows);
    bytes.labels(table).inc(committedBytes);
  },
  /** A committed restatement of `windows` rollup windows. */
  restated(table: string, windows: number): void {
    restatedWindows.labels(table).inc(windows);
  },
  /** An offload activity for `table` finished (committed or nothing new). */
  offloaded(e: OffloadFinished): void {
    runs.labels(e.table, 'ok').inc();
    duration.labels(e.table).observe(e.seconds);
    snapshots.labels(e.table).set(e.snapshots);
    files.labels(e.table).set(e.files);
    if (e.watermarkTs) watermarkTs.labels(e.table).set(e.watermarkTs.getTime() / 1000);
  },
  /**
   * An offload activity attempt for `table` failed (it may be retried). A busy table (another activity holds its
   * lock) counts as result="busy", not "failed": it is waiting, and ColdtierOffloadFailing must not fire for it.
   */
  offloadFailed(table: string, err?: unknown): void {
    runs.labels(table, busy(err) ? 'busy' : 'failed').inc();
  },
  /** A maintenance stage activity for `table` finished: its duration and what it changed. */
  stageFinished(e: { stage: string; table: string; seconds: number; files: number; bytes: number }): void {
    stageRuns.labels(e.stage, e.table, 'ok').inc();
    stageDuration.labels(e.stage, e.table).observe(e.seconds);
    stageFiles.labels(e.stage, e.table).inc(e.files);
    stageBytes.labels(e.stage, e.table).inc(e.bytes);
  },
  /** A maintenance stage attempt failed (busy: the table lock was held; it is retried). */
  stageFailed(stage: string, table: string, err: unknown): void {
    stageRuns.labels(stage, table, busy(err) ? 'busy' : 'failed').inc();
  },
  /** Where the lag metric comes from: the worker measures it with the services it already holds. */
  measureLag(source: TableValuesSource<number>, waitMs = SCRAPE_WAIT_MS): void {
    lags = new ScrapedValues(source, waitMs);
  },
  /** Where the TTL headroom metric comes from (like measureLag). */
  measureTtl(source: TableValuesSource<TtlValue>, waitMs = SCRAPE_WAIT_MS): void {
    ttls = new ScrapedValues(source, waitMs);
  },
  /** One answered REST catalog request; `route` is the route template (no table names: bounded label values). */
  catalogRequest(route: string, method: string, status: number, seconds: number): void {
    catalogRequests.labels(route, method, String(status)).inc();
    catalogDuration.labels(route).observe(seconds);
  },
  /** The maintenance audit's verdict for `table`. */
  audited(table: string, status: AuditStatus): void {
    for (const s of AUDIT_STATUSES) audit.labels(table, s).set(s === status ? 1 : 0);
  },
};
