// `npm run bench`: issue 8's benchmark. Starts its own Temporal/Postgres/MinIO stack and chDB under bench/.tmp,
// runs the steps in one process, prints a Markdown table and writes bench/results.json. See docs/performance.md.
import { writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { installLogging } from '../src/logging';
import { openBench, REPO, type Bench } from './lib/context';
import { parseOptions, type Step } from './lib/options';
import { markdown, type Figure, type Results } from './lib/report';
import { auditStep } from './steps/audit';
import { catchupStep } from './steps/catchup';
import { compactStep } from './steps/compact';
import { cycleStep } from './steps/cycle';
import { federateStep } from './steps/federate';
import { longrunStep } from './steps/longrun';
import { offloadStep } from './steps/offload';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.chdir(REPO);
const opts = parseOptions(process.argv.slice(2));
installLogging('WARN');

const t0 = Date.now();
const log = (m: string) => process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(0)}s] ${m}\n`);
const steps: Record<Step, (b: Bench) => Promise<{ figures: Figure[]; details: Record<string, unknown> }>> = {
  offload: offloadStep,
  cycle: cycleStep,
  catchup: catchupStep,
  compact: compactStep,
  audit: auditStep,
  federate: federateStep,
  longrun: longrunStep,
};

const results: Results = {
  startedAt: new Date().toISOString(),
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  machine: { cpus: cpus().length, loadavg: loadavg(), node: process.version, memGb: Math.round(totalmem() / 2 ** 30) },
  options: { ...opts },
  figures: [],
  details: {},
};

const bench = await openBench(opts, log);
let failed = false;
const stop = async (sig: NodeJS.Signals) => {
  log(`${sig}: stopping the stack`);
  await bench.close().catch(() => undefined);
  process.exit(130);
};
process.once('SIGINT', (s) => void stop(s));
process.once('SIGTERM', (s) => void stop(s));
try {
  for (const step of opts.only) {
    log(`step ${step} ...`);
    const started = Date.now();
    try {
      const r = await steps[step](bench);
      results.figures.push(...r.figures);
      results.details[step] = { ...r.details, wallS: (Date.now() - started) / 1000 };
    } catch (err) {
      failed = true;
      log(`step ${step} failed: ${(err as Error).stack ?? String(err)}`);
      results.details[step] = { error: String(err) };
    }
    log(`step ${step} done in ${((Date.now() - started) / 1000).toFixed(0)} s (free memory ${(freemem() / 2 ** 30).toFixed(1)} GiB)`);
  }
} finally {
  await bench.close();
}
results.details.totalS = (Date.now() - t0) / 1000;
results.machine.loadavg = loadavg();
const out = resolve(REPO, opts.out);
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\n${markdown(results.figures)}\n`);
log(`wrote ${out} (${results.details.totalS} s in all)`);
process.exit(failed ? 1 : 0);
