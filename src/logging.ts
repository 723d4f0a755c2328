import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { pino, type Logger } from 'pino';

const LEVELS: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** COLDTIER_LOG_LEVEL (TRACE/DEBUG/INFO/WARN/ERROR), else the given default. */
export function logLevel(fallback: LogLevel): LogLevel {
  const v = process.env.COLDTIER_LOG_LEVEL?.toUpperCase();
  return LEVELS.includes(v as LogLevel) ? (v as LogLevel) : fallback;
}

let installed: Logger | undefined;
let installedMetrics: string | undefined;

export interface RuntimeOptions {
  /** host:port for the Temporal SDK's Prometheus exporter (see src/metrics/server.ts). @default no SDK metrics */
  sdkMetricsBindAddress?: string;
}

/**
 * One JSON logger (pino, to stderr) for coldtier and the Temporal SDK: worker, workflow and activity logs all carry
 * their context (task queue, workflow id, activity type). Installed once per process, in the same single
 * Runtime.install as the SDK's metrics exporter when one is asked for.
 */
export function installLogging(fallback: LogLevel, opts: RuntimeOptions = {}): Logger {
  if (installed) {
    if (opts.sdkMetricsBindAddress && opts.sdkMetricsBindAddress !== installedMetrics) {
      throw new Error('the Temporal runtime was installed before its metrics were configured: call installLogging with sdkMetricsBindAddress first');
    }
    return installed;
  }
  const level = logLevel(fallback);
  const log = pino({ level: level.toLowerCase(), base: { service: 'coldtier' } }, pino.destination(2));
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      const lvl = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
      log[lvl](entry.meta ?? {}, entry.message);
    }),
    ...(opts.sdkMetricsBindAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: opts.sdkMetricsBindAddress } } } } : {}),
  });
  installed = log;
  installedMetrics = opts.sdkMetricsBindAddress;
  return log;
}
