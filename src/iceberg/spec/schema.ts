// Iceberg schemas in exactly their spec JSON shape (Appendix C), so table
// metadata written by other engines round-trips without losing fields we do
// not model, and what callers read off a Schema is what the spec documents.

export type PrimitiveType =
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'string'
  | 'uuid'
  | 'binary'
  | `fixed[${number}]`
  | `decimal(${number},${number})`
  | `decimal(${number}, ${number})`;

export interface StructType {
  type: 'struct';
  fields: NestedField[];
}

export interface ListType {
  type: 'list';
  'element-id': number;
  element: IcebergType;
  'element-required': boolean;
}

export interface MapType {
  type: 'map';
  'key-id': number;
  key: IcebergType;
  'value-id': number;
  value: IcebergType;
  'value-required': boolean;
}

export type IcebergType = PrimitiveType | StructType | ListType | MapType;

export interface NestedField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergType;
  doc?: string;
}

export interface Schema {
  type: 'struct';
  'schema-id': number;
  'identifier-field-ids'?: number[];
  fields: NestedField[];
}

export function isPrimitive(t: IcebergType): t is PrimitiveType {
  return typeof t === 'string';
}

/** `decimal(P,S)` → {precision, scale}; undefined for any other type. */
export function decimalParams(t: IcebergType): { precision: number; scale: number } | undefined {
  if (typeof t !== 'string') return undefined;
  const m = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  return m ? { precision: Number(m[1]), scale: Number(m[2]) } : undefined;
}

/** `fixed[L]` → L; undefined for any other type. */
export function fixedLength(t: IcebergType): number | undefined {
  if (typeof t !== 'string') return undefined;
  const m = /^fixed\[(\d+)\]$/.exec(t);
  return m ? Number(m[1]) : undefined;
}

/** Every field id in a type tree (struct fields, list elements, map keys/values), depth first. */
export function collectFieldIds(fields: NestedField[]): number[] {
  const ids: number[] = [];
  const visit = (t: IcebergType): void => {
    if (typeof t === 'string') return;
    if (t.type === 'struct') for (const f of t.fields) { ids.push(f.id); visit(f.type); }
    else if (t.type === 'list') { ids.push(t['element-id']); visit(t.element); }
    else { ids.push(t['key-id'], t['value-id']); visit(t.key); visit(t.value); }
  };
  visit({ type: 'struct', fields });
  return ids;
}

export function maxFieldId(fields: NestedField[]): number {
  return collectFieldIds(fields).reduce((a, b) => Math.max(a, b), 0);
}

/** Finds a top-level or struct-nested field by id (not inside lists/maps). */
export function findField(schema: { fields: NestedField[] }, id: number): NestedField | undefined {
  const stack = [...schema.fields];
  while (stack.length) {
    const f = stack.pop()!;
    if (f.id === id) return f;
    if (typeof f.type !== 'string' && f.type.type === 'struct') stack.push(...f.type.fields);
  }
  return undefined;
}

/** Key-order-independent structural form (ids, names, requiredness, types). */
function canonicalFields(fields: NestedField[]): unknown {
  const t = (x: IcebergType): unknown =>
    typeof x === 'string'
      ? x.replace(/\s+/g, '')
      : x.type === 'list'
        ? ['list', x['element-id'], x['element-required'], t(x.element)]
        : x.type === 'map'
          ? ['map', x['key-id'], x['value-id'], x['value-required'], t(x.key), t(x.value)]
          : ['struct', canonicalFields(x.fields)];
  return fields.map((f) => [f.id, f.name, f.required, t(f.type)]);
}

/** Whether two schemas have the same fields (schema ids and JSON key order ignored). */
export function sameSchemaFields(a: { fields: NestedField[] }, b: { fields: NestedField[] }): boolean {
  return JSON.stringify(canonicalFields(a.fields)) === JSON.stringify(canonicalFields(b.fields));
}
