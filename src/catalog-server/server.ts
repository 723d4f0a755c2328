import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { metrics } from '../metrics/registry';
import { bearerAuth } from './auth';
import { registerConfigRoute } from './config-route';
import { CatalogHttpError, badRequest, noSuchWarehouse } from './errors';
import { registerNamespaceRoutes } from './namespaces';
import type { CatalogServerOptions } from './options';
import { CatalogStore } from './store';
import { registerTableRoutes } from './tables';

export type { CatalogServerOptions } from './options';
export { optionsFromSettings } from './options';

const OAUTH = '/v1/oauth/tokens';

/** Maps anything a handler throws to the spec's error; only CatalogHttpError messages reach the client. */
function toCatalogError(err: FastifyError, log: (err: unknown, message: string) => void): CatalogHttpError {
  if (err instanceof CatalogHttpError) return err;
  if (err.validation) return badRequest(`${err.validationContext ?? 'request'}${err.message.replace(/^(querystring|params|body|headers)/, '')}`);
  // Fastify's own 4xx (unparsable JSON, unsupported media type, body too large) keep their status and message.
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new CatalogHttpError(err.statusCode, 'BadRequestException', `malformed request: ${err.message}`);
  }
  log(err, 'coldtier catalog: request failed');
  // A system error (ECONNREFUSED, ETIMEDOUT...) from Postgres or the object store is transient: tell clients to retry.
  if (/^E[A-Z]+$/.test(String((err as { code?: unknown }).code ?? ''))) {
    return new CatalogHttpError(503, 'ServiceUnavailableException', "coldtier's catalog could not reach Postgres or the object store; retry later");
  }
  return new CatalogHttpError(500, 'InternalServerError', "internal error in coldtier's REST catalog; the server log has the cause");
}

/** The Fastify app serving the read-only Iceberg REST catalog (not listening yet: `inject` works for tests). */
export function buildCatalogApp(opts: CatalogServerOptions): FastifyInstance {
  const warehouse = opts.warehouse ?? opts.catalogName;
  const log = opts.log ?? ((err: unknown, message: string) => console.error(message, err));
  const authorize = bearerAuth(opts.tokens);
  const store = new CatalogStore(opts.pool, opts.io, opts.catalogName);
  // No request logging: Fastify's logger would write URLs and peers to stdout; failures go to `log` above.
  const app = Fastify({ logger: false, exposeHeadRoutes: false, bodyLimit: 1024 * 1024, ...(opts.tls ? { https: opts.tls } : {}) }) as unknown as FastifyInstance;

  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.url !== OAUTH) authorize(req.headers.authorization);
  });
  app.addHook('preHandler', async (req) => {
    const prefix = (req.params as { prefix?: string } | undefined)?.prefix;
    if (prefix !== undefined && prefix !== warehouse) throw noSuchWarehouse(prefix, warehouse);
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.catalogRequest(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const e = toCatalogError(err, log);
    if (e.status === 401) reply.header('www-authenticate', 'Bearer realm="coldtier"');
    return req.method === 'HEAD' ? reply.code(e.status).send() : reply.code(e.status).send(e.body());
  });
  app.setNotFoundHandler((req) => {
    throw new CatalogHttpError(404, 'NotFoundException', `no route ${req.method} ${req.url.split('?')[0]}: this server implements the Iceberg REST catalog's read endpoints under /v1 (see GET /v1/config)`);
  });

  // Clients send DELETE with `content-type: application/json` and no body (PyIceberg does): an empty body is no body,
  // not a malformed one. Anything else must parse.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(badRequest(`the body is not JSON (${(err as Error).message})`), undefined);
    }
  });

  // The deprecated OAuth2 endpoint: clients configured with a bearer token never call it. Answer in OAuth's own
  // error shape so a client configured with a client id/secret says what to change.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.post(OAUTH, async (_req, reply) =>
    reply.code(400).send({ error: 'unsupported_grant_type', error_description: "coldtier's REST catalog issues no tokens: configure the client with a bearer token (e.g. PyIceberg token=..., DuckDB TOKEN ...)" }),
  );

  registerConfigRoute(app, warehouse);
  registerNamespaceRoutes(app, store);
  registerTableRoutes(app, store, opts.storage);
  return app;
}

export interface CatalogServer {
  /** http(s)://host:port, the URI clients are given. */
  url: string;
  close(): Promise<void>;
}

/** Builds the app and listens; a port in use is an error naming the setting. */
export async function startCatalogServer(opts: CatalogServerOptions): Promise<CatalogServer> {
  const app = buildCatalogApp(opts);
  const host = opts.host ?? '0.0.0.0';
  const port = opts.port ?? 8181;
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    throw new Error(`coldtier catalog: cannot listen on ${host}:${port} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); set catalogServer.port (COLDTIER_CATALOG_PORT) or --port to a free port`, { cause: err });
  }
  const address = app.server.address();
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return { url: `${opts.tls ? 'https' : 'http'}://${shownHost}:${typeof address === 'object' && address ? address.port : port}`, close: () => app.close() };
}
