import { readFileSync, existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
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
        tls: z.boolean().default(false),
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
      })
      .strict()
      .default({ region: 'us-east-1' }),
    catalog: z
      .object({
        /** catalog_name in iceberg_tables; readers (PyIceberg SqlCatalog, JdbcCatalog) must use the same name. @default coldtier */
        name: z.string().min(1).max(255).default('coldtier'),
        /** Iceberg namespace of every cold table. @default cold */
        namespace: identifier.default('cold'),
      })
      .strict()
      .default({ name: 'coldtier', namespace: 'cold' }),
    tables: z.array(tableConfigSchema).min(1).default(defaultTables.map((t) => tableConfigSchema.parse(t))),
  })
  .strict()
  .superRefine((s, ctx) => {
    const names = new Set<string>();
    for (const [i, t] of s.tables.entries()) {
      if (names.has(t.name)) ctx.addIssue({ code: 'custom', path: ['tables', i, 'name'], message: `duplicate Iceberg table ${s.catalog.namespace}.${t.name}` });
      names.add(t.name);
    }
    for (const [i, t] of s.tables.entries()) {
      for (const dep of t.dependsOn) {
        if (!names.has(dep)) ctx.addIssue({ code: 'custom', path: ['tables', i, 'dependsOn'], message: `table ${t.name} depends on unknown table ${dep}` });
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
] as const;

type Env = Partial<Record<(typeof ENV_VARS)[number], string>>;
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
function formatIssues(error: z.ZodError, source: string, hint: string): string {
  const lines = error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
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
        tls: env.TEMPORAL_TLS === undefined ? undefined : ['1', 'true', 'yes'].includes(env.TEMPORAL_TLS.toLowerCase()),
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
      ...dropUndefined({ endpoint: env.S3_ENDPOINT, region: env.AWS_REGION, accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }),
    },
    catalog: { ...obj(file.catalog), ...dropUndefined({ name: env.ICEBERG_CATALOG_NAME }) },
  };
  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(formatIssues(parsed.error, existsSync(path) ? `${path} + environment` : 'environment', missingHints(parsed.error)));
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
