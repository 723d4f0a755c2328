import type { FastifyInstance } from 'fastify';
import { badRequest, noSuchNamespace, writeRefused } from './errors';
import { paginate } from './paging';
import type { CatalogStore } from './store';

/** Path and query shapes the routes validate (a failure is a 400 in the spec's shape). */
export const pageQuery = {
  type: 'object',
  properties: { pageToken: { type: 'string' }, pageSize: { type: 'integer', minimum: 1 } },
} as const;
export interface PageQuery {
  pageToken?: string;
  pageSize?: number;
}
export interface NsParams {
  prefix: string;
  namespace: string;
}

/**
 * A namespace path parameter: levels separated by the unit separator 0x1F (`%1F`, the spec's default; this server
 * advertises no other). Fastify has already URL-decoded it.
 */
export function parseNamespace(raw: string): string[] {
  const parts = raw.split('\x1f');
  if (parts.some((p) => p === '')) throw badRequest(`namespace ${JSON.stringify(raw)} has an empty level (levels are separated by %1F)`);
  return parts;
}

export function registerNamespaceRoutes(app: FastifyInstance, store: CatalogStore): void {
  app.get<{ Params: { prefix: string }; Querystring: PageQuery & { parent?: string } }>(
    '/v1/:prefix/namespaces',
    { schema: { querystring: { ...pageQuery, properties: { ...pageQuery.properties, parent: { type: 'string' } } } } },
    async (req) => {
      // "For backward compatibility, empty string is treated as absent."
      const parent = req.query.parent ? parseNamespace(req.query.parent) : [];
      const children = await store.childNamespaces(parent);
      if (!children) throw noSuchNamespace(parent);
      const page = paginate(children, (n) => n.join('\x1f'), req.query.pageToken, req.query.pageSize);
      return { namespaces: page.items, ...(page.next ? { 'next-page-token': page.next } : {}) };
    },
  );

  app.get<{ Params: NsParams }>('/v1/:prefix/namespaces/:namespace', async (req) => {
    const ns = parseNamespace(req.params.namespace);
    const properties = await store.namespaceProperties(ns);
    if (!properties) throw noSuchNamespace(ns);
    return { namespace: ns, properties };
  });

  app.head<{ Params: NsParams }>('/v1/:prefix/namespaces/:namespace', async (req, reply) => {
    const ns = parseNamespace(req.params.namespace);
    if (!(await store.namespaceExists(ns))) throw noSuchNamespace(ns);
    return reply.code(204).send();
  });

  const refuse = (what: string) => async () => {
    throw writeRefused(what);
  };
  app.post('/v1/:prefix/namespaces', refuse('create namespace'));
  app.delete('/v1/:prefix/namespaces/:namespace', refuse('drop namespace'));
  app.post('/v1/:prefix/namespaces/:namespace/properties', refuse('update namespace properties'));
}
