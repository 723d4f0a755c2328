// Test runner: one shared dev stack (Temporal + PostgreSQL + MinIO) for all test files, then
// `node --test` over test/**/*.test.ts (or the files/dirs given: `npm test -- test/x.test.ts`).
// Extra node test-runner flags may be passed as `--flag=value` (e.g. `npm test -- --test-name-pattern=iceberg`).
// Env: COLDTIER_KEEP_STACK=1 keeps test/.tmp/stack-<pid> even when all tests pass.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, venvBinDir } from '../src/devstack/index';
import type { RunningStack } from '../src/devstack/index';

// The AWS SDK warns once per process that its future releases need node >= 22; keep test output readable.
// (Read when an S3 client is constructed, so setting it here is early enough.)
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const testRoot = join(root, 'test');
const tmpRoot = join(testRoot, '.tmp');

function say(msg: string): void {
  process.stderr.write(`[run-tests] ${msg}\n`);
}

function collectTests(dir: string, out: string[], top = true): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === '.tmp' || entry.name.startsWith('.')) continue;
    // The soak runs alone (`npm run test:soak`, also in .ci/run): sharing the CPU with the suite skews its figures.
    // Spark (test/spark) too: starting it and asking it hundreds of queries takes minutes (.ci/run runs it after).
    if (top && dir === testRoot && (entry.name === 'soak' || entry.name === 'spark')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) collectTests(path, out, false);
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(path);
  }
}

function parseArgs(argv: string[]): { files: string[]; flags: string[] } {
  const files: string[] = [];
  const flags: string[] = [];
  for (const arg of argv) {
    if (arg.startsWith('-')) {
      flags.push(arg);
      continue;
    }
    const path = resolve(arg);
    if (!existsSync(path)) {
      say(`no such test file or directory: ${arg}`);
      process.exit(2);
    }
    if (statSync(path).isDirectory()) collectTests(path, files);
    else files.push(path);
  }
  if (argv.every((a) => a.startsWith('-'))) collectTests(testRoot, files);
  return { files: [...new Set(files)].sort(), flags };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove stack dirs left behind by runs whose process is gone (crash, SIGKILL). */
function removeStaleStacks(): void {
  if (!existsSync(tmpRoot)) return;
  for (const name of readdirSync(tmpRoot)) {
    const m = /^stack-(\d+)$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) {
      rmSync(join(tmpRoot, name), { recursive: true, force: true });
    }
  }
}

const { files, flags } = parseArgs(process.argv.slice(2));
if (files.length === 0) {
  say('no test files found (test/**/*.test.ts)');
  process.exit(1);
}

let stack: RunningStack | undefined;
const current: { child?: ChildProcess } = {};
let interruptedBy: NodeJS.Signals | undefined;

async function shutdown(code: number): Promise<never> {
  if (stack) {
    const t = Date.now();
    await stack.stop();
    say(`stack stopped in ${Date.now() - t} ms`);
    const keep = code !== 0 || process.env.COLDTIER_KEEP_STACK === '1';
    if (keep) say(`stack dir kept (logs in ${relative(root, join(stack.dir, 'logs'))}/)`);
    else rmSync(stack.dir, { recursive: true, force: true });
  }
  process.exit(code);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (interruptedBy) return;
    interruptedBy = sig;
    say(`${sig}: stopping tests and the stack`);
    if (current.child && current.child.exitCode === null) current.child.kill(sig);
    else if (stack) void shutdown(128 + constants.signals[sig]);
    // while the stack is still starting, the startup path below notices `interruptedBy`.
  });
}

removeStaleStacks();
const stackDir = join(tmpRoot, `stack-${process.pid}`);
mkdirSync(stackDir, { recursive: true });
const startedAt = Date.now();
try {
  stack = await startStack({
    dir: stackDir,
    temporal: true,
    postgres: true,
    minio: true,
    log: (msg) => process.stderr.write(`[devstack] ${msg}\n`),
  });
} catch (err) {
  say(`could not start the test stack: ${err instanceof Error ? err.message : String(err)}`);
  say(`logs: ${relative(root, join(stackDir, 'logs'))}/`);
  process.exit(interruptedBy ? 128 + constants.signals[interruptedBy] : 1);
}
if (interruptedBy) await shutdown(128 + constants.signals[interruptedBy]);

const { temporal, postgres, minio } = stack;
if (!temporal || !postgres || !minio) throw new Error('unreachable: stack started without a service');
say(`stack up in ${Date.now() - startedAt} ms: temporal ${temporal.address}, postgres 127.0.0.1:${postgres.port}, minio ${minio.endpoint}`);

const env: NodeJS.ProcessEnv = {
  ...process.env,
  COLDTIER_TEST_TEMPORAL_ADDRESS: temporal.address,
  COLDTIER_TEST_TEMPORAL_UI_URL: temporal.uiUrl,
  COLDTIER_TEST_PG_ADMIN_URL: postgres.adminUrl,
  COLDTIER_TEST_S3_ENDPOINT: minio.endpoint,
  COLDTIER_TEST_S3_ACCESS_KEY_ID: minio.accessKeyId,
  COLDTIER_TEST_S3_SECRET_ACCESS_KEY: minio.secretAccessKey,
  COLDTIER_TEST_S3_REGION: minio.region,
  COLDTIER_TEST_S3_BUCKET: minio.bucket,
  COLDTIER_TEST_STACK_DIR: stack.dir,
  PATH: [venvBinDir(), process.env.PATH ?? ''].join(delimiter),
};

// Each test file gets 10 minutes unless a --test-timeout is passed (the soak passes its own).
const nodeArgs = ['--import', 'tsx', '--test', '--test-concurrency=2', ...(flags.some((f) => f.startsWith('--test-timeout')) ? [] : ['--test-timeout=600000'])];
// TAP keeps the closing `# pass N` / `# fail N` summary on stdout, TTY or not.
if (!flags.some((f) => f.startsWith('--test-reporter'))) nodeArgs.push('--test-reporter=tap');
nodeArgs.push(...flags, ...files.map((f) => relative(root, f)));
say(`node ${nodeArgs.join(' ')}`);

// Not detached: a terminal Ctrl-C reaches the test runner directly, as with plain `node --test`.
// setpriv --pdeathsig: if this process dies (even SIGKILL), the kernel sends the test runner SIGTERM
// and it stops its per-file processes; the stack's servers get their own stop signal the same way.
const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
const [command, args] = setpriv
  ? [setpriv, ['--pdeathsig', 'SIGTERM', '--', process.execPath, ...nodeArgs]]
  : [process.execPath, nodeArgs];
const testChild = spawn(command, args, { cwd: root, env, stdio: 'inherit' });
current.child = testChild;
const exitCode = await new Promise<number>((resolveExit) => {
  testChild.once('error', (err) => {
    say(`cannot run node --test: ${err.message}`);
    resolveExit(1);
  });
  testChild.once('exit', (code, signal) => resolveExit(code ?? 128 + (signal ? constants.signals[signal] : 1)));
});
await shutdown(interruptedBy && exitCode === 0 ? 128 + constants.signals[interruptedBy] : exitCode);
