// The env file `coldtier demo --keep` writes so that a second shell can run every CLI command against the demo stack:
// the real Postgres URL (its password is random), the Temporal address, the chDB gateway (chDB locks its data
// directory to one process, so the CLI reaches it through the demo's HTTP gateway) and the warehouse.
import { writeFileSync } from 'node:fs';

export interface DemoEnv {
  TEMPORAL_ADDRESS: string;
  DATABASE_URL: string;
  CLICKHOUSE_URL: string;
  ICEBERG_WAREHOUSE: string;
  COLDTIER_CONFIG: string;
}

/** Single-quoted for sh: only a single quote needs escaping. */
const shQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** Writes `export NAME='value'` lines, readable only by the owner (it holds the Postgres password). */
export function writeDemoEnv(path: string, env: DemoEnv): void {
  const lines = [
    '# coldtier demo stack, written by `coldtier demo --keep`; valid while that demo runs (Ctrl-C there stops it).',
    `# Use it from another shell:  source ${path}  then  npx coldtier status`,
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shQuote(v)}`),
    '',
  ];
  writeFileSync(path, lines.join('\n'), { mode: 0o600 });
}

/** Parses the file back (for tests and tools): NAME → value. */
export function parseDemoEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^export (\w+)='((?:[^']|'\\'')*)'$/gm)) out[m[1]!] = m[2]!.replace(/'\\''/g, "'");
  return out;
}
