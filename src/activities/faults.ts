import type { ClickHouse } from '../clickhouse/client';
import type { FaultPoint, TestHooks } from './deps';

/**
 * The fault suite's hooks (test/faults), built by the worker from its environment: inert unless one of these names a
 * fault point. COLDTIER_FAULT_TABLE limits them to one table, COLDTIER_FAULT_SKIP=N lets the first N hits pass. Each
 * prints "coldtier-fault-point <point> <table> …" to stderr when it fires.
 * - COLDTIER_FAULT_PAUSE=<point>: stops there. The test SIGKILLs the process, or sends SIGWINCH to let every pause go
 *   on (SIGUSR2 would stop the Temporal worker); after that the point is inert.
 * - COLDTIER_FAULT_STALL=<point>:<seconds>: freezes the whole process there, once (the event loop blocked: no
 *   heartbeats), like a long GC pause, a stopped VM or a starved container. Temporal times the attempt out meanwhile.
 * - COLDTIER_FAULT_SLOW=<point>:<seconds>: runs a ClickHouse query that takes that long, on the attempt's connection.
 * - COLDTIER_FAULT_LOCK_CHECK=off: the table lock's periodic liveness check is off, so a worker cut off from Postgres
 *   only finds out at its commit (where the fence must refuse it).
 */
export function faultHooksFromEnv(env: NodeJS.ProcessEnv = process.env): TestHooks | undefined {
  if (!env.COLDTIER_FAULT_PAUSE && !env.COLDTIER_FAULT_STALL && !env.COLDTIER_FAULT_SLOW && !env.COLDTIER_FAULT_LOCK_CHECK) return undefined;
  const hits = new Map<string, number>();
  let released = false;
  let stalled = false;
  /** The value after "<point>:" when `variable` names this point and this hit counts, else undefined. */
  const fires = (variable: string, point: FaultPoint, table: string): string | undefined => {
    const [wanted, value] = (env[variable] ?? '').split(':');
    if (wanted !== point || (env.COLDTIER_FAULT_TABLE && env.COLDTIER_FAULT_TABLE !== table)) return undefined;
    const n = (hits.get(`${variable}:${point}`) ?? 0) + 1;
    hits.set(`${variable}:${point}`, n);
    return n <= Number(env.COLDTIER_FAULT_SKIP ?? 0) ? undefined : (value ?? '');
  };
  const say = (line: string) => process.stderr.write(`coldtier-fault-point ${line}\n`);
  return {
    ...(env.COLDTIER_FAULT_LOCK_CHECK === 'off' ? { periodicLockCheck: false as const } : {}),
    faultPoint: async (point: FaultPoint, table: string, ctx?: { ch?: ClickHouse }) => {
      const stall = fires('COLDTIER_FAULT_STALL', point, table);
      if (stall !== undefined && !stalled) {
        stalled = true;
        say(`${point} ${table} stalling ${stall} s`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(stall) * 1000);
        say(`${point} ${table} woke`);
      }
      const slow = fires('COLDTIER_FAULT_SLOW', point, table);
      if (slow !== undefined && ctx?.ch) {
        say(`${point} ${table} slow query ${slow} s`);
        await ctx.ch.json('SELECT sum(sleepEachRow(1)) AS s FROM numbers({n:UInt32}) SETTINGS max_block_size = 1, function_sleep_max_microseconds_per_block = 0', { n: Number(slow) });
        say(`${point} ${table} slow query returned`);
      }
      if (released || fires('COLDTIER_FAULT_PAUSE', point, table) === undefined) return;
      say(`${point} ${table}`);
      await new Promise<void>((resolve) => {
        process.once('SIGWINCH', () => {
          released = true;
          say(`${point} ${table} released`);
          resolve();
        });
      });
    },
  };
}
