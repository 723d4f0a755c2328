// Builds the Iceberg schema and the SELECT list for a ClickHouse table, either
// fresh or as an evolution of the table's current schema (ids reused by name).

import { decimalParams, maxFieldId, sameSchemaFields, type IcebergType, type NestedField, type Schema } from '../../iceberg';
import { SchemaEvolutionError, UnsupportedTypeError } from '../errors';
import { quoteIdent } from './clickhouse-type';
import { mapClickHouseType, selectExpr, Unmappable, type Mapped } from './type-mapping';

export interface ClickHouseColumn {
  name: string;
  type: string;
}

export interface SchemaFromClickHouseOptions {
  /** The table's current schema: ids are reused by column name and changes are checked against it. */
  previous?: Schema;
  /** Highest column id ever assigned (table metadata `last-column-id`). @default the highest id in `previous` */
  lastColumnId?: number;
}

/** Spec "Schema Evolution": the type promotions a v2 writer may make. */
function canPromote(from: IcebergType, to: IcebergType): boolean {
  if (from === to) return true;
  if (from === 'int' && to === 'long') return true;
  if (from === 'float' && to === 'double') return true;
  const a = decimalParams(from);
  const b = decimalParams(to);
  return !!a && !!b && a.scale === b.scale && b.precision >= a.precision;
}

const typeText = (t: IcebergType) => (typeof t === 'string' ? t : t.type);

/** What the operator can do about a type change Iceberg cannot take (older files keep the old type). */
const keepType = (prev: IcebergType) =>
  `the table's files hold ${typeText(prev)}. Change the ClickHouse column back to a type that maps to ${typeText(prev)} (or offload a view that casts it), or offload into a new table`;

class IdAllocator {
  constructor(private last: number) {}
  next(): number {
    return ++this.last;
  }
}

/**
 * Converts a mapped type to an Iceberg type, reusing the ids of `prev` where the
 * structure matches. Ids are assigned level by level (a struct's fields before
 * their children), as Iceberg Java does for a new table.
 */
function toIceberg(m: Mapped, prev: IcebergType | undefined, ids: IdAllocator, where: { table: string; column: string }): IcebergType {
  const fail = (why: string): never => {
    throw new SchemaEvolutionError(where.table, where.column, why);
  };
  if (m.kind === 'primitive') {
    if (prev !== undefined && !canPromote(prev, m.type)) fail(`type changed from ${typeText(prev)} to ${m.type}, which is not an allowed Iceberg promotion (int→long, float→double, decimal precision increase); ${keepType(prev)}`);
    return m.type;
  }
  if (prev !== undefined && (typeof prev === 'string' || prev.type !== m.kind)) fail(`type changed from ${typeText(prev)} to ${m.kind}; ${keepType(prev)}`);
  if (m.kind === 'list') {
    const p = prev as Extract<IcebergType, { type: 'list' }> | undefined;
    const elementId = p ? p['element-id'] : ids.next();
    const elementRequired = p ? p['element-required'] && !m.element.nullable : !m.element.nullable;
    return { type: 'list', 'element-id': elementId, element: toIceberg(m.element, p?.element, ids, where), 'element-required': elementRequired };
  }
  const p = prev as Extract<IcebergType, { type: 'map' }> | undefined;
  const keyId = p ? p['key-id'] : ids.next();
  const valueId = p ? p['value-id'] : ids.next();
  const valueRequired = p ? p['value-required'] && !m.value.nullable : !m.value.nullable;
  return {
    type: 'map',
    'key-id': keyId,
    key: toIceberg(m.key, p?.key, ids, where),
    'value-id': valueId,
    value: toIceberg(m.value, p?.value, ids, where),
    'value-required': valueRequired,
  };
}

/**
 * Iceberg schema + SELECT list for a ClickHouse table.
 *
 * - `select[i]` yields schema.fields[i] as Arrow data of exactly the Iceberg
 *   type (e.g. `toDateTime64(\`ts\`, 6, 'UTC') AS \`ts\``); run it with
 *   `output_format_arrow_string_as_string=1` and no Arrow compression.
 * - With `previous`, existing columns keep their ids and position, new ones get
 *   fresh ids and are appended as optional (older files do not have them).
 *   Dropping or renaming a column, or changing its type other than by an
 *   allowed promotion, throws SchemaEvolutionError. Unchanged → `previous` itself.
 */
export function icebergSchemaFromClickHouse(
  table: string,
  columns: ClickHouseColumn[],
  opts: SchemaFromClickHouseOptions = {},
): { schema: Schema; select: string[] } {
  const mapped = new Map<string, Mapped>();
  for (const c of columns) {
    try {
      mapped.set(c.name, mapClickHouseType(c.type));
    } catch (err) {
      if (err instanceof Unmappable) throw new UnsupportedTypeError(table, c.name, c.type, err.hint);
      throw err;
    }
  }
  const prev = opts.previous;
  const ids = new IdAllocator(opts.lastColumnId ?? (prev ? maxFieldId(prev.fields) : 0));
  const order: string[] = prev ? prev.fields.map((f) => f.name) : [];
  for (const prevField of prev?.fields ?? []) {
    if (!mapped.has(prevField.name)) {
      throw new SchemaEvolutionError(table, prevField.name, 'the column is gone from the source table (dropped or renamed); Iceberg readers still expect it. Add it back, or offload into a new table');
    }
  }
  for (const c of columns) if (!order.includes(c.name)) order.push(c.name);

  // Top-level ids first, then nested ids, matching Iceberg Java's fresh-id order.
  const topIds = new Map<string, number>();
  for (const name of order) topIds.set(name, prev?.fields.find((f) => f.name === name)?.id ?? ids.next());

  const fields: NestedField[] = order.map((name) => {
    const m = mapped.get(name)!;
    const p = prev?.fields.find((f) => f.name === name);
    const type = toIceberg(m, p?.type, ids, { table, column: name });
    // New columns must be optional: data files written before they existed read as null.
    // An optional column stays optional even if the source became non-Nullable.
    const required = p ? p.required && !m.nullable : !prev && !m.nullable;
    return { id: topIds.get(name)!, name, required, type };
  });

  const select = order.map((name) => {
    const expr = selectExpr(mapped.get(name)!, quoteIdent(name));
    return expr === undefined ? quoteIdent(name) : `${expr} AS ${quoteIdent(name)}`;
  });

  if (prev && sameSchemaFields(prev, { fields })) return { schema: prev, select };
  const schema: Schema = { type: 'struct', 'schema-id': prev ? prev['schema-id'] + 1 : 0, fields };
  if (prev?.['identifier-field-ids']) schema['identifier-field-ids'] = prev['identifier-field-ids'];
  return { schema, select };
}
