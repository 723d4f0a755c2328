// The default name mapping (spec "Column Projection" / Appendix C "Name
// Mapping Serialization"): field ids by column name, for readers of data files
// that carry no field ids. Kept in the table property
// `schema.name-mapping.default` and updated as the schema evolves.

import type { IcebergType, NestedField, Schema } from './schema';

export const NAME_MAPPING_PROPERTY = 'schema.name-mapping.default';

export interface MappedField {
  'field-id'?: number;
  names: string[];
  fields?: MappedField[];
}

/** The mapped children of a type: struct fields, a list's `element`, a map's `key` and `value` (as Iceberg Java names them). */
function children(t: IcebergType): { id: number; name: string; type: IcebergType }[] {
  if (typeof t === 'string') return [];
  if (t.type === 'struct') return t.fields;
  if (t.type === 'list') return [{ id: t['element-id'], name: 'element', type: t.element }];
  return [{ id: t['key-id'], name: 'key', type: t.key }, { id: t['value-id'], name: 'value', type: t.value }];
}

/**
 * The mapping of `fields`, merged into `previous`: a field keeps the names it was mapped by before and
 * gains its current name; entries of fields no longer in the schema stay (old files may still use them).
 */
function mapFields(fields: { id: number; name: string; type: IcebergType }[], previous: MappedField[] = []): MappedField[] {
  const out = fields.map((f): MappedField => {
    const prev = previous.find((p) => p['field-id'] === f.id);
    const names = [...(prev?.names ?? []), ...(prev?.names.includes(f.name) ? [] : [f.name])];
    const nested = mapFields(children(f.type), prev?.fields);
    return { 'field-id': f.id, names, ...(nested.length ? { fields: nested } : {}) };
  });
  const kept = previous.filter((p) => !fields.some((f) => f.id === p['field-id']));
  return [...out, ...kept];
}

function isMapping(v: unknown): v is MappedField[] {
  return Array.isArray(v) && v.every((f) => {
    const m = f as MappedField;
    return !!m && typeof m === 'object' && Array.isArray(m.names) && m.names.every((n) => typeof n === 'string') &&
      (m['field-id'] === undefined || Number.isInteger(m['field-id'])) && (m.fields === undefined || isMapping(m.fields));
  });
}

/** Parses the property; undefined when absent or not a name mapping (it is then rebuilt from the schema). */
export function parseNameMapping(json: string | undefined): MappedField[] | undefined {
  if (json === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(json);
    return isMapping(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The name mapping of `schema`, keeping the names of an earlier mapping. */
export function nameMappingFor(schema: { fields: NestedField[] }, previous?: MappedField[]): MappedField[] {
  return mapFields(schema.fields, previous);
}

/**
 * `properties` with `schema.name-mapping.default` covering `schema` (existing names kept, new fields added),
 * or `properties` itself when the mapping already does.
 */
export function withNameMapping(properties: Record<string, string>, schema: Schema): Record<string, string> {
  const current = parseNameMapping(properties[NAME_MAPPING_PROPERTY]);
  const next = nameMappingFor(schema, current);
  if (current && JSON.stringify(current) === JSON.stringify(next)) return properties;
  return { ...properties, [NAME_MAPPING_PROPERTY]: JSON.stringify(next) };
}
