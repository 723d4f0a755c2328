import { badRequest } from './errors';

/** One page of a sorted listing, as the spec pages: `pageToken` from the previous page's `next-page-token`. */
export interface Page<T> {
  items: T[];
  /** Absent on the last page (the spec: null or absent means no more). */
  next?: string;
}

/**
 * Pages `items` (sorted by `key`). The token is the last key returned, so a page stays right when rows are added
 * or removed between requests. No `pageSize`: everything in one page, as the spec allows.
 */
export function paginate<T>(items: T[], key: (t: T) => string, pageToken?: string, pageSize?: number): Page<T> {
  let start = 0;
  if (pageToken) {
    let after: string;
    try {
      after = Buffer.from(pageToken, 'base64url').toString('utf8');
    } catch {
      throw badRequest(`pageToken ${JSON.stringify(pageToken)} is not one this server issued`);
    }
    start = items.findIndex((t) => key(t) > after);
    if (start < 0) start = items.length;
  }
  if (!pageSize || start + pageSize >= items.length) return { items: items.slice(start) };
  const page = items.slice(start, start + pageSize);
  return { items: page, next: Buffer.from(key(page.at(-1)!), 'utf8').toString('base64url') };
}
