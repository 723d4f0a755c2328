import type { ColumnInfo } from '../../clickhouse/client';
import { ensureWarehouseAccess } from '../../clickhouse/data-files';
import { maxKey, watermarkKey } from '../../clickhouse/range';
import { timeColumn, tableIdent } from '../../config/lookup';
import type { TableConfig } from '../../config/tables';
import { readWatermark } from '../../db/watermarks';
import { currentSchema, planScanFiles, type TableMetadata } from '../../iceberg';
import type { ActivityDeps } from '../deps';
import { rowsLostSince } from '../../db/rows-lost';
import { lostRows } from '../ttl-guard';
import type { AuditIssue } from '../types';
import { icebergHours, type FingerprintSpec, type HourFigures } from './fingerprint';

export const NONE: HourFigures = { rows: 0, keys: 0, fingerprint: '0' };

/**
 * What the audit compares: the columns in both the source and the Iceberg table (all source columns when there is no
 * table yet), and as the row key the watermark columns plus the sort columns (for a rollup the watermark alone,
 * window_start, does not tell its rows apart; the sort columns add symbol and exchange). Only the columns the table
 * had from its first schema on are hashed (fingerprintColumns).
 */
export function fingerprintSpec(cfg: TableConfig, columns: ColumnInfo[], meta: TableMetadata | null, window: Pick<FingerprintSpec, 'fromMs' | 'toMs' | 'closedUpToMs'>): FingerprintSpec {
  const inTable = meta ? currentSchema(meta).fields.map((f) => f.name) : null;
  const hashed = meta ? fingerprintColumns(meta) : null;
  const both = columns.filter((c) => !inTable || inTable.includes(c.name));
  const time = timeColumn(cfg);
  const rowKey = [...new Set([...cfg.watermark, ...cfg.sortBy])].filter((c) => both.some((x) => x.name === c));
  const read = both.filter((c) => !hashed || hashed.includes(c.name) || c.name === time || rowKey.includes(c.name));
  return { time, rowKey, columns: both.filter((c) => !hashed || hashed.includes(c.name)), read, ...window };
}

/**
 * The columns the audit fingerprints: those of the current schema that the table had from its first schema on. A
 * column added later reads as null from the files written before it, while the source shows its default for those
 * rows: a difference every evolved table would have, not a fault, so it is left out of the fingerprint (rows and keys
 * still count every file).
 */
export function fingerprintColumns(meta: TableMetadata): string[] {
  const first = [...meta.schemas].sort((a, b) => a['schema-id'] - b['schema-id'])[0]!;
  const ids = new Set(first.fields.map((f) => f.id));
  return currentSchema(meta).fields.filter((f) => ids.has(f.id)).map((f) => f.name);
}

/** The Iceberg side: the live data files of the current snapshot that may hold rows of the window, read by ClickHouse. */
export async function icebergTableHours(deps: ActivityDeps, meta: TableMetadata, spec: FingerprintSpec, withKeys = false): Promise<Map<number, HourFigures>> {
  const files = await planScanFiles(deps.io, meta, { filter: { column: spec.time, fromMs: spec.fromMs, toMs: spec.toMs } });
  if (!files.length) return new Map();
  const access = await ensureWarehouseAccess(deps.ch, deps.settings);
  return icebergHours(deps.ch, files.map((f) => f.file_path), access, spec, withKeys);
}

/** Whether two hours agree on rows and fingerprint (then nothing is duplicated, missing or changed, bar a hash collision). */
export const sameHour = (a: HourFigures | undefined, b: HourFigures | undefined): boolean => (a?.rows ?? 0) === (b?.rows ?? 0) && (a?.fingerprint ?? '0') === (b?.fingerprint ?? '0');

/**
 * One hour's verdict. `held`: ClickHouse still holds the hour completely (younger than its TTL).
 * - duplicate: Iceberg has more rows per distinct key than the source itself (any hour: a key twice is never right);
 * - missing: fewer rows in Iceberg;
 * - mismatch (held hours only): keys ClickHouse does not have, or the same rows with different values;
 * - beyond_ttl: more rows in Iceberg in an hour ClickHouse no longer fully holds (the seeds' rule: ok).
 */
export function hourIssue(c: HourFigures, i: HourFigures, held: boolean): AuditIssue | null {
  if (i.rows - i.keys > c.rows - c.keys) return 'duplicate';
  if (i.rows < c.rows) return 'missing';
  if (!held) return i.rows > c.rows ? 'beyond_ttl' : null;
  if (i.keys > c.keys || i.fingerprint !== c.fingerprint) return 'mismatch';
  return null;
}

export function describeHour(issue: AuditIssue, c: HourFigures, i: HourFigures): string {
  if (issue === 'duplicate') return `${i.rows}/${i.keys} vs ${c.rows}/${c.keys}`;
  if (issue === 'mismatch') return i.keys > c.keys ? `${i.keys - c.keys} key(s) not in ClickHouse` : `${i.rows} rows, fingerprints ${i.fingerprint} ≠ ${c.fingerprint}`;
  return `${i.rows}/${c.rows}`;
}

/** The TTL guard's verdict for the audit: rows ClickHouse deleted before they were offloaded (null: none). */
export async function lostRowsOf(deps: ActivityDeps, cfg: TableConfig, columns: ColumnInfo[], since: Date): Promise<string | null> {
  const id = tableIdent(deps.settings, cfg.name);
  const wm = await readWatermark(deps.pool, id);
  if (!wm) return null;
  const key = watermarkKey(cfg, columns);
  const now = await lostRows(deps.ch, cfg, key, await maxKey(deps.ch, key, wm.values, wm.committedTo));
  // Gaps an offload found (and recorded) since the window began: by now the watermark may be past them.
  const recorded = (await rowsLostSince(deps.pool, id, since))
    .filter((r) => !now || JSON.stringify(r.from) !== JSON.stringify(now.from))
    .map((r) => `${r.message} (found by the offload at ${r.detectedAt.toISOString()})`);
  const all = [...(now ? [now.message] : []), ...recorded];
  return all.length ? all.join('; ') : null;
}
