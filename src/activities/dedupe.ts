import type { Table } from 'apache-arrow';
import { ConfigError } from '../config/errors';
import { tableConfig, tableIdent, timeColumn } from '../config/lookup';
import { lockTable } from './lock';
import { casCommit, currentSchema, loadTable, planScanFiles, prepareReplace, readDataFile, writeDataFiles, type DataFile } from '../iceberg';
import { deleteOnFailure, fenced } from './commit';
import { activityIdentity } from './context';
import type { ActivityDeps } from './deps';
import { runAttempt } from './liveness';
import type { DedupeTableInput, DedupeTableResult } from './types';
import { parseWindow } from './window';

const HOUR = 3_600_000;

/**
 * Removes duplicated rows of an event-time window (what the audit reports as duplicate_data) in ONE commit: the data
 * files holding a second copy of a row key (the watermark columns plus the sort columns, as the audit counts them) are
 * rewritten without it, copy-on-write, and swapped in by an Iceberg `delete` snapshot under the table lock and the
 * fenced commit. The first copy in the scan order is kept. Idempotent: a retry (or a second run) finds no duplicates
 * and commits nothing.
 */
export async function dedupeTable(deps: ActivityDeps, input: DedupeTableInput): Promise<DedupeTableResult> {
  const cfg = tableConfig(deps.settings, input.table);
  const w = parseWindow(`duplicate removal of ${cfg.name}`, input.from, input.to);
  const id = tableIdent(deps.settings, cfg.name);
  const started = Date.now();
  const result: DedupeTableResult = { table: cfg.name, from: w.from.toISOString(), to: w.to.toISOString(), rowsRemoved: 0, filesRewritten: 0, filesAdded: 0, snapshotId: null, hours: [], durationMs: 0 };
  return lockTable(deps, id, (guard) => runAttempt(deps, guard, async (live) => {
    const table = await loadTable(deps.pool, live.io, id);
    if (!table) return { ...result, durationMs: Date.now() - started };
    const schema = currentSchema(table.metadata);
    const time = timeColumn(cfg);
    const keyCols = [...new Set([...cfg.watermark, ...cfg.sortBy])];
    // A narrower key would take distinct rows for copies: refuse rather than drop what is not duplicated.
    const absent = keyCols.filter((c) => !schema.fields.some((f) => f.name === c));
    if (absent.length) throw new ConfigError(`repair of ${cfg.name}: its row key (watermark + sortBy) has ${absent.join(', ')}, which the Iceberg table does not; fix watermark/sortBy in the table registry, or offload the column first`);
    const fromUs = BigInt(w.from.getTime()) * 1000n;
    const toUs = BigInt(w.to.getTime()) * 1000n;
    const files = await planScanFiles(live.io, table.metadata, { filter: { column: time, fromMs: w.from.getTime(), toMs: w.to.getTime() } });
    const seen = new Set<string>();
    const drops = new Map<DataFile, number[]>();
    const perHour = new Map<number, number>();
    // Pass 1: the row keys of every file that may hold rows of the window; a key seen before is a copy to drop.
    for (const f of files) {
      live.throwIfStopped();
      const t = await readDataFile(live.io, f.file_path, schema.fields.filter((x) => keyCols.includes(x.name) || x.name === time));
      const vectors = keyCols.map((c) => t.getChild(c)!);
      const tv = t.getChild(time)!;
      for (let r = 0; r < t.numRows; r++) {
        const us = micros(tv.get(r));
        if (us === null || us < fromUs || us >= toUs) continue;
        const k = vectors.map((v) => canonical(v.get(r))).join('\u0001');
        if (!seen.has(k)) {
          seen.add(k);
          continue;
        }
        (drops.get(f) ?? drops.set(f, []).get(f)!).push(r);
        const h = Math.floor(Number(us / 1000n) / HOUR) * HOUR;
        perHour.set(h, (perHour.get(h) ?? 0) + 1);
      }
    }
    if (!drops.size) return { ...result, durationMs: Date.now() - started };
    // Pass 2: each affected file rewritten without its copies (a file of copies only is just removed).
    const added: DataFile[] = [];
    await deleteOnFailure(deps.io, added, async () => {
      for (const [f, rows] of drops) {
        live.throwIfStopped();
        const kept = without(await readDataFile(live.io, f.file_path, schema.fields), rows);
        if (kept) added.push(...(await writeDataFiles(live.io, table.metadata, kept)));
        live.beat({ table: cfg.name, stage: 'dedupe', files: added.length });
      }
      const done = await casCommit(deps.pool, deps.io, id, table, {
        prepare: (base) => prepareReplace(deps.io, base, { added, removed: [...drops.keys()], startingSnapshotId: table.metadata['current-snapshot-id'] ?? null }, {
          operation: 'delete',
          summary: { 'coldtier.maintenance-id': activityIdentity(cfg.name).id, 'coldtier.dedupe-window': `${result.from}/${result.to}` },
        }),
        beforeSwap: fenced(guard),
      });
      result.snapshotId = done!.prepared.snapshotId.toString();
    });
    result.rowsRemoved = [...drops.values()].reduce((a, r) => a + r.length, 0);
    result.filesRewritten = drops.size;
    result.filesAdded = added.length;
    result.hours = [...perHour].sort((a, b) => a[0] - b[0]).map(([h, removed]) => ({ hour: new Date(h).toISOString(), removed }));
    return { ...result, durationMs: Date.now() - started };
  }), 'maintenance');
}

/** A timestamp value as µs (apache-arrow gives float ms for Timestamp vectors, bigint µs for Int64). */
function micros(v: unknown): bigint | null {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.round(v * 1000));
  return null;
}

function canonical(v: unknown): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return v === null || v === undefined ? '\u0000' : String(v);
}

/** `t` without the rows at `drop` (ascending), or null when nothing is left. */
function without(t: Table, drop: number[]): Table | null {
  const parts: Table[] = [];
  let start = 0;
  for (const d of drop) {
    if (d > start) parts.push(t.slice(start, d));
    start = d + 1;
  }
  if (start < t.numRows) parts.push(t.slice(start));
  return parts.length ? parts[0]!.concat(...parts.slice(1)) : null;
}
