import type { FastifyInstance } from 'fastify';
import { noSuchWarehouse } from './errors';

/**
 * The endpoints this server implements (CatalogConfig.endpoints). Writes are not listed, so clients that read the
 * list (Iceberg Java ≥ 1.7, PyIceberg, DuckDB) fail fast before sending one; the server refuses them anyway.
 */
export const ENDPOINTS = [
  'GET /v1/{prefix}/namespaces',
  'GET /v1/{prefix}/namespaces/{namespace}',
  'HEAD /v1/{prefix}/namespaces/{namespace}',
  'GET /v1/{prefix}/namespaces/{namespace}/tables',
  'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/metrics',
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
