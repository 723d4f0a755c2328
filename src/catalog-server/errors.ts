// Errors of the REST catalog server. Every one becomes the spec's error body
// ({"error": {"message", "type", "code"}}, IcebergErrorResponse in open-api/rest-catalog-open-api.yaml), never a stack.

/** The `type` names Iceberg's clients map to their own exceptions (Java's ErrorHandlers, PyIceberg's _handle_non_200_response). */
export type CatalogErrorType =
  | 'BadRequestException'
  | 'NotAuthorizedException'
  | 'ForbiddenException'
  | 'NoSuchNamespaceException'
  | 'NoSuchTableException'
  | 'NoSuchWarehouseException'
  | 'NotFoundException'
  | 'ServiceUnavailableException'
  | 'InternalServerError';

/** The spec's error body. */
export interface IcebergErrorResponse {
  error: { message: string; type: CatalogErrorType; code: number };
}

/** Thrown by route handlers and hooks of the catalog server; the error handler sends it as the spec's error body. */
export class CatalogHttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: CatalogErrorType,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CatalogHttpError';
  }

  body(): IcebergErrorResponse {
    return { error: { message: this.message, type: this.type, code: this.status } };
  }
}

export const badRequest = (message: string) => new CatalogHttpError(400, 'BadRequestException', `malformed request: ${message}`);

export const notAuthorized = (why: string) =>
  new CatalogHttpError(401, 'NotAuthorizedException', `${why}: send "Authorization: Bearer <token>" with one of the tokens in catalogServer.tokens (COLDTIER_CATALOG_TOKENS)`);

/**
 * Any write. coldtier commits a table's metadata in the same Postgres transaction that advances its watermark; a
 * commit from another engine would bypass that transaction (and the offload's retry detection), so it is refused.
 */
export const writeRefused = (what: string) =>
  new CatalogHttpError(
    403,
    'ForbiddenException',
    `${what} refused: coldtier owns these tables and is their only writer (each commit is one Postgres transaction with its ` +
      'watermark); this REST catalog is read-only. Change tables through the coldtier registry (tables: in the config) and its offload',
  );

export const noSuchNamespace = (ns: string[]) => new CatalogHttpError(404, 'NoSuchNamespaceException', `Namespace does not exist: ${ns.join('.')}`);

export const noSuchTable = (ns: string[], table: string) => new CatalogHttpError(404, 'NoSuchTableException', `Table does not exist: ${[...ns, table].join('.')}`);

export const noSuchWarehouse = (name: string, served: string) =>
  new CatalogHttpError(404, 'NoSuchWarehouseException', `Warehouse does not exist: ${name}; this catalog serves warehouse ${served} (catalogServer.warehouse)`);
