// A TCP proxy on 127.0.0.1 for fault tests: forwards every connection to a target and can cut one silently, the way
// a NAT or firewall drops a flow: from then on nothing is forwarded in either direction and neither side is closed,
// so neither end learns anything until it sends and waits for an answer that never comes.
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface ProxiedConnection {
  /** The proxy's local port towards the target: what the target sees as the client's port (pg_stat_activity.client_port). */
  upstreamPort: number;
  cut: boolean;
}

export interface TcpProxy {
  port: number;
  connections(): ProxiedConnection[];
  /** Silently cuts the connections `match` selects; returns how many. */
  cut(match: (c: ProxiedConnection) => boolean): number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs: { conn: ProxiedConnection; client: Socket; upstream: Socket }[] = [];
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const conn: ProxiedConnection = { upstreamPort: 0, cut: false };
    upstream.once('connect', () => (conn.upstreamPort = upstream.localPort ?? 0));
    pairs.push({ conn, client, upstream });
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (b) => {
        if (!conn.cut) to.write(b);
      });
      // A cut connection stays open on both sides: an end, a reset or an error is swallowed, as a dead route would.
      from.on('end', () => {
        if (!conn.cut) to.end();
      });
      from.on('error', () => {
        if (!conn.cut) to.destroy();
      });
      from.on('close', () => {
        if (!conn.cut) to.destroy();
      });
    };
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => pairs.map((p) => p.conn),
    cut: (match) => {
      const hit = pairs.filter((p) => !p.conn.cut && match(p.conn));
      for (const p of hit) p.conn.cut = true;
      return hit.length;
    },
    close: async () => {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
