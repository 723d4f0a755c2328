// The differential pruning test's machinery, shared by the in-suite readers (pruning.test.ts) and Spark
// (test/spark/): build the Iceberg tables from the edge table, ask each reader every predicate, and compare each
// answer with ClickHouse's over the source. Known reader bugs are listed with their upstream issue: a mismatch
// that matches one is expected, and one that no longer shows is reported so the workaround can be revisited.

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeWithClickHouse } from '../../src/activities/offload/clickhouse-write';
import type { ClickHouse } from '../../src/clickhouse/client';
import { icebergSchemaFromClickHouse } from '../../src/clickhouse/schema/from-clickhouse';
import { toolsDir, venvBinDir } from '../../src/devstack/tools';
import { createFileIO, newTableLocation, newTableMetadata, prepareAppend, writeDataFiles, type DataFile, type TableMetadata } from '../../src/iceberg';
import { randomName, tempDir, warehouseDir } from '../iceberg/helpers';
import { EDGE_COLUMNS, edgeTableDdl, edgeTableInsert, FILES, ROWS_PER_FILE } from './edge-table';
import { predicatesFor, render, type Engine, type Predicate } from './predicates';

const io = createFileIO({});
export type Answer = [rows: number, sumK: number, files?: number, error?: string];

export interface EdgeTable {
  /** 'default' (coldtier's defaults) or 'opted-in' (OPT_IN: the reader workarounds off). */
  name: 'default' | 'opted-in';
  meta: TableMetadata;
  metadataUri: string;
  files: number;
}

/** Every reader workaround of docs/interop.md turned off (each table property set back to what readers would expect). */
export const OPT_IN = { 'coldtier.write.uuid-bounds': 'true', 'coldtier.write.parquet.float-dictionary': 'true', 'coldtier.write.parquet.nan-float-statistics': 'true' };

/**
 * The source table in ClickHouse and two Iceberg tables of it, FILES small files each, even files encoded by
 * ClickHouse and odd ones by the Arrow path, appended six files per snapshot (several manifests).
 */
export async function buildEdgeTables(ch: ClickHouse): Promise<{ source: string; tables: EdgeTable[] }> {
  const source = randomName('edge');
  await ch.command(edgeTableDdl(source));
  await ch.command(edgeTableInsert(source));
  const cols = await ch.json<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position`, { t: source });
  const { schema, select } = icebergSchemaFromClickHouse(source, cols);
  const warehouse = `file://${warehouseDir('pruning')}`;
  const tables: EdgeTable[] = [];
  for (const [name, properties] of [['default', {}], ['opted-in', OPT_IN]] as const) {
    const meta = newTableMetadata({ location: newTableLocation(warehouse, 'cold', `${source}_${name.replace('-', '_')}`), schema, sortBy: [{ sourceColumn: 'k' }], properties });
    let committed = { metadata: meta, metadataUri: null as string | null };
    let pending: DataFile[] = [];
    for (let j = 0; j < FILES; j++) {
      const where = { sql: `intDiv(k, ${ROWS_PER_FILE}) = {j:UInt32}`, params: { j: String(j) } };
      if (j % 2 === 0) {
        const out = await writeWithClickHouse(ch, io, committed.metadata, { table: source, src: `\`default\`.\`${source}\``, select, where, sortBy: ['k'], uniqueKey: ['k'], schema, targetFileSizeBytes: 128 << 20, sortOrderId: 1 });
        pending.push(...out.files);
      } else {
        pending.push(...(await writeDataFiles(io, committed.metadata, await ch.arrow(`SELECT ${select.join(', ')} FROM ${source} WHERE ${where.sql} ORDER BY k`, where.params), { sortOrderId: 1 })));
      }
      if (pending.length === 6 || j === FILES - 1) {
        committed = await prepareAppend(io, committed, pending, {});
        pending = [];
      }
    }
    tables.push({ name, meta: committed.metadata, metadataUri: committed.metadataUri!, files: FILES });
  }
  return { source, tables };
}

export const PREDICATES: Predicate[] = EDGE_COLUMNS.flatMap(predicatesFor);

/** The predicates asked of a table: all on the default table; on the opted-in one, those the workarounds concern. */
export function predicatesOf(t: EdgeTable['name']): Predicate[] {
  return t === 'default' ? PREDICATES : PREDICATES.filter((p) => ['uuid', 'float', 'double'].includes(p.col.kind));
}

/** ClickHouse's answers over the source table: the truth. */
export async function sourceAnswers(ch: ClickHouse, source: string): Promise<Map<string, Answer>> {
  const out = new Map<string, Answer>();
  for (const p of PREDICATES) {
    const [r] = await ch.json<{ cnt__: string; sumk__: string }>(`SELECT toString(count()) AS cnt__, toString(sum(k)) AS sumk__ FROM ${source} WHERE ${render(p, 'source')}`);
    out.set(p.id, [Number(r!.cnt__), Number(r!.sumk__)]);
  }
  return out;
}

/** chDB (in-process ClickHouse) reading the Iceberg table with icebergLocal, manifest and row-group pruning on. */
export async function chdbAnswers(ch: ClickHouse, t: EdgeTable): Promise<Map<string, Answer>> {
  const out = new Map<string, Answer>();
  const path = t.meta.location.slice('file://'.length);
  for (const p of predicatesOf(t.name)) {
    try {
      const [r] = await ch.json<{ cnt__: string; sumk__: string }>(
        `SELECT toString(count()) AS cnt__, toString(sum(k)) AS sumk__ FROM icebergLocal('${path}') WHERE ${render(p, 'chdb')} SETTINGS use_iceberg_partition_pruning = 1, input_format_parquet_filter_push_down = 1`,
      );
      out.set(p.id, [Number(r!.cnt__), Number(r!.sumk__)]);
    } catch (err) {
      out.set(p.id, [-1, -1, undefined, (err instanceof Error ? err.message : String(err)).slice(0, 300)]);
    }
  }
  return out;
}

/** A job for test/interop/readers.py (its format is described there). */
export interface ReaderJob {
  tables: Array<{ name: string; metadata?: string; ident?: string; predicates: Array<{ id: string; text: string }> }>;
  catalog?: { name: string; uri: string; user: string; password: string; warehouse: string };
  before?: string[];
}

/** Runs one reader of test/interop/readers.py over `job`: answers per table name (and `_before` rows for Spark). */
export async function runReader(engine: Exclude<Engine, 'source' | 'chdb'>, job: ReaderJob): Promise<Record<string, unknown>> {
  const path = join(tempDir(`job-${engine}`), 'job.json');
  writeFileSync(path, JSON.stringify(job));
  const { stdout } = await promisify(execFile)(join(venvBinDir(), 'python'), [join(import.meta.dirname, 'readers.py'), engine, path], {
    maxBuffer: 64 << 20,
    env: { ...process.env, COLDTIER_JARS_DIR: join(toolsDir(), 'jars'), PYSPARK_PYTHON: join(venvBinDir(), 'python') },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** A reader of test/interop/readers.py (PyIceberg, DuckDB or Spark) over the edge tables, all in one process. */
export async function pythonAnswers(engine: Exclude<Engine, 'source' | 'chdb'>, tables: EdgeTable[]): Promise<Map<string, Map<string, Answer>>> {
  const text = (p: Predicate) => render(p, engine);
  const all = await runReader(engine, { tables: tables.map((t) => ({ name: t.name, metadata: t.metadataUri.replace(/^file:\/\//, ''), predicates: predicatesOf(t.name).map((p) => ({ id: p.id, text: text(p) })) })) });
  return new Map(tables.map((t) => [t.name, new Map(Object.entries(all[t.name] as Record<string, Answer>))]));
}

/** A known reader bug: which answers it spoils (on which table), and where it is tracked upstream. */
export interface KnownBug {
  engine: Engine;
  /** @default both tables */
  table?: EdgeTable['name'];
  issue: string;
  /** Predicates it may answer wrongly (too few rows). */
  affects: (p: Predicate) => boolean;
}

export interface Mismatch {
  engine: Engine;
  table: string;
  predicate: Predicate;
  got: Answer;
  want: Answer;
  bug?: KnownBug;
}

export function compare(engine: Engine, table: EdgeTable['name'], got: Map<string, Answer>, want: Map<string, Answer>, known: KnownBug[]): Mismatch[] {
  const out: Mismatch[] = [];
  for (const p of predicatesOf(table)) {
    const g = got.get(p.id);
    const w = want.get(p.id)!;
    if (g && g[0] === w[0] && g[1] === w[1]) continue;
    const bug = known.find((b) => b.engine === engine && (b.table ?? table) === table && b.affects(p));
    out.push({ engine, table, predicate: p, got: g ?? [-1, -1], want: w, ...(bug ? { bug } : {}) });
  }
  return out;
}

export const describe = (m: Mismatch) => `${m.engine} on ${m.table}: WHERE ${render(m.predicate, m.engine === 'source' ? 'source' : m.engine)} → ${m.got[3] ? `error ${m.got[3]}` : `${m.got[0]} rows (sum k ${m.got[1]})`}, ClickHouse over the source: ${m.want[0]} (${m.want[1]})${m.bug ? ` [known: ${m.bug.issue}]` : ''}`;
