import type { ClickHouse } from '../../src/clickhouse/client';
import type { FileIO } from '../../src/iceberg';

/** Seconds spent in each kind of I/O call, summed (the offload makes them one at a time). */
export type Phases = Record<string, number>;

/**
 * Wraps the ClickHouse reader and the FileIO so a step can split its wall time into reading, bound queries and
 * uploads; what is left is CPU work in the process (footer rewrite or Arrow → Parquet encoding, metrics, manifests)
 * and Postgres.
 */
export function instrument(ch: ClickHouse, io: FileIO): { ch: ClickHouse; io: FileIO; phases: Phases } {
  const phases: Phases = {};
  const time = async <T>(name: string, p: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await p();
    } finally {
      phases[name] = (phases[name] ?? 0) + (performance.now() - t) / 1000;
    }
  };
  // The ClickHouse encoder's `FORMAT Parquet` queries go through client.exec (chDB answers them whole, so this times
  // ClickHouse's sort + encode).
  const client = Object.create(ch.client, {
    exec: { value: (args: Parameters<typeof ch.client.exec>[0]) => time('clickhouse: sort + encode Parquet (FORMAT Parquet)', () => ch.client.exec(args)) },
  }) as typeof ch.client;
  return {
    phases,
    ch: {
      client,
      database: ch.database,
      json: (q, p) => time('clickhouse: bound/describe queries', () => ch.json(q, p)),
      arrow: (q, p) => time('clickhouse: read batch as Arrow', () => ch.arrow(q, p)),
      command: (q, p) => time('clickhouse: commands', () => ch.command(q, p)),
      // The bench never cancels: the timed connection stands in for the bound one.
      withSignal() {
        return this;
      },
      close: () => ch.close(),
    },
    io: {
      write: (uri, data, opts) => time(uri.endsWith('.parquet') ? 'io: write Parquet' : 'io: write metadata/manifests', () => io.write(uri, data, opts)),
      read: (uri) => time('io: read', () => io.read(uri)),
      exists: (uri) => time('io: other', () => io.exists(uri)),
      delete: (uri) => time('io: other', () => io.delete(uri)),
      list: (uri) => time('io: other', () => io.list(uri)),
      listNames: (uri, prefix) => time('io: other', () => io.listNames(uri, prefix)),
      abortStaleUploads: (uri, olderThan, dryRun) => time('io: other', () => io.abortStaleUploads(uri, olderThan, dryRun)),
    },
  };
}
