import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { noSuchNamespace, noSuchTable, writeRefused } from './errors';
import { pageQuery, parseNamespace, type NsParams, type PageQuery } from './namespaces';
import type { StorageAccess } from './options';
import { paginate } from './paging';
import type { CatalogStore } from './store';
import { tableConfig } from './table-config';

interface TableParams extends NsParams {
  table: string;
}
type Snapshots = 'all' | 'refs';

/** Does an If-None-Match header (a list of tags, possibly weak, or `*`) match our tag? */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

export function registerTableRoutes(app: FastifyInstance, store: CatalogStore, storage: StorageAccess): void {
  const { config, credentials } = tableConfig(storage);
  const configJson = JSON.stringify(config);
  const credentialsJson = credentials.length ? `,"storage-credentials":${JSON.stringify(credentials)}` : '';

  app.get<{ Params: NsParams; Querystring: PageQuery }>('/v1/:prefix/namespaces/:namespace/tables', { schema: { querystring: pageQuery } }, async (req) => {
    const ns = parseNamespace(req.params.namespace);
    const names = await store.tables(ns);
    if (!names) throw noSuchNamespace(ns);
    const page = paginate(names, (n) => n, req.query.pageToken, req.query.pageSize);
    return { identifiers: page.items.map((name) => ({ namespace: ns, name })), ...(page.next ? { 'next-page-token': page.next } : {}) };
  });

  app.get<{ Params: TableParams; Querystring: { snapshots?: Snapshots } }>(
    '/v1/:prefix/namespaces/:namespace/tables/:table',
    { schema: { querystring: { type: 'object', properties: { snapshots: { type: 'string', enum: ['all', 'refs'] } } } } },
    async (req, reply) => {
      const ns = parseNamespace(req.params.namespace);
      const location = await store.metadataLocation(ns, req.params.table);
      if (!location) throw noSuchTable(ns, req.params.table);
      const snapshots = req.query.snapshots ?? 'all';
      // The tag needs only the catalog row: a client polling an unchanged table costs one indexed SELECT, no file read.
      // Every commit writes a new metadata file, so its location identifies the table's state.
      const etag = `"${createHash('sha256').update(`${location}\n${snapshots}\n${configJson}`).digest('hex').slice(0, 40)}"`;
      reply.header('etag', etag);
      if (matches(req.headers['if-none-match'], etag)) return reply.code(304).send();
      const metadata = await store.metadataJson(location, snapshots);
      // Assembled as text: the metadata JSON is already serialized losslessly (64-bit snapshot ids).
      const body = `{"metadata-location":${JSON.stringify(location)},"metadata":${metadata},"config":${configJson}${credentialsJson}}`;
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );

  app.head<{ Params: TableParams }>('/v1/:prefix/namespaces/:namespace/tables/:table', async (req, reply) => {
    const ns = parseNamespace(req.params.namespace);
    if (!(await store.metadataLocation(ns, req.params.table))) throw noSuchTable(ns, req.params.table);
    return reply.code(204).send();
  });

  // Scan reports some clients send after reading (Iceberg Java's RESTMetricsReporter): accepted and dropped.
  app.post('/v1/:prefix/namespaces/:namespace/tables/:table/metrics', async (_req, reply) => reply.code(204).send());

  const refuse = (what: string) => async () => {
    throw writeRefused(what);
  };
  app.post('/v1/:prefix/namespaces/:namespace/tables', refuse('create table'));
  app.post('/v1/:prefix/namespaces/:namespace/register', refuse('register table'));
  app.post('/v1/:prefix/namespaces/:namespace/tables/:table', refuse('commit to table'));
  app.delete('/v1/:prefix/namespaces/:namespace/tables/:table', refuse('drop table'));
  app.post('/v1/:prefix/namespaces/:namespace/tables/:table/unregister', refuse('unregister table'));
  app.post('/v1/:prefix/tables/rename', refuse('rename table'));
  app.post('/v1/:prefix/transactions/commit', refuse('multi-table commit'));
}
