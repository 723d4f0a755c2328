import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';

/**
 * The ClickHouse HTTP interface in front of embedded chDB, so that several processes (workers, the CLI, tests) can
 * share one chDB data directory, which chDB otherwise locks to a single process. It is a development tool: it binds
 * to loopback, has no authentication, and is used where a real ClickHouse server would be in production.
 */
export interface ChdbGateway {
  url: string;
  close(): Promise<void>;
}

/** URL parameters of the HTTP interface that are not query settings. */
const NOT_SETTINGS = new Set(['query', 'database', 'query_id', 'session_id', 'session_timeout', 'default_format', 'user', 'password', 'enable_http_compression', 'compress', 'decompress', 'wait_end_of_query', 'send_progress_in_http_headers', 'http_headers_progress_interval_ms']);

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startChdbGateway(opts: { path: string; port?: number }): Promise<ChdbGateway> {
  const { createChdbConnection } = await import('chdb/connection');
  const conn = createChdbConnection({ path: opts.path });
  // Query parameters travel in the URL (@clickhouse/client); Node's 16 KB header limit would refuse long ones.
  const server: Server = createServer({ maxHeaderSize: 16 << 20 }, (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://gateway');
      if (url.pathname === '/ping') {
        res.end('Ok.\n');
        return;
      }
      const payload = await body(req);
      let query = url.searchParams.get('query') ?? '';
      let values: Readable | undefined;
      if (query) {
        if (payload.length) values = Readable.from([payload]);
      } else {
        query = payload.toString('utf8');
      }
      const query_params: Record<string, string> = {};
      const clickhouse_settings: Record<string, string> = {};
      for (const [k, v] of url.searchParams) {
        if (k.startsWith('param_')) query_params[k.slice('param_'.length)] = v;
        else if (!NOT_SETTINGS.has(k)) clickhouse_settings[k] = v;
      }
      try {
        const r = await conn.exec({ query, query_params, clickhouse_settings, ...(values ? { values } : {}) } as Parameters<typeof conn.exec>[0]);
        res.writeHead(200, { 'X-ClickHouse-Summary': '{}', 'Content-Type': 'application/octet-stream' });
        (r.stream as Readable).pipe(res);
      } catch (err) {
        const e = err as { message?: string; code?: string | number };
        const code = /Code: (\d+)/.exec(e.message ?? '')?.[1] ?? '1001';
        res.writeHead(500, { 'X-ClickHouse-Exception-Code': code, 'Content-Type': 'text/plain' });
        res.end(e.message?.startsWith('Code:') ? e.message : `Code: ${code}. DB::Exception: ${e.message ?? String(err)}`);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await conn.close();
    },
  };
}
