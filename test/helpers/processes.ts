import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'coldtier.mjs');

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts `coldtier worker` as a separate process and waits until it polls its task queue. */
export async function spawnWorker(env: NodeJS.ProcessEnv, identity: string, ms = 120_000): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [BIN, 'worker', '--identity', identity], { env: { ...env, COLDTIER_LOG_LEVEL: 'WARN' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  child.stdout.on('data', (b: Buffer) => (seen += b.toString()));
  child.stderr.on('data', (b: Buffer) => (seen += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${identity} not ready in ${ms} ms:\n${seen}`)), ms);
    const check = () => {
      if (/polling task queue/.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker ${identity} exited with ${code}:\n${seen}`));
    });
  });
  return {
    child,
    output: () => seen,
    kill: async (signal) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}
