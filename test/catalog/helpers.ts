// Helpers of test/catalog-server.test.ts: start `coldtier catalog` as a real process, run the Python readers from
// the venv that scripts/ensure-tools.sh installs, and compute over the ClickHouse source what they compute.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClickHouse } from '../../src/clickhouse/client';
import { venvBinDir } from '../../src/devstack/tools';
import { getFreePort } from '../../src/devstack/ports';
import { cliEnv, type TestEnv } from '../helpers/coldtier';

export const python = join(venvBinDir(), 'python');
const BIN = join(process.cwd(), 'bin', 'coldtier.mjs');

export interface CatalogProcess {
  url: string;
  proc: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Starts `coldtier catalog --port <free>` (or `args` followed by the port, e.g. `worker --catalog-port`) and waits
 * (generously) for the line saying where the REST catalog listens.
 */
export async function startCatalogProcess(env: TestEnv, token: string, extraEnv: Record<string, string> = {}, args?: string[]): Promise<CatalogProcess> {
  const configPath = join(env.dir, 'catalog.config.json');
  writeFileSync(configPath, '{}');
  const port = await getFreePort();
  const proc = spawn(process.execPath, [BIN, ...(args ?? ['catalog', '--port']), String(port)], {
    env: { ...cliEnv(env, configPath), COLDTIER_CATALOG_TOKENS: token, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coldtier catalog did not start within 120 s:\n${out}`)), 120_000);
    proc.stdout.on('data', () => {
      const m = /REST catalog on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`coldtier catalog exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    proc,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

export interface ReaderTable {
  name: string;
  key: string[];
  sums: string[];
}
export interface Facts {
  rows: number;
  keyHash: string;
  sums: Record<string, string>;
}

/** Runs test/catalog/rest_readers.py in `mode` (pyiceberg | duckdb | pyiceberg-writes). */
export async function restReaders<T>(mode: string, cfg: Record<string, unknown>, env: Record<string, string> = {}): Promise<T> {
  const { stdout } = await promisify(execFile)(python, [join('test', 'catalog', 'rest_readers.py'), JSON.stringify({ mode, ...cfg })], {
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
  return JSON.parse(stdout) as T;
}

/** What the readers compute, computed by ClickHouse over the source: rows, sha256 of the sorted keys, exact sums. */
export async function sourceFacts(ch: ClickHouse, table: string, c: ReaderTable, where = '1'): Promise<Facts> {
  const types = new Map((await ch.json<{ name: string; type: string }>(`DESCRIBE ${table}`)).map((r) => [r.name, r.type]));
  const keyExpr = c.key.map((k) => (types.get(k)!.includes('DateTime64') ? `toString(toUnixTimestamp64Micro(${k}))` : `toString(${k})`));
  const [row] = await ch.json<Record<string, string>>(`SELECT toString(count()) AS rows,
    lower(hex(SHA256(arrayStringConcat(arraySort(groupArray(concatWithSeparator('|', ${keyExpr.join(', ')}))), '\n')))) AS keyHash,
    ${c.sums.map((n) => `toString(sum(${n})) AS sum_${n}`).join(', ')} FROM ${table} WHERE ${where}`);
  return { rows: Number(row!.rows), keyHash: row!.keyHash!, sums: Object.fromEntries(c.sums.map((n) => [n, row![`sum_${n}`]!])) };
}

/** Every catalog row of the test's Postgres, to prove a refused request changed nothing. */
export async function catalogRows(pool: { query: (sql: string) => Promise<{ rows: unknown[] }> }): Promise<string> {
  const t = await pool.query('SELECT * FROM iceberg_tables ORDER BY catalog_name, table_namespace, table_name');
  const n = await pool.query('SELECT * FROM iceberg_namespace_properties ORDER BY catalog_name, namespace, property_key');
  return JSON.stringify([t.rows, n.rows]);
}
