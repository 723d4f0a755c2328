// 3. Catch-up memory: peak RSS of a separate `coldtier worker` process (reading through the chDB HTTP gateway, as it
// would read a ClickHouse server) while one offload workflow works through N pending rows.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OffloadWorkflowResult } from '../../src/activities/types';
import { startChdbGateway } from '../../src/clickhouse/chdb-gateway';
import type { TableConfigInput } from '../../src/config/tables';
import { connectClient } from '../../src/temporal/connection';
import { bronzeConfig, REPO, type Bench } from '../lib/context';
import { tradeSource } from '../lib/data';
import { memoryOf, peaksBySlice, resetPeak, traceRss } from '../lib/proc';
import type { Figure } from '../lib/report';
import { timed } from '../lib/stats';

interface Worker {
  child: ChildProcess;
  startupPeakMb: number;
  stop(): Promise<void>;
}

export async function spawnWorker(env: NodeJS.ProcessEnv, identity: string): Promise<Worker> {
  const child = spawn(process.execPath, [join(REPO, 'bin', 'coldtier.mjs'), 'worker', '--identity', identity], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  child.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (seen += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready in 120 s:\n${seen}`)), 120_000);
    const onExit = (code: number | null) => reject(new Error(`worker exited with ${code}:\n${seen}`));
    child.once('exit', onExit);
    const check = () => {
      if (!/polling task queue/.test(seen)) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve();
    };
    child.stdout!.on('data', check);
  });
  return {
    child,
    startupPeakMb: memoryOf(child.pid!).hwmMb,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function catchupStep(b: Bench): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const sizes = b.opts.catchupRows;
  // Each run: [pending rows, table name, fan-out on]. The workflow fans a catch-up of more than fanOutBatches (8)
  // batches out into parallel writeRange activities (up to 4 at once in one worker); sequential turns that off.
  const plan: Array<{ n: number; table: string; fanOut: boolean }> = sizes.map((n) => ({ n, table: `catchup_${n}`, fanOut: true }));
  if (b.opts.catchupSequential) plan.push({ n: sizes.at(-1)!, table: `catchup_${sizes.at(-1)!}_seq`, fanOut: false });
  const gateway = await startChdbGateway({ path: b.chdbPath });
  const runs: Array<Record<string, unknown>> = [];
  const figures: Figure[] = [];
  try {
    const tables: TableConfigInput[] = plan.map((p) => bronzeConfig(p.table, `catchup_src_${p.n}`, p.fanOut ? {} : { fanOutBatches: 0 }));
    const settings = b.settings({ tag: 'catchup', tables, clickhouseUrl: gateway.url });
    const config = join(b.dir, 'catchup.config.json');
    writeFileSync(config, JSON.stringify({ tables }));
    const client = await connectClient(settings.temporal);
    try {
      for (const { n, table, fanOut } of plan) {
        const src = await tradeSource(b, `catchup_src_${n}`, n);
        const worker = await spawnWorker(b.env(settings, config), `bench-${table}`);
        try {
          const pid = worker.child.pid!;
          resetPeak(pid);
          const { value, trace } = await traceRss(pid, () =>
            timed(async () => {
              const h = await client.workflow.start('offloadWorkflow', { taskQueue: settings.temporal.taskQueue, workflowId: `bench-catchup-${n}-${Date.now()}`, args: [{ tables: [table] }] });
              return (await h.result()) as OffloadWorkflowResult;
            }),
          );
          const r = value.value.tables[0]!;
          if (r.rows !== src.rows) throw new Error(`catch-up of ${n} rows moved ${r.rows} (${r.status} ${r.reason ?? ''})`);
          const quarters = peaksBySlice(trace, 4);
          runs.push({ rows: n, table, fanOut, status: r.status, s: value.s, rowsPerS: n / value.s, peakRssMb: trace.peakMb, startRssMb: trace.startMb, startupPeakMb: worker.startupPeakMb, peakRssByQuarterMb: quarters, commits: r.commits, files: r.files, bytes: r.bytes, samples: trace.samples });
          b.log(`catch-up ${n} rows${fanOut ? '' : ' (fan-out off)'}: ${value.s.toFixed(1)} s, worker peak RSS ${trace.peakMb.toFixed(0)} MB (idle ${trace.startMb.toFixed(0)} MB, startup peak ${worker.startupPeakMb.toFixed(0)} MB), by quarter ${quarters.map((q) => q.toFixed(0)).join('/')} MB`);
          figures.push({
            step: 'catchup', name: `worker peak RSS (VmHWM) offloading ${n / 1e6}M pending rows${n > 8 * 1_000_000 ? (fanOut ? ', fan-out (default)' : ', fan-out off') : ''}`, unit: 'MB', value: trace.peakMb, samples: [trace.peakMb],
            target: '≤ 600 MB', met: trace.peakMb <= 600, note: `${(n / value.s / 1000).toFixed(0)}k rows/s via HTTP; peak by quarter ${quarters.map((q) => q.toFixed(0)).join('/')} MB`,
          });
        } finally {
          await worker.stop();
        }
      }
    } finally {
      await client.connection.close();
    }
  } finally {
    await gateway.close();
  }
  const peaks = runs.filter((r) => r.fanOut).map((r) => r.peakRssMb as number);
  if (peaks.length > 1) {
    const growth = peaks.at(-1)! / peaks[0]!;
    figures.push({ step: 'catchup', name: `RSS growth ${sizes[0]! / 1e6}M → ${sizes.at(-1)! / 1e6}M rows`, unit: '×', value: growth, samples: [growth], target: 'no growth (≤ 1.1×)', met: growth <= 1.1 });
  }
  return { figures, details: { runs } };
}
