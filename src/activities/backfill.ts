import { describeSource, qualified, quote } from '../clickhouse/client';
import { canonicalValue, missingRuns, sourceKeys } from '../clickhouse/keys';
import { batchOrderBy, keyParams, keyTuple, maxKey, paramTuple, watermarkKey } from '../clickhouse/range';
import { tableConfig, tableIdent, timeColumn } from '../config/lookup';
import type { TableConfig } from '../config/tables';
import type { LockGuard } from '../db/table-lock';
import { lockTable } from './lock';
import { readWatermark, type TableIdent } from '../db/watermarks';
import { loadTable, scanColumns, writeDataFiles } from '../iceberg';
import { commitAppend } from './commit';
import type { ActivityDeps } from './deps';
import { runAttempt, type Attempt } from './liveness';
import { BadRequestError } from './errors';
import { sourceSchema } from './tables';
import type { BackfillTableInput, BackfillTableResult } from './types';
import { hours, parseWindow } from './window';

/**
 * Re-offloads the rows of an event-time window that are in ClickHouse but not in Iceberg, hour by hour: an anti-join
 * on the watermark key between the source and the table's own files. Only rows at or below the highest committed
 * key are considered (rows above it belong to the regular offload), so backfill and offload never take the same row,
 * and running it twice adds nothing the second time.
 */
export async function backfillTable(deps: ActivityDeps, input: BackfillTableInput): Promise<BackfillTableResult> {
  const cfg = tableConfig(deps.settings, input.table);
  const window = parseWindow(`backfill of ${cfg.name}`, input.from, input.to);
  const id = tableIdent(deps.settings, cfg.name);
  return lockTable(deps, id, (guard) => runAttempt(deps, guard, (live) => backfillLocked(deps, live, guard, cfg, id, window, input)));
}

async function backfillLocked(deps: ActivityDeps, live: Attempt, guard: LockGuard, cfg: TableConfig, id: TableIdent, window: { from: Date; to: Date }, input: BackfillTableInput): Promise<BackfillTableResult> {
  const started = Date.now();
  const { pool } = deps;
  // Aborted when the attempt is cancelled or loses its lock.
  const { ch, io } = live;
  const result: BackfillTableResult = { table: cfg.name, from: window.from.toISOString(), to: window.to.toISOString(), rowsAdded: 0, files: 0, snapshotIds: [], repairedHours: [], durationMs: 0 };
  let table = await loadTable(pool, io, id);
  const wm = await readWatermark(pool, id);
  if (!table || !wm) throw new BadRequestError(`backfill of ${cfg.name}: the table has never been offloaded; run "coldtier offload --tables ${cfg.name}" first`);
  const src = qualified(ch, cfg.source).sql;
  const columns = await describeSource(ch, cfg.name, cfg.source);
  const key = watermarkKey(cfg, columns);
  const upper = (await maxKey(ch, key, wm.values, wm.committedTo))!;
  const time = timeColumn(cfg);
  const { select } = sourceSchema(cfg, columns, table.metadata);
  const timeType = columns.find((c) => c.name === time)?.type;
  if (!timeType) throw new BadRequestError(`backfill of ${cfg.name}: timeColumn ${time} is not a column of ${cfg.source}`);

  for (const [fromMs, toMs] of hours(window)) {
    live.throwIfStopped();
    const hourWhere = `${quote(time)} >= fromUnixTimestamp64Milli({hf:Int64}) AND ${quote(time)} < fromUnixTimestamp64Milli({ht:Int64}) AND ${keyTuple(key)} <= ${paramTuple(key, 'u')}`;
    const hourParams = { hf: fromMs, ht: toMs, ...keyParams('u', upper) };
    const keys = await sourceKeys(ch, src, key, hourWhere, hourParams);
    const present = new Set<string>();
    for await (const part of scanColumns(io, table.metadata, { columns: key.columns, filter: { column: time, fromMs, toMs } })) {
      const vectors = key.columns.map((c) => part.getChild(c)!);
      for (let r = 0; r < part.numRows; r++) present.add(vectors.map((v) => canonicalValue(v.get(r))).join('\u0001'));
    }
    const runs = missingRuns(keys, present);
    if (!runs.length) continue;
    const missing = runs.reduce((a, r) => a + r.count, 0);
    // Each run of consecutive missing keys becomes one key range; rows are read once, ordered like an offload batch.
    const ranges = runs.map((_, i) => `(${keyTuple(key)} >= ${paramTuple(key, `a${i}_`)} AND ${keyTuple(key)} <= ${paramTuple(key, `b${i}_`)})`);
    const rangeParams = Object.assign({}, ...runs.map((r, i) => ({ ...keyParams(`a${i}_`, r.first), ...keyParams(`b${i}_`, r.last) })));
    const rows = await ch.arrow(`SELECT ${select.join(', ')} FROM ${src} WHERE ${hourWhere} AND (${ranges.join(' OR ')})${batchOrderBy(cfg)}`, { ...hourParams, ...rangeParams });
    const files = await writeDataFiles(io, table.metadata, rows);
    const committed = await commitAppend(pool, io, table, {
      id,
      files,
      guard,
      summary: {
        'coldtier.backfill-window': `${new Date(fromMs).toISOString()}/${new Date(toMs).toISOString()}`,
        'coldtier.backfill-reason': input.reason ?? 'backfill',
        'coldtier.source': cfg.source,
      },
    });
    table = committed.table;
    result.rowsAdded += rows.numRows;
    result.files += files.length;
    result.snapshotIds.push(committed.prepared.snapshotId.toString());
    result.repairedHours.push({ hour: new Date(fromMs).toISOString(), clickhouse: keys.length, iceberg: keys.length - missing, added: rows.numRows });
  }
  result.durationMs = Date.now() - started;
  return result;
}
