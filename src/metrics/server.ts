import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { registry } from './registry';

/**
 * Temporal SDK metrics this project's dashboard and alerts use. The SDK's Prometheus exporter (Rust core) names
 * them; test/metrics.test.ts checks that a real worker exports each after an offload.
 */
export const SDK_METRIC_NAMES: readonly string[] = [
  'temporal_workflow_completed',
  'temporal_workflow_failed',
  'temporal_activity_execution_failed',
  'temporal_activity_execution_latency',
  'temporal_activity_schedule_to_start_latency',
  'temporal_workflow_task_schedule_to_start_latency',
  'temporal_worker_task_slots_available',
  'temporal_workflow_endtoend_latency',
  'temporal_num_pollers',
];

export interface MetricsServerOptions {
  /** Port of /metrics. */
  port: number;
  /** @default '0.0.0.0' (reachable by a Prometheus in another container) */
  host?: string;
}

export interface MetricsServer {
  /** host:port where the Temporal SDK's own exporter listens (loopback only); pass to Runtime.install. */
  sdkBindAddress: string;
  /** http://host:port/metrics */
  url: string;
  close(): Promise<void>;
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('metrics: no loopback port'))));
    });
  });
}

/**
 * Serves one Prometheus scrape target on `port`: the Temporal SDK's runtime metrics (its exporter listens on a
 * private loopback port and is proxied) followed by coldtier's own (prom-client). One target keeps the Prometheus
 * config, and the dashboard's `instance` label, simple.
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const sdkBindAddress = `127.0.0.1:${await freeLoopbackPort()}`;
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('coldtier worker: metrics are on /metrics\n');
      return;
    }
    void scrape(sdkBindAddress).then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics: ${(err as Error).message}\n`),
    );
  });
  const host = opts.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`metrics: cannot listen on ${host}:${opts.port} (${err.code ?? err.message}); choose another --metrics-port`, { cause: err })),
    );
    server.listen({ host, port: opts.port }, resolve);
  });
  return {
    sdkBindAddress,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${opts.port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function scrape(sdkBindAddress: string): Promise<string> {
  const ours = await registry.metrics();
  let sdk: string;
  try {
    const r = await fetch(`http://${sdkBindAddress}/metrics`, { signal: AbortSignal.timeout(5_000) });
    sdk = r.ok ? await r.text() : `# temporal sdk metrics unavailable: HTTP ${r.status}\n`;
  } catch (err) {
    // Only before the Temporal runtime is up; our own metrics still go out.
    sdk = `# temporal sdk metrics unavailable: ${(err as Error).message}\n`;
  }
  return `${sdk.endsWith('\n') || !sdk ? sdk : `${sdk}\n`}${ours}`;
}
