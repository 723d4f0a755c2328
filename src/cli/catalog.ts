import { readFileSync } from 'node:fs';
import { openFileIO } from '../activities/deps';
import { optionsFromSettings, startCatalogServer, type CatalogServer } from '../catalog-server/server';
import type { Settings } from '../config/settings';
import { migrate } from '../db/migrations';
import { openPool } from '../db/pool';

/** Reads the certificate pair named by the settings; a missing file is an error naming the setting. */
function readTls(s: Settings): { cert: Buffer; key: Buffer } | undefined {
  const { tlsCertPath, tlsKeyPath } = s.catalogServer;
  if (!tlsCertPath || !tlsKeyPath) return undefined;
  const read = (path: string, setting: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${setting}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); point it at a PEM file`, { cause: err });
    }
  };
  return { cert: read(tlsCertPath, 'catalogServer.tlsCertPath (COLDTIER_CATALOG_TLS_CERT)'), key: read(tlsKeyPath, 'catalogServer.tlsKeyPath (COLDTIER_CATALOG_TLS_KEY)') };
}

/**
 * Serves the read-only Iceberg REST catalog over this deployment's catalog rows, on its own Postgres pool (a
 * catalog under load never takes connections the worker's commits need).
 */
export async function serveCatalog(s: Settings, opts: { port?: number; log?: (err: unknown, message: string) => void } = {}): Promise<CatalogServer & { closeAll(): Promise<void> }> {
  if (s.catalogServer.tokens.length === 0) {
    throw new Error('catalogServer.tokens (COLDTIER_CATALOG_TOKENS) is empty: set at least one bearer token (e.g. COLDTIER_CATALOG_TOKENS=$(openssl rand -hex 32)); clients send it as "Authorization: Bearer <token>"');
  }
  const tls = readTls(s);
  const pool = await openPool(s.databaseUrl);
  try {
    await migrate(pool);
    const io = await openFileIO(s);
    const server = await startCatalogServer({ ...optionsFromSettings(s, { pool, io, ...(tls ? { tls } : {}) }), ...(opts.port !== undefined ? { port: opts.port } : {}), ...(opts.log ? { log: opts.log } : {}) });
    return { ...server, closeAll: async () => void (await Promise.allSettled([server.close().then(() => pool.end())])) };
  } catch (err) {
    await pool.end();
    throw err;
  }
}
