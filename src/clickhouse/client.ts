import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { tableFromIPC, type Table } from 'apache-arrow';
import { ConnectError, describeConnectError } from '../errors';
import { SourceTableMissingError } from './errors';

export interface ClickHouseSettings {
  url: string;
  username: string;
  password: string;
  database: string;
}

type Params = Record<string, unknown>;

/** The hot-tier reader: a ClickHouse server over HTTP(S), or embedded chDB through the client's connection hook. */
export interface ClickHouse {
  readonly client: ClickHouseClient;
  readonly database: string;
  json<T>(query: string, params?: Params): Promise<T[]>;
  /** Runs a SELECT and returns the rows as one Arrow table (uncompressed IPC, strings as Utf8). */
  arrow(query: string, params?: Params): Promise<Table>;
  command(query: string, params?: Params): Promise<void>;
  /**
   * The same connection, with every query (including `client.exec` streams) tied to `signal`: when it aborts, the
   * HTTP request is cancelled (ClickHouse cancels the query when its client goes; chDB's connection hook rejects at
   * once, though the embedded engine finishes the computation in the background) and the call throws the signal's
   * reason. Activities bind their cancellation and lost-lock signal here.
   */
  withSignal(signal: AbortSignal): ClickHouse;
  close(): Promise<void>;
}

/** Settings that make ClickHouse's Arrow output decodable by apache-arrow and typed like Iceberg expects. */
export const ARROW_SETTINGS = {
  output_format_arrow_compression_method: 'none',
  output_format_arrow_string_as_string: 1,
  output_format_arrow_fixed_string_as_fixed_byte_array: 1,
  output_format_arrow_low_cardinality_as_dictionary: 0,
} as const;

async function makeClient(s: ClickHouseSettings): Promise<ClickHouseClient> {
  if (s.url.startsWith('chdb://')) {
    const path = s.url.slice('chdb://'.length);
    const { createChdbConnection } = await import('chdb/connection');
    return createClient({ connection: createChdbConnection({ path }), log: { level: ClickHouseLogLevel.OFF } } as Parameters<typeof createClient>[0]);
  }
  // Errors reach the caller as exceptions; the client's own console logging would duplicate them (and may echo queries).
  return createClient({ url: s.url, username: s.username, password: s.password, database: s.database, request_timeout: 600_000, log: { level: ClickHouseLogLevel.OFF } });
}

/** Socket-level failures: the server is down, restarting or unreachable. */
const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

export async function openClickHouse(s: ClickHouseSettings): Promise<ClickHouse> {
  const target = s.url.replace(/\/\/[^@/]*@/, '//');
  let client: ClickHouseClient;
  try {
    client = await makeClient(s);
    await (await client.query({ query: 'SELECT 1', format: 'JSONEachRow' })).json();
  } catch (err) {
    // chDB locks its data directory to one process: a second process (the CLI next to `coldtier demo --keep` or a
    // worker) cannot open it (chDB prints "Cannot lock file" itself; the error says "Failed to create connection").
    // That is not an unreachable server; say what to do instead.
    const why = String((err as Error)?.message ?? err);
    if (s.url.startsWith('chdb://') && /Cannot lock file|Code: 76\b|Failed to create connection/.test(why)) {
      throw new ConnectError(
        'ClickHouse',
        'CLICKHOUSE_URL',
        `cannot open the embedded ClickHouse (chDB) at ${s.url.slice('chdb://'.length)} (${why}): chDB allows one process per data directory, so it is most likely open in another process (a worker, or \`coldtier demo --keep\`); set CLICKHOUSE_URL to that process's HTTP gateway (the demo writes it to <dir>/env) or stop that process`,
        { cause: err },
      );
    }
    throw describeConnectError('ClickHouse', 'CLICKHOUSE_URL', target, err);
  }
  return wrap(client, s.database, target);
}

/** Client methods that take a query and accept `abort_signal`. */
const ABORTABLE = new Set<PropertyKey>(['query', 'exec', 'command', 'insert']);

function wrap(client: ClickHouseClient, database: string, target: string, signal?: AbortSignal): ClickHouse {
  // A server that went away mid-run surfaces as a bare socket error ("connect ECONNREFUSED 127.0.0.1:8123");
  // say which service and setting it is. Still retryable: the server may come back.
  const reachable = async <R>(run: () => Promise<R>): Promise<R> => {
    try {
      return await run();
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (NETWORK_ERRORS.has((err as { code?: string }).code ?? '')) throw describeConnectError('ClickHouse', 'CLICKHOUSE_URL', target, err);
      throw err;
    }
  };
  const bound = signal
    ? new Proxy(client, {
        get(t, prop, receiver) {
          const v = Reflect.get(t, prop, receiver) as unknown;
          if (!ABORTABLE.has(prop) || typeof v !== 'function') return v;
          return (params: Record<string, unknown>) => {
            if (signal.aborted) return Promise.reject(signal.reason as Error);
            // A ClickHouse server keeps running a read-only query whose HTTP client went away unless told otherwise.
            const settings = { cancel_http_readonly_queries_on_client_close: 1, ...(params.clickhouse_settings as object | undefined) };
            return (v as (p: unknown) => unknown).call(t, { abort_signal: signal, ...params, clickhouse_settings: settings });
          };
        },
      })
    : client;
  return {
    client: bound,
    database,
    json<T>(query: string, params: Params = {}) {
      return reachable(async () => {
        const rs = await bound.query({ query, query_params: params, format: 'JSONEachRow' });
        return rs.json<T>();
      });
    },
    arrow(query: string, params: Params = {}) {
      return reachable(async () => {
        const res = await bound.exec({ query: `${query} FORMAT ArrowStream`, query_params: params, clickhouse_settings: { ...ARROW_SETTINGS } });
        const chunks: Buffer[] = [];
        for await (const chunk of res.stream) chunks.push(chunk as Buffer);
        return tableFromIPC(Buffer.concat(chunks));
      });
    },
    command(query: string, params: Params = {}) {
      return reachable(async () => void (await bound.command({ query, query_params: params })));
    },
    withSignal: (next) => wrap(client, database, target, signal ? AbortSignal.any([signal, next]) : next),
    close: () => client.close(),
  };
}

/** `db.table` with both parts backtick-quoted. Parts are validated identifiers (config schema). */
export function qualified(ch: { database: string }, source: string): { database: string; table: string; sql: string } {
  const [database, table] = source.includes('.') ? (source.split('.') as [string, string]) : [ch.database, source];
  return { database, table, sql: `${quote(database)}.${quote(table)}` };
}

export function quote(identifier: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(identifier)) throw new Error(`refusing to quote unvalidated identifier ${JSON.stringify(identifier)}`);
  return `\`${identifier}\``;
}

export interface ColumnInfo {
  name: string;
  type: string;
}

/** Columns of a source table in table order. Throws SourceTableMissingError when it does not exist. */
export async function describeSource(ch: ClickHouse, tableName: string, source: string): Promise<ColumnInfo[]> {
  const q = qualified(ch, source);
  const cols = await ch.json<ColumnInfo>('SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position', {
    db: q.database,
    t: q.table,
  });
  if (!cols.length) throw new SourceTableMissingError(tableName, `${q.database}.${q.table}`);
  return cols;
}
