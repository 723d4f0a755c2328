import type { ClickHouse } from '../clickhouse/client';
import type { LockGuard } from '../db/table-lock';
import type { FileIO } from '../iceberg';
import { cancellationSignal, heartbeat, warn } from './context';

/**
 * One attempt of a table activity, as the code inside it sees it: a signal that aborts when Temporal cancels the
 * attempt (workflow cancel, heartbeat or start-to-close timeout noticed on a heartbeat, worker shutdown) or when the
 * table lock is lost, and the ClickHouse connection and FileIO bound to that signal, so a stopped attempt's queries
 * and uploads end within moments instead of running on (and holding the table lock) for minutes.
 */
export interface Attempt {
  readonly signal: AbortSignal;
  readonly ch: ClickHouse;
  readonly io: FileIO;
  /** Records the progress details and heartbeats them; the pump repeats the latest details until the next call. */
  beat(details: unknown): void;
  /** Throws the reason the attempt was stopped, if it was. Call between steps that are not themselves abortable. */
  throwIfStopped(): void;
}

/**
 * How often the pump heartbeats while the attempt waits on ClickHouse, S3 or Postgres. The SDK throttles what it
 * sends (the worker sets maxHeartbeatThrottleInterval), so this only makes sure a live attempt never goes silent;
 * an attempt whose process is frozen stops heartbeating, and Temporal retries it elsewhere.
 */
const PUMP_MS = 1_000;

/** FileIO whose writes are cancelled by `signal`. Reads, listings and deletes are not: cleaning up must still work. */
export function abortableIO(io: FileIO, signal: AbortSignal): FileIO {
  return { ...io, write: (uri, data, opts) => io.write(uri, data, { ...opts, signal: opts?.signal ? AbortSignal.any([signal, opts.signal]) : signal }) };
}

/** Runs `fn` as one attempt: heartbeats flowing, stopped by cancellation or a lost lock (see Attempt). */
export async function runAttempt<T>(deps: { ch: ClickHouse; io: FileIO }, guard: LockGuard | undefined, fn: (a: Attempt) => Promise<T>): Promise<T> {
  const sources = [cancellationSignal(), guard?.signal].filter((s): s is AbortSignal => s !== undefined);
  const signal = sources.length ? AbortSignal.any(sources) : new AbortController().signal;
  let details: unknown;
  const send = () => {
    try {
      heartbeat(details);
    } catch {
      // the activity already completed
    }
  };
  const pump = setInterval(send, PUMP_MS);
  pump.unref();
  try {
    return await fn({
      signal,
      ch: deps.ch.withSignal(signal),
      io: abortableIO(deps.io, signal),
      beat: (d) => {
        details = d;
        send();
      },
      throwIfStopped: () => {
        if (signal.aborted) throw signal.reason;
      },
    });
  } catch (err) {
    // A step may fail first because the attempt was stopped (e.g. a query's connection dropped while the process was
    // frozen, before the periodic lock check noticed the takeover): ask the lock before blaming the step.
    if (!signal.aborted) await guard?.checkNow();
    if (!signal.aborted) throw err;
    // Whatever the step in flight failed with, the cause is the stop: report that (a CancelledFailure tells Temporal
    // the attempt honoured its cancellation; a lost lock is retryable).
    const reason = signal.reason as Error;
    warn('attempt stopped: it commits nothing more', { reason: reason?.message ?? String(reason), error: (err as Error)?.message });
    throw reason;
  } finally {
    clearInterval(pump);
  }
}
