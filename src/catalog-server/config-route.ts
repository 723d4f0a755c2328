import type { FastifyInstance } from 'fastify';
import { noSuchWarehouse } from './errors';

/**
 * The endpoints this server answers (CatalogConfig.endpoints). The writes are listed too, although every one is
 * refused with 403: clients that check the list (PyIceberg, Iceberg Java ≥ 1.7) would otherwise fail on their side
 * with "server does not support endpoint" and never show the reason, that coldtier owns these tables — as a
 * read-only principal of any REST catalog gets a 403 from the server, not a missing endpoint.
 */
export const ENDPOINTS = [
  'GET /v1/{prefix}/namespaces',
  'POST /v1/{prefix}/namespaces',
  'GET /v1/{prefix}/namespaces/{namespace}',
  'HEAD /v1/{prefix}/namespaces/{namespace}',
  'DELETE /v1/{prefix}/namespaces/{namespace}',
  'POST /v1/{prefix}/namespaces/{namespace}/properties',
  'GET /v1/{prefix}/namespaces/{namespace}/tables',
  'POST /v1/{prefix}/namespaces/{namespace}/tables',
  'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'POST /v1/{prefix}/namespaces/{namespace}/register',
  'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/metrics',
  'POST /v1/{prefix}/tables/rename',
  'POST /v1/{prefix}/transactions/commit',
] as const;

/** GET /v1/config: both `defaults` and `overrides` (some clients reject a config without either) and the endpoints. */
export function registerConfigRoute(app: FastifyInstance, warehouse: string): void {
  app.get<{ Querystring: { warehouse?: string } }>(
    '/v1/config',
    { schema: { querystring: { type: 'object', properties: { warehouse: { type: 'string' } } } } },
    async (req) => {
      // Clients send the warehouse they were configured with; an empty one means "the default".
      const asked = req.query.warehouse;
      if (asked && asked !== warehouse) throw noSuchWarehouse(asked, warehouse);
      // `prefix` routes every later request under /v1/<warehouse>/…; clients must use the server's value.
      return { defaults: {}, overrides: { prefix: warehouse, warehouse }, endpoints: ENDPOINTS };
    },
  );
}
