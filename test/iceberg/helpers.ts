// Test helpers: a real embedded ClickHouse (chDB) per test file, in a temp dir.

import assert from 'node:assert/strict';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { tableFromIPC, type Table } from 'apache-arrow';
import { createChdbConnection } from 'chdb/connection';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentSchema, type IcebergType, type TableMetadata } from '../../src/iceberg';
import { NAME_MAPPING_PROPERTY, type MappedField } from '../../src/iceberg/spec/name-mapping';
import { collectFieldIds } from '../../src/iceberg/spec/schema';

export interface Chdb {
  client: ClickHouseClient;
  dir: string;
  arrow(query: string): Promise<Table>;
  rows<T>(query: string): Promise<T[]>;
  command(query: string): Promise<void>;
  close(): Promise<void>;
}

/** The settings the writer's select list assumes (see icebergSchemaFromClickHouse). */
export const ARROW_SETTINGS = { output_format_arrow_compression_method: 'none', output_format_arrow_string_as_string: 1 } as const;

const created: string[] = [];
// Remove what the tests created when the test process ends (set COLDTIER_KEEP_TMP=1 to inspect the tables).
process.on('exit', () => {
  if (process.env.COLDTIER_KEEP_TMP) return;
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `coldtier-${prefix}-`));
  created.push(dir);
  return dir;
}

/**
 * A warehouse directory chDB's icebergLocal may read: chDB only reads files
 * under its user_files_path, which is the working directory, so this lives in
 * the (git-ignored) test/.tmp of the repo the tests run from.
 */
export function warehouseDir(prefix: string): string {
  const root = join(process.cwd(), 'test', '.tmp');
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, `${prefix}-`));
  created.push(dir);
  return dir;
}

export function openChdb(): Chdb {
  const dir = mkdtempSync(join(tmpdir(), 'coldtier-chdb-'));
  const client = createClient({ connection: createChdbConnection({ path: dir }) } as never);
  return {
    client,
    dir,
    async arrow(query) {
      const res = await client.exec({ query: `${query} FORMAT ArrowStream`, clickhouse_settings: ARROW_SETTINGS as never });
      const chunks: Buffer[] = [];
      for await (const c of res.stream) chunks.push(c as Buffer);
      return tableFromIPC(Buffer.concat(chunks));
    },
    async rows<T>(query: string) {
      const rs = await client.query({ query, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 1, output_format_json_quote_decimals: 1 } as never });
      return (await rs.json()) as T[];
    },
    async command(query) {
      await client.command({ query });
    },
    async close() {
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Unique table name so concurrent test files never collide. */
export function randomName(prefix: string): string {
  return `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * The table's `schema.name-mapping.default` is valid JSON mapping every field id of the current schema
 * (nested list elements, map keys and values too) by its current name. Returns the parsed mapping.
 */
export function assertNameMapping(meta: TableMetadata, what = meta.location): MappedField[] {
  const json = meta.properties[NAME_MAPPING_PROPERTY];
  assert.ok(json, `${what}: ${NAME_MAPPING_PROPERTY} is set`);
  const mapping = JSON.parse(json) as MappedField[];
  const names = new Map<number, string[]>();
  const visit = (fields: MappedField[] | undefined, prefix: string) => {
    for (const f of fields ?? []) {
      assert.ok(Number.isInteger(f['field-id']) && Array.isArray(f.names) && f.names.length > 0, `${what}: mapping entry ${JSON.stringify(f)}`);
      names.set(f['field-id']!, f.names.map((n) => prefix + n));
      visit(f.fields, `${prefix}${f.names.at(-1)!}.`);
    }
  };
  visit(mapping, '');
  const schema = currentSchema(meta);
  const expected = new Map<number, string>();
  const walk = (t: IcebergType, path: string): void => {
    if (typeof t === 'string') return;
    const kids = t.type === 'struct' ? t.fields.map((f) => [f.id, f.name, f.type] as const)
      : t.type === 'list' ? [[t['element-id'], 'element', t.element] as const]
        : [[t['key-id'], 'key', t.key] as const, [t['value-id'], 'value', t.value] as const];
    for (const [id, name, type] of kids) {
      expected.set(id, path + name);
      walk(type, `${path}${name}.`);
    }
  };
  walk({ type: 'struct', fields: schema.fields }, '');
  assert.deepEqual([...expected.keys()].sort((a, b) => a - b), collectFieldIds(schema.fields).sort((a, b) => a - b));
  for (const [id, path] of expected) assert.ok(names.get(id)?.includes(path), `${what}: field ${id} (${path}) is mapped by its name, got ${JSON.stringify(names.get(id))}`);
  return mapping;
}
