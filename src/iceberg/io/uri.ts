import { IcebergPathError } from '../errors';

/** A storage location split into its backend and the backend-specific address. */
export type ParsedUri =
  | { scheme: 's3'; bucket: string; key: string }
  | { scheme: 'file'; path: string };

const SCHEME_RE = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

/**
 * Parses `s3://bucket/key`, `s3a://bucket/key`, `file:///abs/path`, `file:/abs/path`
 * or a bare absolute path. Nothing is percent-decoded: Iceberg writers put
 * URL-encoded partition values (e.g. `name=a%2Fb`) literally into object keys
 * and file names, and every reader resolves them literally too.
 */
export function parseUri(uri: string): ParsedUri {
  const s3 = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (s3) return { scheme: 's3', bucket: s3[1] ?? '', key: s3[2] ?? '' };
  if (uri.startsWith('file://')) {
    const path = uri.slice('file://'.length);
    if (!path.startsWith('/')) throw new IcebergPathError(uri, 'file URIs must be absolute (file:///abs/path)');
    return { scheme: 'file', path };
  }
  if (uri.startsWith('file:/')) return { scheme: 'file', path: uri.slice('file:'.length) };
  if (uri.startsWith('/')) return { scheme: 'file', path: uri };
  throw new IcebergPathError(uri, 'unsupported scheme; use s3://bucket/key or file:///abs/path');
}

/**
 * Appends relative path parts to a base URI. Parts may contain `/`, but no part
 * may be absolute, carry a scheme, or contain `.`/`..` segments, so the result
 * always stays under `base`. Partition values reach paths through here, which is
 * why this refuses rather than normalises.
 */
export function joinUri(base: string, ...parts: string[]): string {
  if (base.length === 0) throw new IcebergPathError(base, 'base URI is empty');
  const segments: string[] = [];
  for (const part of parts) {
    if (part.startsWith('/') || part.startsWith('\\')) throw new IcebergPathError(part, `absolute part cannot be joined under ${base}`);
    if (SCHEME_RE.test(part) && part.includes('://')) throw new IcebergPathError(part, `a URI cannot be joined under ${base}`);
    for (const seg of part.split('/')) {
      if (seg === '') continue;
      if (seg === '.' || seg === '..') throw new IcebergPathError(part, `'${seg}' segments would escape ${base}`);
      if (seg.includes('\\') || seg.includes('\0')) throw new IcebergPathError(part, 'backslash or NUL in path segment');
      segments.push(seg);
    }
  }
  const trimmed = base.replace(/\/+$/, '');
  // "file:///" trims to "file:", keep the root slash.
  const root = trimmed.endsWith(':') ? `${trimmed}//` : trimmed;
  return segments.length === 0 ? trimmed : `${root}/${segments.join('/')}`;
}
