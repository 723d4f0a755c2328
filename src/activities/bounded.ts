/**
 * Runs `fn` over `items` with at most `limit` calls in flight and, when `cost` is given, at most `budget` of their
 * summed cost in flight (a single item above the budget still runs, alone). Results come in input order. On the
 * first error no new item starts, the ones in flight are awaited (so the caller can clean up everything they made),
 * and that error is thrown.
 */
export async function boundedMap<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>, o: { limit: number; cost?: (item: T) => number; budget?: number }): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  const limit = Math.max(1, Math.floor(o.limit));
  const cost = o.cost ?? (() => 0);
  const budget = o.budget ?? Infinity;
  let next = 0;
  let inFlight = 0;
  let spent = 0;
  let failed: { err: unknown } | undefined;
  return new Promise<R[]>((resolve, reject) => {
    const pump = (): void => {
      if (failed) {
        if (inFlight === 0) reject(failed.err);
        return;
      }
      if (next >= items.length && inFlight === 0) {
        resolve(out);
        return;
      }
      while (next < items.length && inFlight < limit && (inFlight === 0 || spent + cost(items[next]!) <= budget)) {
        const i = next++;
        const c = cost(items[i]!);
        inFlight++;
        spent += c;
        fn(items[i]!, i).then(
          (r) => {
            out[i] = r;
          },
          (err: unknown) => {
            failed ??= { err };
          },
        ).finally(() => {
          inFlight--;
          spent -= c;
          pump();
        });
      }
    };
    pump();
  });
}
