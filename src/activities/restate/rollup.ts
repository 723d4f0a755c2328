// Restating rollup windows: recompute chosen windows of a rollup (a gold table) from its ClickHouse source and replace
// them in Iceberg in one commit, copy-on-write of the data files that hold them.
import { describeSource, qualified, quote, type ColumnInfo } from '../../clickhouse/client';
import { hashed } from '../maintenance/fingerprint';
import { DATA_FILES_SETTINGS, dataFilesFunction, ensureWarehouseAccess } from '../../clickhouse/data-files';
import type { IcebergAccess } from '../../clickhouse/federation';
import { batchOrderBy, keyParams, keyTuple, paramTuple, watermarkKey } from '../../clickhouse/range';
import { ConfigError } from '../../config/errors';
import { tableIdent } from '../../config/lookup';
import type { Settings } from '../../config/settings';
import type { TableConfig } from '../../config/tables';
import type { TableIdent } from '../../db/watermarks';
import {
  casCommit, currentSchema, currentSnapshot, fromBinary, loadTable, planScanFiles, prepareAppend, prepareReplace,
  writeDataFiles, type Committed, type CommitTransaction, type DataFile, type LoadedTable, type PrimitiveType,
} from '../../iceberg';
import { deleteFiles, deleteOnFailure, fenced } from '../commit';
import type { ActivityDeps } from '../deps';
import { BadRequestError } from '../errors';
import type { Attempt } from '../liveness';
import type { LockGuard } from '../../db/table-lock';
import { sourceSchema } from '../tables';

/** A rollup as restatement sees it: its source columns and its window-start column. */
export interface Rollup {
  cfg: TableConfig;
  id: TableIdent;
  /** The source, qualified for SQL. */
  src: string;
  columns: ColumnInfo[];
  /** The window-start column (the rollup's only watermark column) and its ClickHouse type. */
  windowColumn: string;
  windowType: string;
  widthSeconds: number;
}

/** The rollup's registry entry checked for restatement, with its source's columns. */
export async function describeRollup(ch: Attempt['ch'], cfg: TableConfig, id: TableIdent): Promise<Rollup> {
  if (cfg.closedWindowSeconds === 0 || cfg.watermark.length !== 1) {
    throw new ConfigError(`table ${cfg.name}: restating windows needs a rollup: closedWindowSeconds > 0 and a watermark of the window start alone; fix the table registry`);
  }
  const columns = await describeSource(ch, cfg.name, cfg.source);
  const windowColumn = cfg.watermark[0]!;
  const type = columns.find((c) => c.name === windowColumn)?.type;
  if (!type) throw new ConfigError(`table ${cfg.name}: watermark column ${windowColumn} is not a column of ${cfg.source}; fix "watermark" in the table registry`);
  return { cfg, id, src: qualified(ch, cfg.source).sql, columns, windowColumn, windowType: type.replace(/^LowCardinality\((.*)\)$/, '$1'), widthSeconds: cfg.closedWindowSeconds };
}

/** The registry entry of the table a rollup derives from, or a ConfigError naming the setting. */
export function derivedFromConfig(settings: Settings, cfg: TableConfig): { cfg: TableConfig; timeColumn: string } {
  const d = cfg.derivedFrom;
  if (!d) throw new ConfigError(`table ${cfg.name}: set "derivedFrom" ({ table, timeColumn }) in the table registry to restate its windows`);
  const from = settings.tables.find((t) => t.name === d.table);
  if (!from || from.name === cfg.name) throw new ConfigError(`table ${cfg.name}: derivedFrom.table ${d.table} is not another table of the registry; fix derivedFrom`);
  return { cfg: from, timeColumn: d.timeColumn };
}

const accessOf = new WeakMap<Attempt, Promise<IcebergAccess>>();

/** How this attempt's ClickHouse reads the warehouse, set up once per attempt. */
function warehouse(deps: ActivityDeps, live: Attempt): Promise<IcebergAccess> {
  let p = accessOf.get(live);
  if (!p) {
    p = ensureWarehouseAccess(live.ch, deps.settings);
    accessOf.set(live, p);
  }
  return p;
}

/** `ws` (µs since the epoch) as ISO text. */
export const isoOfMicros = (ws: bigint) => new Date(Number(ws / 1000n)).toISOString();

/** The ClickHouse expression of a window start as µs since the epoch. */
export const windowMicros = (r: Rollup) => `toUnixTimestamp64Micro(toDateTime64(${quote(r.windowColumn)}, 6, 'UTC'))`;

/**
 * A set of window starts (µs) as a ClickHouse subquery for `IN`: the windows as runs of consecutive windows in two
 * bound arrays (starts, ends), expanded by ClickHouse. Parameters travel in the request URL, so a month of 1-minute
 * windows must not be 43,200 numbers there; late trades mostly change consecutive windows.
 */
export function windowSet(r: Rollup, windows: bigint[], p: string): Where {
  const width = BigInt(r.widthSeconds) * 1_000_000n;
  const starts: bigint[] = [];
  const ends: bigint[] = [];
  for (const w of [...windows].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (ends.length && ends[ends.length - 1] === w) ends[ends.length - 1] = w + width;
    else if (!ends.length || ends[ends.length - 1]! < w) {
      starts.push(w);
      ends.push(w + width);
    }
  }
  // µs since the epoch are exact as JS numbers (below 2^53 until the year 2255).
  return {
    sql: `(SELECT arrayJoin(arrayFlatten(arrayMap((s, e) -> range(s, e, {${p}_width:Int64}), {${p}_starts:Array(Int64)}, {${p}_ends:Array(Int64)}))))`,
    params: { [`${p}_width`]: Number(width), [`${p}_starts`]: starts.map(Number), [`${p}_ends`]: ends.map(Number) },
  };
}

/** `name Type, …` of the source's columns: ClickHouse reads the Iceberg data files with exactly the source's types. */
export const structureOf = (r: Rollup) => r.columns.map((c) => `${quote(c.name)} ${c.type}`).join(', ');

/**
 * The live data files that may hold one of `windows` (sorted µs): pruned by partitions, then by the files' own
 * bounds of the window column (a file without bounds is taken).
 */
export async function filesHolding(deps: ActivityDeps, table: LoadedTable, r: Rollup, windows: bigint[]): Promise<DataFile[]> {
  const first = windows[0]!;
  const last = windows[windows.length - 1]!;
  const candidates = await planScanFiles(deps.io, table.metadata, { filter: { column: r.windowColumn, fromMs: Number(first / 1000n), toMs: Number(last / 1000n) + 1 } });
  const field = currentSchema(table.metadata).fields.find((f) => f.name === r.windowColumn)!;
  const type = field.type as PrimitiveType;
  return candidates.filter((f) => {
    const lo = f.lower_bounds?.[field.id];
    const hi = f.upper_bounds?.[field.id];
    if (!lo || !hi) return true;
    const [a, b] = [fromBinary(type, lo) as bigint, fromBinary(type, hi) as bigint];
    return windows.some((w) => w >= a && w <= b);
  });
}

type Where = { sql: string; params: Record<string, unknown> };

/**
 * The windows whose rows differ between Iceberg (`files`, read by ClickHouse with the source's column types) and
 * the source, value for value: per window the row count and an order-independent hash of every row's columns. Only
 * rows matching `where` (a filter on the window column, bound parameters) are compared.
 */
export async function differingWindows(deps: ActivityDeps, live: Attempt, r: Rollup, files: DataFile[], where: Where): Promise<{ compared: number; differing: bigint[] }> {
  const hash = `sum(cityHash64(${r.columns.map(hashed).join(', ')}))`;
  const fingerprint = (from: string) => live.ch.json<{ ws: string; n: string; h: string }>(
    `SELECT toString(${windowMicros(r)}) AS ws, toString(count()) AS n, toString(${hash}) AS h FROM ${from} WHERE ${where.sql} GROUP BY ws SETTINGS ${DATA_FILES_SETTINGS}`,
    where.params,
  );
  const source = new Map((await fingerprint(r.src)).map((x) => [x.ws, `${x.n}/${x.h}`]));
  const iceberg = new Map<string, string>();
  if (files.length) {
    const access = await warehouse(deps, live);
    for (const x of await fingerprint(dataFilesFunction(files.map((f) => f.file_path), access, structureOf(r)))) iceberg.set(x.ws, `${x.n}/${x.h}`);
  }
  const all = new Set([...source.keys(), ...iceberg.keys()]);
  const differing = [...all].filter((w) => source.get(w) !== iceberg.get(w)).map(BigInt).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { compared: all.size, differing };
}

/**
 * Splits `windows` into those whose rows the derived-from table's ClickHouse source still holds completely and those
 * it does not: per window, the source's rows with a key at or below `committed` must be at least as many as the
 * derived table holds in Iceberg (which keeps all history). A window whose rows ClickHouse partly dropped (its TTL)
 * would be recomputed from a part of its trades; it is left as Iceberg has it. Without the derived table in Iceberg
 * nothing can be checked, and nothing is restated.
 */
export async function completeInSource(deps: ActivityDeps, live: Attempt, r: Rollup, from: { cfg: TableConfig; timeColumn: string }, committed: string[] | null, windows: bigint[]): Promise<{ complete: bigint[]; incomplete: bigint[] }> {
  if (!windows.length) return { complete: [], incomplete: [] };
  const derived = await loadTable(deps.pool, deps.io, tableIdent(deps.settings, from.cfg.name));
  if (!derived || !committed) return { complete: [], incomplete: windows };
  const columns = await describeSource(live.ch, from.cfg.name, from.cfg.source);
  const timeType = columns.find((c) => c.name === from.timeColumn)?.type;
  if (!timeType) throw new ConfigError(`table ${r.cfg.name}: derivedFrom.timeColumn ${from.timeColumn} is not a column of ${from.cfg.source} (the source of ${from.cfg.name}); fix derivedFrom in the table registry`);
  const key = watermarkKey(from.cfg, columns);
  const t = quote(from.timeColumn);
  const window = `toUnixTimestamp64Micro(toDateTime64(toStartOfInterval(${t}, toIntervalSecond({width:UInt32}), 'UTC'), 6, 'UTC'))`;
  const set = windowSet(r, windows, 'windows');
  const params = { width: r.widthSeconds, ...set.params, ...keyParams('k', committed) };
  const counts = async (src: string, extra: string) => new Map((await live.ch.json<{ ws: string; n: string }>(
    `SELECT toString(${window}) AS ws, toString(count()) AS n FROM ${src} WHERE ${window} IN ${set.sql}${extra} GROUP BY ws SETTINGS ${DATA_FILES_SETTINGS}`, params,
  )).map((x) => [x.ws, BigInt(x.n)]));
  const inSource = await counts(qualified(live.ch, from.cfg.source).sql, ` AND ${keyTuple(key)} <= ${paramTuple(key, 'k')}`);
  const lastMs = Number(windows[windows.length - 1]! / 1000n) + r.widthSeconds * 1000;
  const files = await planScanFiles(deps.io, derived.metadata, { filter: { column: from.timeColumn, fromMs: Number(windows[0]! / 1000n), toMs: lastMs } });
  const access = files.length ? await warehouse(deps, live) : null;
  const inIceberg = access ? await counts(dataFilesFunction(files.map((f) => f.file_path), access, `${t} ${timeType}`), '') : new Map<string, bigint>();
  const complete: bigint[] = [];
  const incomplete: bigint[] = [];
  for (const w of windows) ((inSource.get(String(w)) ?? 0n) >= (inIceberg.get(String(w)) ?? 0n) ? complete : incomplete).push(w);
  return { complete, incomplete };
}

export interface RewriteOptions {
  /** Snapshot summary keys (the restatement's id and reason). */
  summary: Record<string, string>;
  /** Runs in the commit transaction after the fence; false abandons the commit (e.g. the restatement mark moved). */
  beforeSwap?: (tx: CommitTransaction) => Promise<boolean>;
}

/**
 * Replaces `windows` (window starts, µs) of the rollup in Iceberg by the source's current rows of those windows, in
 * ONE commit: the data files holding any of them are rewritten (their other windows kept as they are, read back by
 * ClickHouse from exactly those files) with the windows' rows taken from the source. An `overwrite` snapshot; an
 * `append` when none of the windows had rows in Iceberg yet; a `delete` when the source no longer has them.
 * Returns null when beforeSwap abandoned the commit.
 */
export async function rewriteWindows(deps: ActivityDeps, live: Attempt, guard: LockGuard, r: Rollup, table: LoadedTable, windows: bigint[], o: RewriteOptions): Promise<Committed | null> {
  const sorted = [...windows].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const removed = await filesHolding(deps, table, r, sorted);
  const { select, evolved } = sourceSchema(r.cfg, r.columns, table.metadata);
  if (evolved) throw new BadRequestError(`restating windows of ${r.cfg.name}: its source ${r.cfg.source} has columns the Iceberg table does not; run "coldtier offload --tables ${r.cfg.name}" first`);
  const cols = r.columns.map((c) => quote(c.name)).join(', ');
  const set = windowSet(r, sorted, 'restated');
  const params = set.params;
  const inSet = `${windowMicros(r)} IN ${set.sql}`;
  const parts = [`SELECT ${cols} FROM ${r.src} WHERE ${inSet}`];
  if (removed.length) {
    const access = await warehouse(deps, live);
    parts.push(`SELECT ${cols} FROM ${dataFilesFunction(removed.map((f) => f.file_path), access, structureOf(r))} WHERE NOT (${inSet})`);
  }
  const rows = await live.ch.arrow(`SELECT ${select.join(', ')} FROM (${parts.join(' UNION ALL ')})${batchOrderBy(r.cfg)} SETTINGS ${DATA_FILES_SETTINGS}`, params);
  live.throwIfStopped();
  const added = rows.numRows ? await writeDataFiles(live.io, table.metadata, rows) : [];
  if (!added.length && !removed.length) return null;
  const startingSnapshotId = currentSnapshot(table.metadata)?.['snapshot-id'] ?? null;
  return deleteOnFailure(deps.io, added, async () => {
    guard.assertHeld();
    const done = await casCommit(deps.pool, deps.io, r.id, table, {
      prepare: (base) => (removed.length
        ? prepareReplace(deps.io, base, { added, removed, startingSnapshotId }, { operation: added.length ? 'overwrite' : 'delete', summary: o.summary })
        : prepareAppend(deps.io, base, added, { summary: o.summary })),
      beforeSwap: async (tx) => {
        await fenced(guard)(tx);
        return o.beforeSwap ? o.beforeSwap(tx) : true;
      },
    });
    if (!done) await deleteFiles(deps.io, added);
    return done;
  });
}

