import type { StorageAccess } from './options';

/** A vended credential, scoped to the warehouse (the spec's StorageCredential). */
export interface StorageCredential {
  prefix: string;
  config: Record<string, string>;
}

/**
 * The load-table `config`: what a reader needs to open the files (region; MinIO's endpoint and path-style
 * addressing). Keys only when credential vending is configured, and then only the vended read-only pair: the
 * worker's own S3 keys are never sent.
 */
export function tableConfig(s: StorageAccess): { config: Record<string, string>; credentials: StorageCredential[] } {
  if (!s.warehouse.startsWith('s3://')) return { config: {}, credentials: [] };
  const where: Record<string, string> = { 'client.region': s.s3Region, 's3.region': s.s3Region };
  if (s.s3Endpoint) Object.assign(where, { 's3.endpoint': s.s3Endpoint, 's3.path-style-access': 'true' });
  if (!s.vended) return { config: where, credentials: [] };
  const keys = { 's3.access-key-id': s.vended.accessKeyId, 's3.secret-access-key': s.vended.secretAccessKey };
  // Both places: the spec tells clients to look in storage-credentials first; older clients read only config.
  return { config: { ...where, ...keys }, credentials: [{ prefix: s.warehouse, config: { ...where, ...keys } }] };
}
