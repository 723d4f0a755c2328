import type pg from 'pg';
import type { Settings } from '../config/settings';
import type { FileIO } from '../iceberg';

/** What readers need to reach the table files, sent in each load-table `config`. */
export interface StorageAccess {
  /** The warehouse root (s3://bucket/prefix or file:///path); vended credentials are scoped to it. */
  warehouse: string;
  /** Custom S3 endpoint (MinIO); when set, readers are told to use path-style addressing as coldtier does. @default AWS */
  s3Endpoint?: string;
  s3Region: string;
  /** Credential vending: read-only keys sent to authenticated clients. @default none (no key in any response) */
  vended?: { accessKeyId: string; secretAccessKey: string };
}

export interface CatalogServerOptions {
  pool: pg.Pool;
  io: FileIO;
  /** catalog_name of the rows served (settings catalog.name). */
  catalogName: string;
  /** The warehouse name clients ask for, also the REST route prefix. @default catalogName */
  warehouse?: string;
  /** Accepted bearer tokens; at least one. */
  tokens: readonly string[];
  /** @default 8181 */
  port?: number;
  /** @default '0.0.0.0' */
  host?: string;
  /** PEM certificate chain and key: serve HTTPS. @default plain HTTP */
  tls?: { cert: string | Buffer; key: string | Buffer };
  storage: StorageAccess;
  /** Where server-side failures are logged (the client only gets a generic message). @default console.error */
  log?: (err: unknown, message: string) => void;
}

/** The options of `coldtier catalog` from the settings; the one place where the settings map onto the server. */
export function optionsFromSettings(s: Settings, deps: { pool: pg.Pool; io: FileIO; tls?: CatalogServerOptions['tls'] }): CatalogServerOptions {
  const c = s.catalogServer;
  return {
    pool: deps.pool,
    io: deps.io,
    catalogName: s.catalog.name,
    warehouse: c.warehouse ?? s.catalog.name,
    tokens: c.tokens,
    port: c.port,
    host: c.host,
    ...(deps.tls ? { tls: deps.tls } : {}),
    storage: {
      warehouse: s.warehouse,
      s3Region: s.s3.region,
      ...(s.s3.endpoint ? { s3Endpoint: s.s3.endpoint } : {}),
      ...(c.vendedAccessKeyId && c.vendedSecretAccessKey ? { vended: { accessKeyId: c.vendedAccessKeyId, secretAccessKey: c.vendedSecretAccessKey } } : {}),
    },
  };
}
