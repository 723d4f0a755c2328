// Bounded parallel reads: a table with hundreds of manifests is read a few
// files at a time, neither one by one (latency-bound on S3) nor all at once
// (hundreds of sockets and every decoded manifest in memory together).

/** Parallel reads of manifests and manifest lists. @default 8 */
export const READ_PARALLELISM = 8;

/** `fn` over `items` with at most `limit` calls in flight; results in input order. Rejects with the first error. */
export async function mapLimit<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>, limit = READ_PARALLELISM): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
