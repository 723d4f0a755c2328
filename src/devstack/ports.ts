import { createServer } from 'node:net';

// Ports handed out by this process; never hand the same one out twice while a stack might still use it.
const handedOut = new Set<number>();

function probe(port: number): Promise<number | undefined> {
  return new Promise((resolveProbe) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolveProbe(undefined));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const address = server.address();
      const got = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => resolveProbe(got));
    });
  });
}

/** A currently free TCP port on 127.0.0.1 (there is an inherent race until the server binds it). */
export async function getFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probe(0);
    if (port !== undefined && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('devstack: could not find a free TCP port on 127.0.0.1');
}

/** Whether something already listens on 127.0.0.1:port. */
export async function isPortFree(port: number): Promise<boolean> {
  return (await probe(port)) !== undefined;
}
