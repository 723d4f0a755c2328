// Shared pieces of the fault suite (test/faults/*.test.ts): a harness around the real stack with chDB behind its
// HTTP gateway (so `coldtier worker` processes share it), worker processes that can be paused at a fault point and
// SIGKILLed, an independent census of the table's files, and the one-line result every scenario prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type pg from 'pg';
import { stringify } from 'yaml';
import { loadTable } from '../../src/iceberg';
import { startChdbGateway, type ChdbGateway } from '../../src/clickhouse/chdb-gateway';
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/client';
import type { Settings } from '../../src/config/settings';
import type { TableConfigInput } from '../../src/config/tables';
import { migrate } from '../../src/db/migrations';
import { openPool } from '../../src/db/pool';
import type { TableIdent } from '../../src/db/watermarks';
import { listDataFiles, normalizeUri, readManifestEntries, readManifestList, type FileIO, type ManifestFile } from '../../src/iceberg';
import { EntryStatus } from '../../src/iceberg/spec/manifest';
import { openFileIO } from '../../src/activities/deps';
import { connectClient } from '../../src/temporal/connection';
import { cliEnv, fingerprint, icebergFunction, makeTestEnv, type Fingerprint, type LAYER_COLUMNS, type TestEnv } from '../helpers/coldtier';
import { BIN } from '../helpers/processes';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value (errors count as "not yet"), or fails naming `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, ms = 120_000, every = 100): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(every);
  }
}

export interface WorkerOptions {
  /** Extra `coldtier worker` options. */
  args?: string[];
  /** Options for node itself (V8 flags such as --trace-gc, which NODE_OPTIONS does not accept). */
  nodeArgs?: string[];
}

/** A `coldtier worker` process. */
export interface WorkerProcess {
  child: ChildProcess;
  identity: string;
  output(): string;
  /** Resolves with the first match of `re` in the worker's output (stdout + stderr). */
  waitFor(re: RegExp, ms?: number): Promise<RegExpExecArray>;
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Resident set size of the worker process (VmRSS in /proc/<pid>/status), in KiB. */
  rssKb(): number;
}

/**
 * Starts `node bin/coldtier.mjs worker` and waits until it polls its task queue. `extra` adds environment variables,
 * e.g. COLDTIER_FAULT_PAUSE=before-commit to make it stop (and print "coldtier-fault-point …") at that point.
 */
export async function startWorker(vars: NodeJS.ProcessEnv, identity: string, extra: Record<string, string> = {}, opts: WorkerOptions = {}, ms = 120_000): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, 'worker', '--identity', identity, ...(opts.args ?? [])], {
    env: { ...vars, COLDTIER_LOG_LEVEL: 'WARN', ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let seen = '';
  const listeners = new Set<() => void>();
  const on = (b: Buffer) => {
    seen += b.toString();
    for (const l of listeners) l();
  };
  child.stdout.on('data', on);
  child.stderr.on('data', on);
  const waitForOut = (re: RegExp, timeout = 120_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(seen);
        if (!m) return;
        cleanup();
        resolve(m);
      };
      const exited = (code: number | null, signal: string | null) => {
        cleanup();
        reject(new Error(`worker ${identity} exited (${code ?? signal}) before printing ${re}:\n${seen}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`worker ${identity} did not print ${re} in ${timeout} ms:\n${seen}`));
      }, timeout);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
        child.off('exit', exited);
      };
      listeners.add(check);
      child.once('exit', exited);
      check();
    });
  await waitForOut(/polling task queue/, ms);
  return {
    child,
    identity,
    output: () => seen,
    waitFor: waitForOut,
    kill: async (signal) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
    rssKb: () => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : NaN;
    },
  };
}

/**
 * Runs `node bin/coldtier.mjs <args>` without blocking this process (spawnSync would also block the chDB gateway this
 * process serves, and a CLI that queries ClickHouse would wait for it forever).
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv, ms = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`coldtier ${args.join(' ')} did not finish in ${ms} ms:\n${stdout}\n${stderr}`));
    }, ms);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Harness {
  env: TestEnv;
  settings: Settings;
  tag: string;
  /** Environment of a `coldtier` process (worker or CLI) with these settings. */
  vars: NodeJS.ProcessEnv;
  configPath: string;
  gateway: ChdbGateway;
  ch: ClickHouse;
  pool: pg.Pool;
  io: FileIO;
  client: Client;
  taskQueue: string;
  id(table: string): TableIdent;
  /** The independent reader's table function (chDB icebergS3 / icebergLocal). */
  ice(table: string): string;
  /** A `coldtier worker` process with these settings (killed by close()). */
  startWorker(identity: string, extra?: Record<string, string>, opts?: WorkerOptions): Promise<WorkerProcess>;
  close(): Promise<void>;
}

/**
 * A test environment (own Postgres database, catalog, task queue, warehouse prefix, chDB directory) whose chDB is
 * served by a gateway, so worker processes, CLI processes and the test all reach the same source tables.
 * `override` may point the settings at a private stack (fault tests that stop MinIO or Postgres).
 */
export async function harness(opts: { tables: (tag: string) => TableConfigInput[]; warehouse?: 's3' | 'file'; override?: (s: Settings) => void }): Promise<Harness> {
  const env = await makeTestEnv({ warehouse: opts.warehouse ?? 's3', tables: opts.tables });
  const { settings } = env;
  opts.override?.(settings);
  const gateway = await startChdbGateway({ path: env.chdbPath });
  settings.clickhouse.url = gateway.url;
  const configPath = join(env.dir, 'coldtier.config.yaml');
  writeFileSync(configPath, stringify({ tables: settings.tables }));
  const vars = cliEnv(env, configPath);
  const ch = await openClickHouse(settings.clickhouse);
  const pool = await openPool(settings.databaseUrl);
  await migrate(pool);
  const io = await openFileIO(settings);
  const client = await connectClient(settings.temporal);
  const workers: WorkerProcess[] = [];
  let gw = gateway;
  const h: Harness = {
    env,
    settings,
    tag: env.tag,
    vars,
    configPath,
    get gateway() {
      return gw;
    },
    set gateway(g: ChdbGateway) {
      gw = g;
    },
    ch,
    pool,
    io,
    client,
    taskQueue: settings.temporal.taskQueue,
    id: (table) => ({ catalog: settings.catalog.name, namespace: settings.catalog.namespace, table }),
    ice: (table) => icebergFunction(env, table),
    startWorker: async (identity, extra = {}, opts = {}) => {
      const w = await startWorker(vars, `${identity}-${env.tag}`, extra, opts);
      workers.push(w);
      return w;
    },
    close: async () => {
      for (const w of workers) await w.kill('SIGKILL');
      await client.connection.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await ch.close().catch(() => undefined);
      await gw.close().catch(() => undefined);
    },
  };
  return h;
}

export interface Census {
  /** Data files under <table>/data/ that no snapshot of the current metadata references (uncommitted leftovers). */
  orphaned: string[];
  /** Files the current metadata references (metadata, manifest lists, manifests, data files) that do not exist. */
  missing: string[];
  snapshots: number;
  liveDataFiles: number;
}

/**
 * What is on storage versus what the table's current metadata references, listed independently of the writer's
 * own bookkeeping: io.list over the table location against every snapshot's manifest list, manifests and files.
 * Each distinct manifest is read once (a snapshot's list repeats its parent's manifests), so this stays linear in
 * the number of commits.
 */
export async function census(h: Pick<Harness, 'pool' | 'io' | 'settings'>, table: string): Promise<Census> {
  const { settings, io } = h;
  const t = await loadTable(h.pool, io, { catalog: settings.catalog.name, namespace: settings.catalog.namespace, table });
  const location = t?.metadata.location ?? `${settings.warehouse}/${settings.catalog.namespace}/${table}`;
  const listed = new Set((await io.list(location)).map((f) => normalizeUri(f.uri)));
  const dataPrefix = normalizeUri(`${location}/data/`);
  const referencedData = new Set<string>();
  const missing: string[] = [];
  const expect = (uri: string) => {
    if (!listed.has(normalizeUri(uri))) missing.push(uri);
  };
  let liveDataFiles = 0;
  if (t) {
    expect(t.metadataUri);
    const manifests = new Map<string, ManifestFile>();
    for (const s of t.metadata.snapshots) {
      expect(s['manifest-list']);
      try {
        for (const mf of await readManifestList(io, s)) manifests.set(mf.manifest_path, mf);
      } catch (err) {
        missing.push(`manifest list of snapshot ${s['snapshot-id']}: ${(err as Error).message}`);
      }
    }
    for (const mf of manifests.values()) {
      expect(mf.manifest_path);
      try {
        // A data file is referenced while a reachable manifest holds it as added or existing (not as deleted).
        for (const e of await readManifestEntries(io, t.metadata, mf)) {
          if (e.status === EntryStatus.DELETED) continue;
          referencedData.add(normalizeUri(e.data_file.file_path));
          expect(e.data_file.file_path);
        }
      } catch (err) {
        missing.push(`manifest ${mf.manifest_path}: ${(err as Error).message}`);
      }
    }
    liveDataFiles = (await listDataFiles(io, t.metadata)).length;
  }
  const orphaned = [...listed].filter((u) => u.startsWith(dataPrefix) && !referencedData.has(u));
  return { orphaned, missing: [...new Set(missing)], snapshots: t?.metadata.snapshots.length ?? 0, liveDataFiles };
}

export interface Comparison {
  source: Fingerprint;
  cold: Fingerprint;
  duplicates: number;
}

/** Fingerprints of the ClickHouse source and of the Iceberg table read by chDB's own Iceberg reader. */
export async function compare(h: Pick<Harness, 'ch' | 'ice'>, table: string, layer: keyof typeof LAYER_COLUMNS = 'bronze', source = table): Promise<Comparison> {
  const sourceFp = await fingerprint(h.ch, source, layer);
  const cold = await fingerprint(h.ch, h.ice(table), layer);
  return { source: sourceFp, cold, duplicates: Number(cold.n) - Number(cold.keys) };
}

export interface ReliabilityLine {
  scenario: string;
  faults: string;
  expected: number | string;
  found: number | string;
  duplicates: number | string;
  orphaned: number | string;
}

/**
 * Prints the scenario's one result line, `scenario | faults injected | rows expected/found | duplicates | files
 * orphaned`, and appends it to $COLDTIER_RELIABILITY_OUT when set (docs/reliability.md is written from these).
 */
export function report(r: ReliabilityLine): string {
  const line = `${r.scenario} | ${r.faults} | ${r.expected}/${r.found} | ${r.duplicates} | ${r.orphaned}`;
  console.log(`reliability: ${line}`);
  if (process.env.COLDTIER_RELIABILITY_OUT) appendFileSync(process.env.COLDTIER_RELIABILITY_OUT, `${line}\n`);
  return line;
}

/** The JSON heartbeat details of the workflow's pending activities (what a retry would see). */
export async function pendingHeartbeats(handle: WorkflowHandle): Promise<unknown[]> {
  const d = await handle.describe();
  return (d.raw.pendingActivities ?? []).flatMap((a) => (a.heartbeatDetails?.payloads ?? []).map((p) => JSON.parse(Buffer.from(p.data ?? new Uint8Array()).toString('utf8')) as unknown));
}

/** Highest attempt number each activity type reached, from the workflow history. */
export async function activityAttempts(handle: WorkflowHandle): Promise<Map<string, number>> {
  const types = new Map<string, string>();
  const attempts = new Map<string, number>();
  for (const e of (await handle.fetchHistory()).events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name) types.set(String(e.eventId), s.activityType.name);
    const st = e.activityTaskStartedEventAttributes;
    if (st) {
      const type = types.get(String(st.scheduledEventId)) ?? '?';
      attempts.set(type, Math.max(attempts.get(type) ?? 0, st.attempt ?? 1));
    }
  }
  return attempts;
}

/** Highest attempt number of each table's offload activity (by the `table` of its input), from the workflow history. */
export async function attemptsByTable(handle: WorkflowHandle): Promise<Map<string, number>> {
  const tables = new Map<string, string>();
  const attempts = new Map<string, number>();
  for (const e of (await handle.fetchHistory()).events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    const payload = s?.input?.payloads?.[0]?.data;
    if (s && payload) {
      const input = JSON.parse(Buffer.from(payload).toString('utf8')) as { table?: string };
      if (input.table) tables.set(String(e.eventId), input.table);
    }
    const st = e.activityTaskStartedEventAttributes;
    const table = st ? tables.get(String(st.scheduledEventId)) : undefined;
    if (st && table) attempts.set(table, Math.max(attempts.get(table) ?? 0, st.attempt ?? 1));
  }
  return attempts;
}

/** Rows of a ClickHouse table. */
export async function sourceCount(ch: ClickHouse, table: string): Promise<number> {
  const [r] = await ch.json<{ n: string }>(`SELECT toString(count()) AS n FROM ${table}`);
  return Number(r?.n ?? 0);
}
