import { createHash, timingSafeEqual } from 'node:crypto';
import { notAuthorized } from './errors';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Checks bearer tokens against the configured ones in constant time: both sides are hashed to 32 bytes (so the
 * comparison does not leak a token's length) and every configured token is compared, without an early exit.
 */
export function bearerAuth(tokens: readonly string[]): (authorization: string | undefined) => void {
  if (tokens.length === 0) throw new Error('catalogServer.tokens (COLDTIER_CATALOG_TOKENS) is empty: set at least one bearer token for the REST catalog');
  const known = tokens.map(digest);
  return (authorization) => {
    if (!authorization) throw notAuthorized('no Authorization header');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw notAuthorized('the Authorization header is not a bearer token');
    const presented = digest(m[1]!);
    let ok = false;
    for (const k of known) ok = timingSafeEqual(k, presented) || ok;
    if (!ok) throw notAuthorized('the bearer token is not one of this catalog\'s tokens');
  };
}
