// ClickHouse → Iceberg type mapping, the generated SELECT list, and schema
// evolution rules.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newTableMetadata, type IcebergType } from '../../src/iceberg';
import { icebergSchemaFromClickHouse } from '../../src/clickhouse/schema/from-clickhouse';
import { SchemaEvolutionError, UnsupportedTypeError } from '../../src/clickhouse/errors';
import { NAME_MAPPING_PROPERTY, nameMappingFor, parseNameMapping, withNameMapping } from '../../src/iceberg/spec/name-mapping';
import { assertNameMapping } from './helpers';

const one = (type: string) => {
  const { schema, select } = icebergSchemaFromClickHouse('t', [{ name: 'c', type }]);
  return { field: schema.fields[0]!, select: select[0]! };
};

describe('type mapping', () => {
  const table: Array<[string, IcebergType, boolean, string]> = [
    // ClickHouse type, Iceberg type, required, select expression
    ['String', 'string', true, '`c`'],
    ['FixedString(3)', 'fixed[3]', true, '`c`'],
    ['LowCardinality(String)', 'string', true, 'CAST(`c` AS String) AS `c`'],
    ['LowCardinality(Nullable(String))', 'string', false, 'CAST(`c` AS Nullable(String)) AS `c`'],
    ['Enum8(\'a\' = 1, \'b\' = 2)', 'string', true, 'CAST(`c` AS String) AS `c`'],
    ['Int8', 'int', true, 'toInt32(`c`) AS `c`'],
    ['Int16', 'int', true, 'toInt32(`c`) AS `c`'],
    ['Int32', 'int', true, '`c`'],
    ['Int64', 'long', true, '`c`'],
    ['UInt8', 'int', true, 'toInt32(`c`) AS `c`'],
    ['UInt16', 'int', true, 'toInt32(`c`) AS `c`'],
    ['UInt32', 'long', true, 'toInt64(`c`) AS `c`'],
    ['UInt64', 'decimal(20,0)', true, 'CAST(`c` AS Decimal(20, 0)) AS `c`'],
    ['Float32', 'float', true, '`c`'],
    ['Float64', 'double', true, '`c`'],
    ['Decimal(18, 8)', 'decimal(18,8)', true, '`c`'],
    ['Decimal(38, 0)', 'decimal(38,0)', true, '`c`'],
    ['Decimal32(2)', 'decimal(9,2)', true, '`c`'],
    ['Decimal64(4)', 'decimal(18,4)', true, '`c`'],
    ['Decimal128(10)', 'decimal(38,10)', true, '`c`'],
    ['Bool', 'boolean', true, '`c`'],
    ['Date', 'date', true, '`c`'],
    ['Date32', 'date', true, '`c`'],
    ['DateTime', 'timestamptz', true, "toDateTime64(`c`, 6, 'UTC') AS `c`"],
    ["DateTime('Europe/Berlin')", 'timestamptz', true, "toDateTime64(`c`, 6, 'UTC') AS `c`"],
    ['DateTime64(3)', 'timestamptz', true, "toDateTime64(`c`, 6, 'UTC') AS `c`"],
    ["DateTime64(3, 'UTC')", 'timestamptz', true, "toDateTime64(`c`, 6, 'UTC') AS `c`"],
    ["DateTime64(6, 'UTC')", 'timestamptz', true, '`c`'],
    ["DateTime64(6, 'Asia/Tokyo')", 'timestamptz', true, "toDateTime64(`c`, 6, 'UTC') AS `c`"],
    ['UUID', 'uuid', true, '`c`'],
    ['Nullable(Int64)', 'long', false, '`c`'],
    ['Nullable(DateTime)', 'timestamptz', false, "toDateTime64(`c`, 6, 'UTC') AS `c`"],
    ['Array(String)', { type: 'list', 'element-id': 2, element: 'string', 'element-required': true }, true, '`c`'],
    ['Array(Nullable(UInt8))', { type: 'list', 'element-id': 2, element: 'int', 'element-required': false }, true, 'arrayMap(__e0 -> toInt32(__e0), `c`) AS `c`'],
    ['Map(String, Int64)', { type: 'map', 'key-id': 2, key: 'string', 'value-id': 3, value: 'long', 'value-required': true }, true, '`c`'],
    [
      'Map(LowCardinality(String), Array(Nullable(UInt16)))',
      { type: 'map', 'key-id': 2, key: 'string', 'value-id': 3, value: { type: 'list', 'element-id': 4, element: 'int', 'element-required': false }, 'value-required': true },
      true,
      'mapApply((__k0, __v0) -> (CAST(__k0 AS String), arrayMap(__e1 -> toInt32(__e1), __v0)), `c`) AS `c`',
    ],
  ];
  for (const [ch, ice, required, select] of table) {
    it(`${ch} → ${JSON.stringify(ice)}`, () => {
      const r = one(ch);
      assert.deepEqual(r.field.type, ice);
      assert.equal(r.field.required, required);
      assert.equal(r.field.id, 1);
      assert.equal(r.select, select);
    });
  }

  it('quotes identifiers that need it', () => {
    const { select } = icebergSchemaFromClickHouse('t', [{ name: 'we`ird name', type: 'UInt8' }]);
    assert.equal(select[0], 'toInt32(`we\\`ird name`) AS `we\\`ird name`');
  });

  it('assigns top-level ids before nested ids, as Iceberg Java does', () => {
    const { schema } = icebergSchemaFromClickHouse('t', [
      { name: 'a', type: 'Array(Int32)' },
      { name: 'b', type: 'Map(String, String)' },
      { name: 'c', type: 'Int64' },
    ]);
    assert.deepEqual(schema.fields.map((f) => f.id), [1, 2, 3]);
    assert.deepEqual(schema.fields[0]!.type, { type: 'list', 'element-id': 4, element: 'int', 'element-required': true });
    assert.deepEqual(schema.fields[1]!.type, { type: 'map', 'key-id': 5, key: 'string', 'value-id': 6, value: 'string', 'value-required': true });
  });

  const unsupported: Array<[string, RegExp]> = [
    ['AggregateFunction(sum, UInt64)', /finalizes them/],
    ['SimpleAggregateFunction(max, UInt64)', /finalizes them/],
    ['DateTime64(9)', /microsecond precision/],
    ['Int128', /decimal\(38,0\)/],
    ['UInt256', /decimal\(38,0\)/],
    ['Decimal(50, 2)', /at most 38 digits/],
    ['Decimal256(2)', /no lossless Iceberg mapping/],
    ['Tuple(a String, b UInt8)', /flatten the tuple/],
    ['IPv4', /no lossless Iceberg mapping/],
    ['JSON', /no lossless Iceberg mapping/],
    ['Array(AggregateFunction(uniq, String))', /finalizes them/],
  ];
  for (const [ch, hint] of unsupported) {
    it(`refuses ${ch}, naming table and column`, () => {
      assert.throws(
        () => icebergSchemaFromClickHouse('silver_trades', [{ name: 'ok', type: 'String' }, { name: 'bad_col', type: ch }]),
        (e: unknown) =>
          e instanceof UnsupportedTypeError && e.table === 'silver_trades' && e.column === 'bad_col' &&
          e.message.includes('silver_trades') && e.message.includes('bad_col') && e.message.includes(ch) && hint.test(e.message),
      );
    });
  }
});

describe('schema evolution', () => {
  const v0 = icebergSchemaFromClickHouse('t', [
    { name: 'ts', type: "DateTime64(6, 'UTC')" },
    { name: 'qty', type: 'Int32' },
    { name: 'px', type: 'Float32' },
    { name: 'amt', type: 'Decimal(10, 2)' },
    { name: 'tags', type: 'Array(Int32)' },
  ]).schema;
  const cols = (over: Record<string, string | null>, add: Array<[string, string]> = []) => [
    ...[['ts', "DateTime64(6, 'UTC')"], ['qty', 'Int32'], ['px', 'Float32'], ['amt', 'Decimal(10, 2)'], ['tags', 'Array(Int32)']]
      .filter(([n]) => over[n!] !== null)
      .map(([n, t]) => ({ name: n!, type: over[n!] ?? t! })),
    ...add.map(([name, type]) => ({ name, type })),
  ];

  it('returns the previous schema itself when nothing changed', () => {
    const r = icebergSchemaFromClickHouse('t', cols({}), { previous: v0 });
    assert.equal(r.schema, v0);
  });

  it('adds a column with a fresh id, as optional, at the end', () => {
    const r = icebergSchemaFromClickHouse('t', cols({}, [['venue', 'LowCardinality(String)']]), { previous: v0 });
    assert.equal(r.schema['schema-id'], 1);
    const venue = r.schema.fields.at(-1)!;
    assert.deepEqual(venue, { id: 7, name: 'venue', required: false, type: 'string' });
    assert.deepEqual(r.schema.fields.slice(0, -1), v0.fields);
    assert.equal(r.select.at(-1), 'CAST(`venue` AS String) AS `venue`');
  });

  it('honours last-column-id so dropped ids are never reused', () => {
    const r = icebergSchemaFromClickHouse('t', cols({}, [['venue', 'String']]), { previous: v0, lastColumnId: 40 });
    assert.equal(r.schema.fields.at(-1)!.id, 41);
  });

  it('allows int→long, float→double, decimal precision increase, keeping ids', () => {
    const r = icebergSchemaFromClickHouse('t', cols({ qty: 'Int64', px: 'Float64', amt: 'Decimal(18, 2)', tags: 'Array(Int64)' }), { previous: v0 });
    const byName = Object.fromEntries(r.schema.fields.map((f) => [f.name, f]));
    assert.equal(byName.qty!.type, 'long');
    assert.equal(byName.qty!.id, 2);
    assert.equal(byName.px!.type, 'double');
    assert.equal(byName.amt!.type, 'decimal(18,2)');
    assert.deepEqual(byName.tags!.type, { type: 'list', 'element-id': 6, element: 'long', 'element-required': true });
  });

  it('lets a required column become optional, and keeps an optional column optional', () => {
    const r = icebergSchemaFromClickHouse('t', cols({ qty: 'Nullable(Int32)' }), { previous: v0 });
    assert.equal(r.schema.fields[1]!.required, false);
    const back = icebergSchemaFromClickHouse('t', cols({}), { previous: r.schema });
    assert.equal(back.schema, r.schema);
  });

  const refused: Array<[string, Record<string, string | null>, RegExp]> = [
    ['a dropped column', { px: null }, /px: the column is gone/],
    ['narrowing long→int', { qty: 'Int8' }, /qty: type changed from long to int, which is not an allowed Iceberg promotion/],
    ['a decimal scale change', { amt: 'Decimal(12, 3)' }, /decimal\(10,2\) to decimal\(12,3\)/],
    ['a decimal precision decrease', { amt: 'Decimal(9, 2)' }, /decimal\(10,2\) to decimal\(9,2\)/],
    ['timestamp → number', { ts: 'Int64' }, /timestamptz to long/],
    ['list → map', { tags: 'Map(String, Int32)' }, /list to map/],
  ];
  for (const [what, over, message] of refused) {
    it(`refuses ${what}`, () => {
      const start = what === 'narrowing long→int' ? icebergSchemaFromClickHouse('t', cols({ qty: 'Int64' }), { previous: v0 }).schema : v0;
      assert.throws(() => icebergSchemaFromClickHouse('t', cols(over), { previous: start }), (e: unknown) => e instanceof SchemaEvolutionError && message.test(e.message));
      // Every refusal says what to do, as the drop-column one does.
      assert.throws(() => icebergSchemaFromClickHouse('t', cols(over), { previous: start }), /(Change the ClickHouse column back to a type that maps to .+ \(or offload a view that casts it\)|Add it back), or offload into a new table$/);
    });
  }

  it('refuses a rename (seen as a drop plus an add)', () => {
    const renamed = cols({}).map((c) => (c.name === 'qty' ? { ...c, name: 'quantity' } : c));
    assert.throws(() => icebergSchemaFromClickHouse('t', renamed, { previous: v0 }), /t: column qty: the column is gone/);
  });
});

describe('name mapping (schema.name-mapping.default)', () => {
  const v0 = icebergSchemaFromClickHouse('t', [
    { name: 'ts', type: "DateTime64(6, 'UTC')" },
    { name: 'tags', type: 'Array(Int32)' },
    { name: 'attrs', type: 'Map(String, Array(Nullable(String)))' },
  ]).schema;

  it('is set on a new table, mapping every field id including list elements and map keys/values', () => {
    const m = newTableMetadata({ location: 'file:///t', schema: v0 });
    assert.deepEqual(JSON.parse(m.properties[NAME_MAPPING_PROPERTY]!), [
      { 'field-id': 1, names: ['ts'] },
      { 'field-id': 2, names: ['tags'], fields: [{ 'field-id': 4, names: ['element'] }] },
      { 'field-id': 3, names: ['attrs'], fields: [{ 'field-id': 5, names: ['key'] }, { 'field-id': 6, names: ['value'], fields: [{ 'field-id': 7, names: ['element'] }] }] },
    ]);
    assertNameMapping(m);
  });

  it('follows schema evolution: new (nested) fields are added, names already mapped are kept', () => {
    const v1 = icebergSchemaFromClickHouse('t', [
      { name: 'ts', type: "DateTime64(6, 'UTC')" },
      { name: 'tags', type: 'Array(Int64)' },
      { name: 'attrs', type: 'Map(String, Array(Nullable(String)))' },
      { name: 'venue', type: 'Map(String, Array(UInt8))' },
    ], { previous: v0 }).schema;
    // A mapping with an extra alias for ts (as another engine may have written after a rename).
    const before = { [NAME_MAPPING_PROPERTY]: JSON.stringify([{ 'field-id': 1, names: ['event_ts', 'ts'] }, ...nameMappingFor(v0).slice(1)]), owner: 'x' };
    const after = withNameMapping(before, v1);
    const mapping = parseNameMapping(after[NAME_MAPPING_PROPERTY])!;
    assert.deepEqual(mapping[0], { 'field-id': 1, names: ['event_ts', 'ts'] });
    assert.deepEqual(mapping.slice(1, 3), nameMappingFor(v0).slice(1));
    assert.deepEqual(mapping[3], { 'field-id': 8, names: ['venue'], fields: [{ 'field-id': 9, names: ['key'] }, { 'field-id': 10, names: ['value'], fields: [{ 'field-id': 11, names: ['element'] }] }] });
    assert.equal(after.owner, 'x');
    assert.equal(withNameMapping(after, v1), after, 'unchanged when it already covers the schema');
  });

  it('is rebuilt from the schema when the property is missing or not a name mapping', () => {
    for (const bad of [undefined, '{', '{"field-id": 1}', '[{"field-id": "1", "names": ["ts"]}]']) {
      const props = withNameMapping(bad === undefined ? {} : { [NAME_MAPPING_PROPERTY]: bad }, v0);
      assert.deepEqual(JSON.parse(props[NAME_MAPPING_PROPERTY]!), nameMappingFor(v0), String(bad));
    }
  });
});
