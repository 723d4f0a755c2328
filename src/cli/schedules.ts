import { InvalidArgumentError, Option, type Command } from 'commander';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Settings } from '../config/settings';
import { applySchedules, formatApply } from '../schedules/apply';
import { DEFAULT_PREFIX, DESCRIPTIONS, scheduleIds, type ScheduleIds } from '../schedules/definitions';
import {
  backfillSchedule,
  dailyActionTimes,
  deleteSchedule,
  describeSchedules,
  pauseSchedule,
  resolveNames,
  resumeSchedule,
  triggerSchedule,
} from '../schedules/operations';
import { connectClient } from '../temporal/connection';
import { shorten, table, timestamp } from './format';

interface Common {
  prefix: string;
}

const prefixOption = () =>
  new Option('--prefix <name>', 'schedule id prefix: schedules <prefix>-offload and <prefix>-maintenance').default(DEFAULT_PREFIX);

function isoDate(name: string) {
  return (v: string): Date => {
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw new InvalidArgumentError(`${name} must be an ISO date/time such as 2026-01-01T00:00:00Z`);
    return d;
  };
}

/**
 * `coldtier schedules …`: the two Temporal Schedules (offload every 15 minutes, maintenance at 02:00 UTC).
 * `settings` is read lazily so `--help` works without any configuration.
 */
export function registerScheduleCommands(program: Command, settings: () => Settings): Command {
  const withClient = async <T>(fn: (client: Client, s: Settings) => Promise<T>): Promise<T> => {
    const s = settings();
    const client = await connectClient(s.temporal);
    try {
      return await fn(client, s);
    } finally {
      await client.connection.close();
    }
  };
  const ids = (o: Common): ScheduleIds => scheduleIds(o.prefix);

  const schedules = program
    .command('schedules')
    .description('create, inspect and operate the Temporal Schedules: offload every 15 minutes, maintenance daily at 02:00 UTC');

  schedules
    .command('apply')
    .description('create or update both schedules (and register the ColdtierTables/ColdtierStatus search attributes); a second run changes nothing')
    .addOption(prefixOption())
    .option('--json', 'print the result as JSON')
    .action((o: Common & { json?: boolean }) =>
      withClient(async (client, s) => {
        const r = await applySchedules(client, s, ids(o));
        console.log(o.json ? JSON.stringify(r, null, 2) : formatApply(r, s.temporal.namespace));
      }),
    );

  schedules
    .command('list')
    .description('both schedules: paused or active, note, spec, next run, last run, what is running')
    .addOption(prefixOption())
    .option('--json', 'print JSON')
    .action((o: Common & { json?: boolean }) =>
      withClient(async (client) => {
        const rows = await describeSchedules(client, ids(o));
        if (o.json) return console.log(JSON.stringify(rows, null, 2));
        console.log(
          table(
            ['schedule', 'state', 'spec', 'overlap', 'next run', 'last run', 'running', 'note'],
            rows.map((r) =>
              r.exists
                ? [r.scheduleId, r.paused ? 'paused' : 'active', r.spec, r.overlap, timestamp(r.nextRun), timestamp(r.lastRunAt), r.running.join(', ') || null, r.note && shorten(r.note)]
                : [r.scheduleId, 'missing (run coldtier schedules apply)', null, null, null, null, null, null],
            ),
          ),
        );
      }),
    );

  schedules
    .command('pause')
    .description('pause a schedule; the note says why (shown in the Web UI and `schedules list`)')
    .argument('<schedule>', 'offload, maintenance, all, or a schedule id (coldtier-offload)')
    .requiredOption('--note <text>', 'why it is paused, e.g. "warehouse migration, ticket OPS-12"')
    .addOption(prefixOption())
    .action((name: string, o: Common & { note: string }) =>
      withClient(async (client) => {
        for (const n of resolveNames(name, true, ids(o))) {
          await pauseSchedule(client, ids(o)[n], o.note);
          console.log(`${ids(o)[n]}: paused (${o.note})`);
        }
      }),
    );

  schedules
    .command('resume')
    .description('unpause a schedule')
    .argument('<schedule>', 'offload, maintenance, all, or a schedule id (coldtier-offload)')
    .option('--note <text>', 'note to leave on the schedule (default: what the schedule does, as `apply` sets it)')
    .addOption(prefixOption())
    .action((name: string, o: Common & { note?: string }) =>
      withClient(async (client) => {
        for (const n of resolveNames(name, true, ids(o))) {
          await resumeSchedule(client, ids(o)[n], o.note ?? DESCRIPTIONS[n]);
          console.log(`${ids(o)[n]}: active`);
        }
      }),
    );

  schedules
    .command('trigger')
    .description('run a schedule\'s action now (like `temporal schedule trigger`); with the default SKIP nothing starts while a run is going')
    .argument('<schedule>', 'offload, maintenance, or a schedule id (coldtier-offload)')
    .addOption(new Option('--overlap <policy>', 'overlap policy for this trigger').choices(Object.keys(ScheduleOverlapPolicy).filter((k) => k !== 'UNSPECIFIED')).default('SKIP'))
    .addOption(prefixOption())
    .action((name: string, o: Common & { overlap: keyof typeof ScheduleOverlapPolicy }) =>
      withClient(async (client) => {
        const [n] = resolveNames(name, false, ids(o));
        const id = ids(o)[n!];
        const r = await triggerSchedule(client, id, ScheduleOverlapPolicy[o.overlap]);
        // Temporal runs a triggered action even on a paused schedule; say so, since the pause usually had a reason.
        if (r.paused) console.log(`${id}: the schedule is paused${r.note ? ` (${r.note})` : ''}; this trigger runs anyway, the schedule stays paused (resume with \`coldtier schedules resume ${n}\`)`);
        if (r.workflowId) console.log(`${id}: started ${r.workflowId}`);
        else if (r.skipped) console.log(`${id}: skipped, ${r.running.join(', ')} is still running (overlap ${o.overlap})`);
        else console.log(`${id}: triggered (the run did not show within 10 s; see \`coldtier schedules list\`)`);
      }),
    );

  schedules
    .command('delete')
    .description('delete a schedule (running workflows keep running); `apply` creates it again')
    .argument('<schedule>', 'offload, maintenance, all, or a schedule id (coldtier-offload)')
    .addOption(prefixOption())
    .action((name: string, o: Common) =>
      withClient(async (client) => {
        for (const n of resolveNames(name, true, ids(o))) {
          await deleteSchedule(client, ids(o)[n]);
          console.log(`${ids(o)[n]}: deleted`);
        }
      }),
    );

  schedules
    .command('backfill')
    .description('replay missed actions in [--from, --to): by default the maintenance runs of missed days, one after another')
    .requiredOption('--from <iso>', 'start of the range, e.g. 2026-01-01T00:00:00Z', isoDate('--from'))
    .requiredOption('--to <iso>', 'end of the range, e.g. 2026-01-04T00:00:00Z', isoDate('--to'))
    .addOption(new Option('--schedule <name>', 'which schedule').choices(['maintenance', 'offload']).default('maintenance'))
    .addOption(prefixOption())
    .action((o: Common & { from: Date; to: Date; schedule: 'maintenance' | 'offload' }) =>
      withClient(async (client) => {
        const id = ids(o)[o.schedule];
        await backfillSchedule(client, id, o.from, o.to);
        const days = o.schedule === 'maintenance' ? dailyActionTimes(o.from, o.to) : [];
        console.log(
          `${id}: backfill ${timestamp(o.from)} .. ${timestamp(o.to)} requested${days.length ? `: ${days.length} run(s) at ${days.map((d) => timestamp(d)).join(', ')}` : ''} (queued, one at a time)`,
        );
      }),
    );

  return schedules;
}
