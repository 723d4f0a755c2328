// Child-process plumbing for dev-stack servers: log files, clean stop, no orphans.
//
// Orphan protection, in layers:
//  1. stop(): graceful signal, then SIGKILL to the whole process group after a timeout.
//  2. process 'exit' hook: any server still running when node exits normally gets its stop signal.
//  3. setpriv --pdeathsig: the kernel signals the server when this node process dies for any reason
//     (SIGKILL included). Used whenever setpriv (util-linux) is available.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';
import { StackStartError } from './errors';

export interface SpawnSpec {
  /** Service name, for messages. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout+stderr are appended here. */
  logFile: string;
  uid?: number;
  gid?: number;
  /** Graceful stop signal (also sent by the kernel if this node process dies). */
  stopSignal: NodeJS.Signals;
  /** How long to wait after the stop signal before SIGKILL. Default 15 s. */
  stopTimeoutMs?: number;
  log: (msg: string) => void;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const proc of live) proc.signal(proc.spec.stopSignal);
  });
}

let setprivPath: string | null | undefined;
function findSetpriv(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv']) {
    try {
      accessSync(candidate, constants.X_OK);
      setprivPath = candidate;
      break;
    } catch {
      // try next
    }
  }
  return setprivPath;
}

// Timers here stay ref'ed on purpose: the children are unref'ed, so while we await a child
// something must keep the event loop alive.
function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves true if `p` settles within `ms`, false otherwise; never leaves a timer behind. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class ManagedProcess {
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  private stopping = false;

  private constructor(
    readonly spec: SpawnSpec,
    child: ChildProcess,
    pid: number,
  ) {
    this.pid = pid;
    this.exited = new Promise<ExitInfo>((resolveExit) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        this.exitInfo = { code, signal };
        live.delete(this);
        if (!this.stopping) {
          spec.log(`${spec.name} (pid ${pid}) exited unexpectedly (code ${code}, signal ${signal}); log: ${spec.logFile}`);
        }
        resolveExit(this.exitInfo);
      };
      if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode, child.signalCode);
      else child.once('exit', onExit);
    });
  }

  static async spawn(spec: SpawnSpec): Promise<ManagedProcess> {
    installExitHook();
    const fd = openSync(spec.logFile, 'a', 0o600);
    let command = spec.command;
    let args = spec.args;
    const setpriv = findSetpriv();
    if (setpriv) {
      args = ['--pdeathsig', spec.stopSignal, '--', command, ...args];
      command = setpriv;
    } else {
      spec.log(`warning: setpriv not found; ${spec.name} may outlive this process if it is killed with SIGKILL`);
    }
    writeSync(fd, `\n--- ${new Date().toISOString()} devstack starting ${spec.name}: ${spec.command} ${spec.args.join(' ')}\n`);
    try {
      const child = spawn(command, args, {
        cwd: spec.cwd,
        env: spec.env ?? process.env,
        stdio: ['ignore', fd, fd],
        detached: true, // own process group: terminal Ctrl-C goes to us, we stop servers in order
        ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
        ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
      });
      const pid = await new Promise<number>((resolveSpawn, rejectSpawn) => {
        child.once('error', rejectSpawn);
        child.once('spawn', () => {
          child.off('error', rejectSpawn);
          resolveSpawn(child.pid ?? -1);
        });
      });
      child.on('error', (err) => spec.log(`${spec.name}: ${err.message}`));
      child.unref();
      const proc = new ManagedProcess(spec, child, pid);
      if (proc.running) live.add(proc);
      return proc;
    } catch (err) {
      throw new StackStartError(spec.name, `cannot start ${spec.name} (${spec.command}): ${(err as Error).message}`, spec.logFile, { cause: err });
    } finally {
      closeSync(fd);
    }
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Send a signal to the server process (not its group). Ignores already-exited processes. */
  signal(sig: NodeJS.Signals): void {
    try {
      process.kill(this.pid, sig);
    } catch {
      // already gone
    }
  }

  private killGroup(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // group already empty
    }
  }

  /** Graceful stop; SIGKILL to the process group after stopTimeoutMs. Resolves once it has exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exitInfo) {
      this.killGroup();
      return;
    }
    this.signal(this.spec.stopSignal);
    const timeoutMs = this.spec.stopTimeoutMs ?? 15_000;
    const graceful = await within(this.exited, timeoutMs);
    if (!graceful) {
      this.spec.log(`${this.spec.name} did not stop within ${timeoutMs} ms; sending SIGKILL`);
    }
    // Also reaps any leftover members of the group (e.g. server worker processes).
    this.killGroup();
    if (!graceful) {
      await within(this.exited, 5_000);
    }
  }

  /** Last lines of the log file, for error messages. */
  logTail(lines = 25): string {
    try {
      const text = readFileSync(this.spec.logFile, 'utf8');
      return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
    } catch {
      return '(no log)';
    }
  }
}

export interface WaitOptions {
  service: string;
  proc: ManagedProcess;
  timeoutMs: number;
  intervalMs?: number;
  /** What readiness means, for the timeout message. */
  what: string;
}

/** Polls `check` until it resolves true; fails fast (with the log tail) if the process exits. */
export async function waitUntilReady(opts: WaitOptions, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (!opts.proc.running) {
      const info = opts.proc.exitInfo;
      throw new StackStartError(
        opts.service,
        `${opts.service} exited during startup (code ${info?.code}, signal ${info?.signal}). Log ${opts.proc.spec.logFile} ends with:\n${opts.proc.logTail()}`,
        opts.proc.spec.logFile,
      );
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` Last error: ${lastError.message}.` : '';
      throw new StackStartError(
        opts.service,
        `${opts.service}: not ready (${opts.what}) after ${opts.timeoutMs} ms.${why} Log ${opts.proc.spec.logFile} ends with:\n${opts.proc.logTail()}`,
        opts.proc.spec.logFile,
      );
    }
    await delay(opts.intervalMs ?? 100);
  }
}

/** Whether a startup failure looks like a lost race for a port (so retrying on another port helps). */
export function looksLikePortClash(err: unknown): boolean {
  return err instanceof StackStartError && /address already in use|port is already in use|could not bind/i.test(err.message);
}
