import { readFileSync, existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { withSuggestions } from './did-you-mean';
import { ConfigError } from './errors';
import { defaultTables, identifier, tableConfigSchema } from './tables';

const clickhouseUrl = z
  .string()
  .refine((u) => /^https?:\/\/[^/]+/.test(u) || /^chdb:\/\/\/.+/.test(u), {
    message: 'must be http(s)://host:port for a ClickHouse server or chdb:///abs/path for the embedded engine',
  });

const warehouseUrl = z
  .string()
  .refine((u) => /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?$/.test(u) || /^file:\/\/\/.+/.test(u), {
    message: 'must be s3://bucket/prefix or file:///abs/path',
  })
  .refine((u) => !u.split('/').includes('..'), { message: 'must not contain ".." path segments' });

/** `coldtier catalog` (and `coldtier worker --catalog-port`): the read-only Iceberg REST catalog. */
const catalogServerSchema = z
  .object({
    /** TCP port. @default 8181 (the port Iceberg's REST examples use) */
    port: z.coerce.number().int().min(1).max(65_535).default(8181),
    /** Listen address. @default 0.0.0.0 */
    host: z.string().min(1).default('0.0.0.0'),
    /**
     * Bearer tokens a client may present (any one). Never logged. Without one the server refuses to start: every
     * request must be authenticated. @default none
     */
    tokens: z.array(z.string().min(16, 'must be at least 16 characters (e.g. openssl rand -hex 32)')).default([]),
    /** The warehouse name clients ask for (`warehouse=` / the REST `prefix`). @default the catalog name */
    warehouse: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, _ . -').optional(),
    /** Serve HTTPS with this PEM certificate chain (with tlsKeyPath). @default plain HTTP */
    tlsCertPath: z.string().optional(),
    tlsKeyPath: z.string().optional(),
    /**
     * Credential vending: these S3 keys (create them read-only) are sent to authenticated clients in each
     * load-table response. Off unless both are set; the worker's own S3 keys are never sent. @default off
     */
    vendedAccessKeyId: z.string().optional(),
    vendedSecretAccessKey: z.string().optional(),
  })
  .strict()
  .default({ port: 8181, host: '0.0.0.0', tokens: [] });

const settingsSchema = z
  .object({
    temporal: z
      .object({
        /** host:port of the Temporal frontend. @default localhost:7233 */
        address: z.string().regex(/^[^\s/]+:\d+$/, 'must be host:port').default('localhost:7233'),
        /** @default default */
        namespace: z.string().min(1).default('default'),
        /** @default coldtier */
        taskQueue: z.string().min(1).default('coldtier'),
        /** Use TLS (Temporal Cloud). Client cert/key paths are optional (mTLS). @default false */
        tls: z.boolean({ error: (i) => `must be true, false, 1 or 0, got ${JSON.stringify(i.input)}` }).default(false),
        tlsCertPath: z.string().optional(),
        tlsKeyPath: z.string().optional(),
        /** Temporal Cloud API key. Never logged. */
        apiKey: z.string().optional(),
      })
      .strict()
      .default({ address: 'localhost:7233', namespace: 'default', taskQueue: 'coldtier', tls: false }),
    /** Postgres holding the Iceberg JDBC catalog, the watermarks and the audit log. */
    databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must be postgres://user:pass@host:port/db'),
    clickhouse: z
      .object({
        url: clickhouseUrl,
        username: z.string().default('default'),
        password: z.string().default(''),
        database: identifier.default('default'),
      })
      .strict(),
    warehouse: warehouseUrl,
    s3: z
      .object({
        endpoint: z.string().url().optional(),
        region: z.string().default('us-east-1'),
        accessKeyId: z.string().optional(),
        secretAccessKey: z.string().optional(),
        /** Files at or above this many MiB are uploaded in 8 MiB parts (S3's minimum part is 5 MiB). @default 16 */
        multipartThresholdMb: z.coerce.number().int().min(5).max(5_000).default(16),
      })
      .strict()
      .default({ region: 'us-east-1', multipartThresholdMb: 16 }),
    catalog: z
      .object({
        /** catalog_name in iceberg_tables; readers (PyIceberg SqlCatalog, JdbcCatalog) must use the same name. @default coldtier */
        name: z.string().min(1).max(255).default('coldtier'),
        /** Iceberg namespace of every cold table. @default cold */
        namespace: identifier.default('cold'),
      })
      .strict()
      .default({ name: 'coldtier', namespace: 'cold' }),
    catalogServer: catalogServerSchema,
    tables: z.array(tableConfigSchema).min(1).default(defaultTables.map((t) => tableConfigSchema.parse(t))),
  })
  .strict()
  .superRefine((s, ctx) => {
    // Half a credential pair would silently fall back to other credentials (or none): refuse it.
    const pairs: [unknown, unknown, string, string, string][] = [
      [s.s3.accessKeyId, s.s3.secretAccessKey, 's3', 'accessKeyId', 'secretAccessKey'],
      [s.temporal.tlsCertPath, s.temporal.tlsKeyPath, 'temporal', 'tlsCertPath', 'tlsKeyPath'],
      [s.catalogServer.tlsCertPath, s.catalogServer.tlsKeyPath, 'catalogServer', 'tlsCertPath', 'tlsKeyPath'],
      [s.catalogServer.vendedAccessKeyId, s.catalogServer.vendedSecretAccessKey, 'catalogServer', 'vendedAccessKeyId', 'vendedSecretAccessKey'],
    ];
    for (const [a, b, section, ka, kb] of pairs) {
      if (Boolean(a) === Boolean(b)) continue;
      const [set, unset] = a ? [ka, kb] : [kb, ka];
      const name = (k: string) => `${ENV_OF[`${section}.${k}`]} (${section}.${k})`;
      const tail = { s3: ', or neither to use the AWS default credential chain', temporal: ' (the client certificate pair for mTLS), or neither' }[section] ?? ', or neither';
      ctx.addIssue({ code: 'custom', path: [section], message: `${name(set)} is set but ${name(unset)} is not; set both${tail}` });
    }
    const names = new Set<string>();
    for (const [i, t] of s.tables.entries()) {
      if (names.has(t.name)) ctx.addIssue({ code: 'custom', path: ['tables', i, 'name'], message: `duplicate Iceberg table ${s.catalog.namespace}.${t.name}` });
      names.add(t.name);
    }
    for (const [i, t] of s.tables.entries()) {
      for (const dep of t.dependsOn) {
        if (!names.has(dep)) ctx.addIssue({ code: 'custom', path: ['tables', i, 'dependsOn'], message: `table ${t.name} depends on unknown table ${dep}` });
      }
      const d = t.derivedFrom;
      if (d) {
        const path = ['tables', i, 'derivedFrom'];
        if (t.closedWindowSeconds === 0) ctx.addIssue({ code: 'custom', path, message: `table ${t.name}: derivedFrom is only for rollups; set closedWindowSeconds (the window width) or remove derivedFrom` });
        if (t.watermark.length !== 1) ctx.addIssue({ code: 'custom', path, message: `table ${t.name}: derivedFrom needs a rollup whose watermark is its window start alone (one column), not ${t.watermark.join(', ')}` });
        if (d.table === t.name) ctx.addIssue({ code: 'custom', path, message: `table ${t.name}: derivedFrom.table cannot be the table itself; name the table it is rolled up from` });
        else if (!names.has(d.table)) ctx.addIssue({ code: 'custom', path, message: `table ${t.name}: derivedFrom.table ${d.table} is not a table of the registry; add it or fix derivedFrom` });
      }
    }
  });

export type Settings = z.infer<typeof settingsSchema>;

/** Environment variables read by the loader; each overrides the config file. */
export const ENV_VARS = [
  'COLDTIER_CONFIG',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CERT',
  'TEMPORAL_TLS_KEY',
  'TEMPORAL_API_KEY',
  'DATABASE_URL',
  'CLICKHOUSE_URL',
  'CLICKHOUSE_USER',
  'CLICKHOUSE_PASSWORD',
  'CLICKHOUSE_DATABASE',
  'ICEBERG_WAREHOUSE',
  'ICEBERG_CATALOG_NAME',
  'S3_ENDPOINT',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'S3_MULTIPART_THRESHOLD_MB',
  'COLDTIER_CATALOG_PORT',
  'COLDTIER_CATALOG_TOKENS',
  'COLDTIER_CATALOG_WAREHOUSE',
  'COLDTIER_CATALOG_TLS_CERT',
  'COLDTIER_CATALOG_TLS_KEY',
  'COLDTIER_CATALOG_VENDED_ACCESS_KEY_ID',
  'COLDTIER_CATALOG_VENDED_SECRET_ACCESS_KEY',
] as const;

type EnvVar = (typeof ENV_VARS)[number];
type Env = Partial<Record<EnvVar, string>>;

/** The environment variable behind each config key, so an error names both. */
const ENV_OF: Record<string, EnvVar> = {
  'temporal.address': 'TEMPORAL_ADDRESS',
  'temporal.namespace': 'TEMPORAL_NAMESPACE',
  'temporal.taskQueue': 'TEMPORAL_TASK_QUEUE',
  'temporal.tls': 'TEMPORAL_TLS',
  'temporal.tlsCertPath': 'TEMPORAL_TLS_CERT',
  'temporal.tlsKeyPath': 'TEMPORAL_TLS_KEY',
  'temporal.apiKey': 'TEMPORAL_API_KEY',
  databaseUrl: 'DATABASE_URL',
  'clickhouse.url': 'CLICKHOUSE_URL',
  'clickhouse.username': 'CLICKHOUSE_USER',
  'clickhouse.password': 'CLICKHOUSE_PASSWORD',
  'clickhouse.database': 'CLICKHOUSE_DATABASE',
  warehouse: 'ICEBERG_WAREHOUSE',
  'catalog.name': 'ICEBERG_CATALOG_NAME',
  's3.endpoint': 'S3_ENDPOINT',
  's3.region': 'AWS_REGION',
  's3.accessKeyId': 'AWS_ACCESS_KEY_ID',
  's3.secretAccessKey': 'AWS_SECRET_ACCESS_KEY',
  's3.multipartThresholdMb': 'S3_MULTIPART_THRESHOLD_MB',
  'catalogServer.port': 'COLDTIER_CATALOG_PORT',
  'catalogServer.tokens': 'COLDTIER_CATALOG_TOKENS',
  'catalogServer.warehouse': 'COLDTIER_CATALOG_WAREHOUSE',
  'catalogServer.tlsCertPath': 'COLDTIER_CATALOG_TLS_CERT',
  'catalogServer.tlsKeyPath': 'COLDTIER_CATALOG_TLS_KEY',
  'catalogServer.vendedAccessKeyId': 'COLDTIER_CATALOG_VENDED_ACCESS_KEY_ID',
  'catalogServer.vendedSecretAccessKey': 'COLDTIER_CATALOG_VENDED_SECRET_ACCESS_KEY',
};

/** TEMPORAL_TLS: true/false/1/0 (any case); anything else is passed on as text for the schema to refuse. */
function envFlag(v: string | undefined): boolean | string | undefined {
  if (v === undefined) return undefined;
  const flag = ({ true: true, '1': true, false: false, '0': false } as Record<string, boolean>)[v.trim().toLowerCase()];
  return flag ?? v;
}

/**
 * Where an issue is, for the message: `tables[1] (bronze_trades_kraken).source` for a table (its name when the
 * input has a valid one), `temporal.address (TEMPORAL_ADDRESS)` for a setting an environment variable sets.
 */
function issueLabel(path: PropertyKey[], input: Json): string {
  const [head, index, ...rest] = path;
  if (head === 'tables' && typeof index === 'number') {
    const name = obj(Array.isArray(input.tables) ? input.tables[index] : undefined).name;
    const known = identifier.safeParse(name).success ? ` (${String(name)})` : '';
    return `tables[${index}]${known}${rest.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('')}`;
  }
  const key = path.map(String).join('.');
  const env = ENV_OF[key];
  return env ? `${key} (${env})` : key || '(root)';
}
type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

function dropUndefined(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** Reads a YAML or JSON config file. A missing explicit file is an error; the default path is optional. */
export function readConfigFile(path: string, explicit: boolean): Json {
  if (!existsSync(path)) {
    if (explicit) throw new ConfigError(`config file ${path} does not exist (set COLDTIER_CONFIG or --config to an existing file)`);
    return {};
  }
  try {
    return obj(parseYaml(readFileSync(path, 'utf8')));
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML/JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** One issue: one line (as every CLI error is); several: one line each under a header. */
function formatIssues(error: z.ZodError, input: Json, source: string, hint: string): string {
  const lines = error.issues.map((i) => `${issueLabel(i.path, input)}: ${withSuggestions(settingsSchema, i)}`);
  if (lines.length === 1) return `invalid settings (${source}): ${lines[0]}${hint ? `; ${hint}` : ''}`;
  return `invalid settings (${source}):\n${lines.map((l) => `  - ${l}`).join('\n')}${hint ? `\n${hint}` : ''}`;
}

/**
 * Loads settings from the config file (COLDTIER_CONFIG or ./coldtier.config.yaml) and environment variables.
 * Environment variables win over the file. Throws ConfigError naming each bad setting.
 */
export function loadSettings(opts: { env?: NodeJS.ProcessEnv; configPath?: string; cwd?: string } = {}): Settings {
  const env = (opts.env ?? process.env) as Env;
  const cwd = opts.cwd ?? process.cwd();
  const explicitPath = opts.configPath ?? env.COLDTIER_CONFIG;
  const path = explicitPath ? (isAbsolute(explicitPath) ? explicitPath : resolve(cwd, explicitPath)) : resolve(cwd, 'coldtier.config.yaml');
  const file = readConfigFile(path, Boolean(explicitPath));

  const merged: Json = {
    ...file,
    temporal: {
      ...obj(file.temporal),
      ...dropUndefined({
        address: env.TEMPORAL_ADDRESS,
        namespace: env.TEMPORAL_NAMESPACE,
        taskQueue: env.TEMPORAL_TASK_QUEUE,
        tls: envFlag(env.TEMPORAL_TLS),
        tlsCertPath: env.TEMPORAL_TLS_CERT,
        tlsKeyPath: env.TEMPORAL_TLS_KEY,
        apiKey: env.TEMPORAL_API_KEY,
      }),
    },
    databaseUrl: env.DATABASE_URL ?? file.databaseUrl,
    clickhouse: {
      ...obj(file.clickhouse),
      ...dropUndefined({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD, database: env.CLICKHOUSE_DATABASE }),
    },
    warehouse: env.ICEBERG_WAREHOUSE ?? file.warehouse,
    s3: {
      ...obj(file.s3),
      ...dropUndefined({ endpoint: env.S3_ENDPOINT, region: env.AWS_REGION, accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, multipartThresholdMb: env.S3_MULTIPART_THRESHOLD_MB }),
    },
    catalog: { ...obj(file.catalog), ...dropUndefined({ name: env.ICEBERG_CATALOG_NAME }) },
    catalogServer: {
      ...obj(file.catalogServer),
      ...dropUndefined({
        port: env.COLDTIER_CATALOG_PORT,
        // Comma-separated, so a token can be rotated by serving old and new side by side.
        tokens: env.COLDTIER_CATALOG_TOKENS?.split(',').map((t) => t.trim()).filter(Boolean),
        warehouse: env.COLDTIER_CATALOG_WAREHOUSE,
        tlsCertPath: env.COLDTIER_CATALOG_TLS_CERT,
        tlsKeyPath: env.COLDTIER_CATALOG_TLS_KEY,
        vendedAccessKeyId: env.COLDTIER_CATALOG_VENDED_ACCESS_KEY_ID,
        vendedSecretAccessKey: env.COLDTIER_CATALOG_VENDED_SECRET_ACCESS_KEY,
      }),
    },
  };
  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(formatIssues(parsed.error, merged, existsSync(path) ? `${path} + environment` : 'environment', missingHints(parsed.error)));
  }
  return parsed.data;
}

const HINTS: Record<string, string> = {
  databaseUrl: 'DATABASE_URL',
  'clickhouse.url': 'CLICKHOUSE_URL',
  warehouse: 'ICEBERG_WAREHOUSE',
  clickhouse: 'CLICKHOUSE_URL',
};

function missingHints(error: z.ZodError): string {
  const names = new Set<string>();
  for (const i of error.issues) {
    const env = HINTS[i.path.join('.')];
    if (env) names.add(env);
  }
  return names.size ? `set ${[...names].join(', ')} (or the same keys in coldtier.config.yaml); see README "Settings"` : '';
}

export { settingsSchema };
