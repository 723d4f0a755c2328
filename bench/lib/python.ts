import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { venvBinDir } from '../../src/devstack/index';
import { REPO } from './context';

const run = promisify(execFile);
const PYLIB = join(REPO, 'bench', '.tmp', 'pylib');
export const python = (): string => join(venvBinDir(), 'python');

let env: NodeJS.ProcessEnv | undefined;
let partitioned = false;

/**
 * PyIceberg writes a day() partition spec only with its pyiceberg-core extension. The tools venv may not have it;
 * then it is installed from PyPI into bench/.tmp/pylib (the version range pyiceberg 0.12 declares), leaving the
 * venv untouched. If that fails too, the reference runs unpartitioned and the report says so.
 */
export async function pythonEnv(log: (m: string) => void): Promise<{ env: NodeJS.ProcessEnv; partitioned: boolean }> {
  if (env) return { env, partitioned };
  const withLib = { ...process.env, PYTHONPATH: [PYLIB, process.env.PYTHONPATH].filter(Boolean).join(':') };
  const probe = async (e: NodeJS.ProcessEnv) => run(python(), ['-c', 'import pyiceberg_core'], { env: e }).then(() => true, () => false);
  if (await probe(process.env)) {
    env = process.env;
    partitioned = true;
  } else {
    if (!existsSync(join(PYLIB, 'pyiceberg_core'))) {
      log('installing pyiceberg-core (PyPI) into bench/.tmp/pylib for PyIceberg partitioned writes ...');
      await run(python(), ['-m', 'pip', 'install', '--quiet', '--no-deps', '--target', PYLIB, 'pyiceberg-core>=0.10.1,<0.11.0'], { timeout: 300_000 }).catch((err: unknown) => {
        log(`could not install pyiceberg-core (${(err as Error).message.split('\n')[0]}); PyIceberg runs unpartitioned`);
      });
    }
    partitioned = await probe(withLib);
    env = withLib;
  }
  return { env, partitioned };
}

export interface PyAppend {
  read_s: number;
  append_s: number;
  read_cpu_s: number;
  append_cpu_s: number;
  rows: number;
  files: number;
  bytes: number;
}

export async function pyicebergAppend(input: string, warehouse: string, name: string, log: (m: string) => void): Promise<PyAppend & { partitioned: boolean }> {
  const p = await pythonEnv(log);
  const args = [join(REPO, 'bench', 'pyiceberg_append.py'), '--input', input, '--warehouse', warehouse, '--name', name];
  if (p.partitioned) args.push('--partition-day', 'exchange_timestamp');
  const { stdout } = await run(python(), args, { env: p.env, maxBuffer: 16 * 1024 * 1024, timeout: 1_800_000 });
  const last = stdout.trim().split('\n').at(-1) ?? '{}';
  return { ...(JSON.parse(last) as PyAppend), partitioned: p.partitioned };
}
