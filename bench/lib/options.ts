import { parseArgs } from 'node:util';

export const STEPS = ['offload', 'cycle', 'catchup', 'compact', 'audit', 'federate', 'longrun'] as const;
/** Steps run when --only is not given: the long run takes many minutes, so it runs only when asked for. */
export const DEFAULT_STEPS: readonly Step[] = ['offload', 'cycle', 'catchup', 'compact', 'audit', 'federate'];
export type Step = (typeof STEPS)[number];

/** Command-line options of `npm run bench` (see docs/performance.md). */
export interface BenchOptions {
  /** Rows of the bronze table the offload and audit figures use. @default 5_000_000 */
  rows: number;
  /** Repetitions of each timed figure; the median is reported. @default 3 */
  runs: number;
  /** Steps to run. @default all */
  only: Step[];
  /** Pending-row counts of the catch-up memory step, one fresh worker process each. @default [5_000_000, 20_000_000] */
  catchupRows: number[];
  /** Empty ten-table cycles timed for p50/p95. @default 20 */
  cycles: number;
  /** Rows per exchange in the ten-table cycle's sources. @default 100_000 */
  cycleRows: number;
  /** Small files the compaction step starts from. @default 300 */
  compactFiles: number;
  /** Rows per small file. @default 5_000 */
  compactFileRows: number;
  /** Also time the direct offload into the MinIO (s3://) warehouse. @default false */
  s3: boolean;
  /** Also offload the largest catch-up size with fan-out off (fanOutBatches 0: one batch at a time). @default false */
  catchupSequential: boolean;
  /** CPU-profile one direct offload run and summarise the top self-time functions. @default false */
  profile: boolean;
  /** Simulated days of the long run (96 offload cycles and one maintenance each). @default 7 */
  days: number;
  /** Simulated days of snapshots the long run's expiry keeps. @default 2 */
  retainDays: number;
  /** Keep bench/.tmp/run (warehouses, chDB data, stack logs) after the run. @default false */
  keep: boolean;
  /** @default bench/results.json */
  out: string;
}

const int = (name: string, v: string): number => {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer (got ${JSON.stringify(v)})`);
  return n;
};

export const USAGE = `usage: npm run bench -- [options]
  --rows N              rows of the bronze table for offload/audit (default 5000000)
  --runs K              repetitions per timed figure, median reported (default 3)
  --only a,b            steps: ${STEPS.join(', ')} (default all but longrun)
  --catchup-rows a,b    pending rows per catch-up memory run (default 5000000,20000000)
  --cycles N            empty ten-table cycles for p50/p95 (default 20)
  --cycle-rows N        rows per exchange in the ten-table sources (default 100000)
  --compact-files N     small files to compact (default 300)
  --compact-file-rows N rows per small file (default 5000)
  --s3                  also time the direct offload into the MinIO (s3://) warehouse
  --catchup-sequential  also offload the largest catch-up size with fan-out off (one batch at a time)
  --profile             CPU-profile one direct offload and print the top self-time functions
  --days D              simulated days of the longrun step (default 7)
  --retain-days R       simulated days of snapshots the longrun's expiry keeps (default 2)
  --keep                keep bench/.tmp/run after the run
  --out FILE            results JSON (default bench/results.json)`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string' },
      runs: { type: 'string' },
      only: { type: 'string' },
      'catchup-rows': { type: 'string' },
      cycles: { type: 'string' },
      'cycle-rows': { type: 'string' },
      'compact-files': { type: 'string' },
      'compact-file-rows': { type: 'string' },
      s3: { type: 'boolean' },
      'catchup-sequential': { type: 'boolean' },
      profile: { type: 'boolean' },
      days: { type: 'string' },
      'retain-days': { type: 'string' },
      keep: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const only = values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : [...DEFAULT_STEPS];
  for (const s of only) if (!(STEPS as readonly string[]).includes(s)) throw new Error(`--only: unknown step ${JSON.stringify(s)}; steps are ${STEPS.join(', ')}`);
  return {
    rows: values.rows ? int('rows', values.rows) : 5_000_000,
    runs: values.runs ? int('runs', values.runs) : 3,
    only: only as Step[],
    catchupRows: values['catchup-rows'] ? values['catchup-rows'].split(',').map((v) => int('catchup-rows', v.trim())) : [5_000_000, 20_000_000],
    cycles: values.cycles ? int('cycles', values.cycles) : 20,
    cycleRows: values['cycle-rows'] ? int('cycle-rows', values['cycle-rows']) : 100_000,
    compactFiles: values['compact-files'] ? int('compact-files', values['compact-files']) : 300,
    compactFileRows: values['compact-file-rows'] ? int('compact-file-rows', values['compact-file-rows']) : 5_000,
    s3: Boolean(values.s3),
    catchupSequential: Boolean(values['catchup-sequential']),
    profile: Boolean(values.profile),
    days: values.days ? int('days', values.days) : 7,
    retainDays: values['retain-days'] ? int('retain-days', values['retain-days']) : 2,
    keep: Boolean(values.keep),
    out: values.out ?? 'bench/results.json',
  };
}
