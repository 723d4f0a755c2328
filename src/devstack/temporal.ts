// Temporal dev server (`temporal server start-dev`) with SQLite state in <stack>/temporal.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { getFreePort } from './ports';
import { ManagedProcess, looksLikePortClash, waitUntilReady } from './process';
import { findTool } from './tools';
import type { Started, TemporalHandle } from './types';

export interface TemporalOptions {
  dir: string;
  port?: number;
  uiPort?: number;
  log: (msg: string) => void;
}

const READY_TIMEOUT_MS = 90_000;

async function namespaceAnswers(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    const res = await connection.workflowService.describeNamespace({ namespace: 'default' });
    return res.namespaceInfo?.name === 'default';
  } finally {
    await connection.close();
  }
}

export async function startTemporal(opts: TemporalOptions): Promise<Started<TemporalHandle>> {
  const bin = findTool('temporal');
  const serviceDir = join(opts.dir, 'temporal');
  rmSync(serviceDir, { recursive: true, force: true });
  mkdirSync(serviceDir, { recursive: true });
  const logFile = join(opts.dir, 'logs', 'temporal.log');
  const dbFile = join(serviceDir, 'temporal.db');

  let port = opts.port ?? (await getFreePort());
  let uiPort = opts.uiPort ?? (await getFreePort());
  let proc: ManagedProcess | undefined;

  const launch = async (): Promise<void> => {
    const p = await ManagedProcess.spawn({
      name: 'temporal',
      command: bin,
      args: [
        'server', 'start-dev',
        '--ip', '127.0.0.1',
        '--port', String(port),
        '--ui-port', String(uiPort),
        '--db-filename', dbFile,
        '--namespace', 'default',
        // coldtier's custom search attributes (see src/workflows/search-attributes.ts), so runs can be filtered.
        '--search-attribute', 'ColdtierTables=KeywordList',
        '--search-attribute', 'ColdtierStatus=Keyword',
        '--log-level', 'warn',
      ],
      env: { PATH: process.env.PATH, HOME: serviceDir, TZ: 'UTC' },
      cwd: serviceDir,
      logFile,
      stopSignal: 'SIGTERM',
      log: opts.log,
    });
    proc = p;
    try {
      await waitUntilReady(
        { service: 'temporal', proc: p, timeoutMs: READY_TIMEOUT_MS, intervalMs: 200, what: 'describe namespace default' },
        () => namespaceAnswers(`127.0.0.1:${port}`),
      );
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
      if (opts.port !== undefined || opts.uiPort !== undefined || attempt >= 3 || !looksLikePortClash(err)) throw err;
      opts.log(`temporal: port ${port} or ${uiPort} was taken, retrying on other ports`);
      rmSync(dbFile, { force: true });
      port = await getFreePort();
      uiPort = await getFreePort();
    }
  }

  const stop = async (): Promise<void> => {
    await proc?.stop();
  };
  const start = async (): Promise<void> => {
    if (proc?.running) return;
    await launch();
  };
  const handle: TemporalHandle = {
    address: `127.0.0.1:${port}`,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    namespace: 'default',
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
  opts.log(`temporal ready on ${handle.address} (UI ${handle.uiUrl})`);
  return { handle, shutdown: stop };
}
