// A throwaway PostgreSQL server: initdb into <stack>/postgres/data, TCP on 127.0.0.1 only, password auth.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { StackStartError } from './errors';
import { getFreePort } from './ports';
import { ManagedProcess, looksLikePortClash, waitUntilReady } from './process';
import { findTool } from './tools';
import type { PostgresHandle, Started } from './types';

export interface PostgresOptions {
  dir: string;
  port?: number;
  log: (msg: string) => void;
}

const SUPERUSER = 'postgres';
const READY_TIMEOUT_MS = 60_000;

interface RunAs {
  uid: number;
  gid: number;
  user: string;
}

/** initdb/postgres refuse to run as root: run them as the `postgres` user (or COLDTIER_PG_USER) then. */
function runAsUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const user = process.env.COLDTIER_PG_USER ?? 'postgres';
  try {
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid === 0) throw new Error(`user ${user} is root`);
    return { uid, gid, user };
  } catch {
    throw new StackStartError(
      'postgres',
      `PostgreSQL cannot run as root and there is no '${user}' system user to run it as.\n` +
        `Create one: useradd --system --no-create-home --shell /usr/sbin/nologin ${user}\n` +
        `(bash scripts/ensure-tools.sh does this; or set COLDTIER_PG_USER to another non-root user).`,
    );
  }
}

/** Whether `user` can reach `path` (every ancestor must be searchable by others, or owned by it). */
function traversable(path: string, uid: number): boolean {
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    const st = statSync(dir);
    if (!(st.mode & 0o001) && st.uid !== uid) return false;
    if (dirname(dir) === dir) return true;
  }
}

function pgEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', TZ: 'UTC' };
}

function runToLog(command: string, args: string[], logFile: string, runAs: RunAs | undefined): Promise<void> {
  const fd = openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(command, args, {
      env: pgEnv(),
      stdio: ['ignore', fd, fd],
      detached: true, // like the servers: a terminal Ctrl-C is for the parent to handle
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });
    return new Promise((resolveRun, rejectRun) => {
      child.once('error', rejectRun);
      child.once('exit', (code, signal) =>
        code === 0 ? resolveRun() : rejectRun(new Error(`${command} exited with code ${code} signal ${signal}; see ${logFile}`)),
      );
    });
  } finally {
    closeSync(fd);
  }
}

async function querySelect1(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    const res = await client.query<{ one: number }>('SELECT 1 AS one');
    return res.rows[0]?.one === 1;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function startPostgres(opts: PostgresOptions): Promise<Started<PostgresHandle>> {
  const initdb = findTool('initdb');
  const postgresBin = findTool('postgres');
  const runAs = runAsUser();
  const serviceDir = join(opts.dir, 'postgres');
  const logFile = join(opts.dir, 'logs', 'postgres.log');
  rmSync(serviceDir, { recursive: true, force: true });
  mkdirSync(serviceDir, { recursive: true, mode: 0o700 });

  let dataParent = serviceDir;
  if (runAs) {
    chownSync(serviceDir, runAs.uid, runAs.gid);
    if (!traversable(serviceDir, runAs.uid)) {
      dataParent = mkdtempSync(join(tmpdir(), 'coldtier-pg-'));
      chownSync(dataParent, runAs.uid, runAs.gid);
      opts.log(`postgres: ${serviceDir} is not reachable by user ${runAs.user}; using ${dataParent} for the data directory`);
    }
  }
  const dataDir = join(dataParent, 'data');
  const password = randomBytes(18).toString('hex');

  // initdb reads the superuser password from a file; remove it right after.
  const pwfile = join(dataParent, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs) chownSync(pwfile, runAs.uid, runAs.gid);
  try {
    await runToLog(
      initdb,
      ['-D', dataDir, '-U', SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-instructions', '--no-sync'],
      logFile,
      runAs,
    );
  } catch (err) {
    throw new StackStartError('postgres', `initdb failed: ${(err as Error).message}`, logFile, { cause: err });
  } finally {
    rmSync(pwfile, { force: true });
  }

  const fixedPort = opts.port;
  let port = fixedPort ?? (await getFreePort());
  let proc: ManagedProcess | undefined;
  const urlFor = (db: string): string => `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}/${db}`;

  const launch = async (): Promise<void> => {
    const p = await ManagedProcess.spawn({
      name: 'postgres',
      command: postgresBin,
      args: [
        '-D', dataDir,
        '-p', String(port),
        '-c', 'listen_addresses=127.0.0.1',
        '-c', 'unix_socket_directories=',
        // Throwaway dev/test data: trade durability for speed.
        '-c', 'fsync=off',
        '-c', 'synchronous_commit=off',
        '-c', 'full_page_writes=off',
        '-c', 'max_connections=300',
        '-c', 'TimeZone=UTC',
      ],
      env: pgEnv(),
      logFile,
      stopSignal: 'SIGINT', // fast shutdown
      log: opts.log,
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });
    proc = p;
    try {
      await waitUntilReady({ service: 'postgres', proc: p, timeoutMs: READY_TIMEOUT_MS, what: 'SELECT 1' }, () => querySelect1(urlFor('postgres')));
    } catch (err) {
      await p.stop();
      throw err;
    }
  };

  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (fixedPort !== undefined || attempt >= 3 || !looksLikePortClash(err)) throw err;
      opts.log(`postgres: port ${port} was taken, retrying on another port`);
      port = await getFreePort();
    }
  }

  const createDatabase = async (name: string): Promise<string> => {
    if (!DB_NAME.test(name)) throw new Error(`invalid database name ${JSON.stringify(name)} (use [a-z_][a-z0-9_]*)`);
    const client = new pg.Client({ connectionString: urlFor('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    return urlFor(name);
  };
  await createDatabase('coldtier');

  const stop = async (): Promise<void> => {
    await proc?.stop();
  };
  const start = async (): Promise<void> => {
    if (proc?.running) return;
    await launch();
  };
  const handle: PostgresHandle = {
    url: urlFor('coldtier'),
    port,
    adminUrl: urlFor('postgres'),
    createDatabase,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    get pid() {
      return proc?.running ? proc.pid : undefined;
    },
  };
  opts.log(`postgres ready on 127.0.0.1:${port} (data ${dataDir})`);
  return {
    handle,
    shutdown: async () => {
      await stop();
      if (dataParent !== serviceDir) rmSync(dataParent, { recursive: true, force: true });
    },
  };
}
