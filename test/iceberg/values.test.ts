// Single-value encodings (Appendix D), bound truncation, transforms and the
// bucket hash (Appendix B test vectors).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Int32, makeVector, Table, vectorFromArray, Utf8 } from 'apache-arrow';
import { truncateBinaryUpper, truncateStringLower, truncateStringUpper } from '../../src/iceberg/spec/bounds';
import { applyTransform, bucketHash, humanPartitionValue, javaUrlEncode, parseTransform } from '../../src/iceberg/spec/transforms';
import { fromBinary, minBigEndian, toBinary } from '../../src/iceberg/spec/values';
import { arrowMetrics } from '../../src/iceberg/writer/metrics';
import { conformToSchema } from '../../src/iceberg/arrow/arrow-schema';
import type { Schema } from '../../src/iceberg/spec/schema';

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : undefined);
const us = (iso: string) => BigInt(Date.parse(iso)) * 1000n;
const days = (iso: string) => Date.parse(iso) / 86_400_000;

describe('Appendix D binary encoding', () => {
  it('encodes int, long, date, timestamp little-endian', () => {
    assert.equal(hex(toBinary('int', 1)), '01000000');
    assert.equal(hex(toBinary('int', -2)), 'feffffff');
    assert.equal(hex(toBinary('long', 2n ** 53n + 1n)), '0100000000002000');
    assert.equal(hex(toBinary('date', days('2017-11-16'))), '4e440000');
    assert.equal(hex(toBinary('timestamptz', us('2017-11-16T22:31:08Z'))), '00c3262d215e0500');
    assert.equal(fromBinary('timestamptz', toBinary('timestamptz', -1n)), -1n);
  });
  it('encodes decimals as minimal two\'s-complement big-endian', () => {
    assert.equal(hex(minBigEndian(0n)), '00');
    assert.equal(hex(minBigEndian(127n)), '7f');
    assert.equal(hex(minBigEndian(128n)), '0080');
    assert.equal(hex(minBigEndian(-1n)), 'ff');
    assert.equal(hex(minBigEndian(-128n)), '80');
    assert.equal(hex(minBigEndian(-129n)), 'ff7f');
    assert.equal(hex(toBinary('decimal(9,2)', 1420n)), '058c'); // 14.20
    assert.equal(fromBinary('decimal(38,0)', toBinary('decimal(38,0)', -(10n ** 37n))), -(10n ** 37n));
  });
  it('encodes boolean, float, double, string, uuid', () => {
    assert.equal(hex(toBinary('boolean', true)), '01');
    assert.equal(hex(toBinary('boolean', false)), '00');
    assert.equal(hex(toBinary('float', 1)), '0000803f');
    assert.equal(hex(toBinary('double', -0)), '0000000000000080');
    assert.equal(hex(toBinary('string', 'ié')), '69c3a9');
    const uuid = Buffer.from('f79c3e09677c4bbda4793f349cb785e7', 'hex');
    assert.equal(hex(toBinary('uuid', uuid)), 'f79c3e09677c4bbda4793f349cb785e7');
  });
});

describe('truncate(16) bounds', () => {
  it('truncates strings by code point and increments the upper bound', () => {
    const s = 'abcdefghijklmnopqrstuvwxyz';
    assert.equal(truncateStringLower(s), 'abcdefghijklmnop');
    assert.equal(truncateStringUpper(s), 'abcdefghijklmnoq');
    assert.equal(truncateStringUpper('short'), 'short');
    // 17 astral code points: 16 kept (not 16 UTF-16 units), last one incremented.
    const astral = '😀'.repeat(17);
    assert.equal(truncateStringLower(astral), '😀'.repeat(16));
    assert.equal(truncateStringUpper(astral), `${'😀'.repeat(15)}😁`);
    // The last code point cannot grow: drop it and increment the one before.
    assert.equal(truncateStringUpper(`${'a'.repeat(15)}\u{10FFFF}zz`), `${'a'.repeat(14)}b`);
    // U+D7FF + 1 skips the surrogate range.
    assert.equal(truncateStringUpper(`${'a'.repeat(15)}\uD7FFzz`), `${'a'.repeat(15)}\uE000`);
    assert.equal(truncateStringUpper('\u{10FFFF}'.repeat(17)), undefined);
  });
  it('truncates binary and drops an upper bound of all 0xFF', () => {
    assert.equal(hex(truncateBinaryUpper(new Uint8Array(20).fill(0x01))), '01'.repeat(15) + '02');
    assert.equal(hex(truncateBinaryUpper(new Uint8Array([...new Array(15).fill(0), 0xff, 0xff]))), '00'.repeat(14) + '01');
    assert.equal(truncateBinaryUpper(new Uint8Array(17).fill(0xff)), undefined);
  });
  it('computes file bounds from Arrow data the way a reader can trust', () => {
    const schema: Schema = {
      type: 'struct', 'schema-id': 0, fields: [
        { id: 1, name: 'n', required: false, type: 'int' },
        { id: 2, name: 's', required: true, type: 'string' },
        { id: 3, name: 'd', required: true, type: 'double' },
      ],
    };
    const rows = conformToSchema(new Table({
      n: vectorFromArray([5, null, -3, 9], new Int32()),
      s: vectorFromArray(['zebra', 'a much longer string than sixteen', 'apple', 'mango'], new Utf8()),
      d: makeVector(new Float64Array([0, Number.NaN, -0, 2.5])),
    }), schema);
    const m = arrowMetrics(rows, schema);
    assert.equal(fromBinary('int', m.lower_bounds[1]!), -3);
    assert.equal(fromBinary('int', m.upper_bounds[1]!), 9);
    assert.equal(m.null_value_counts[1], 1);
    assert.equal(m.value_counts[1], 4);
    assert.equal(fromBinary('string', m.lower_bounds[2]!), 'a much longer st');
    assert.equal(fromBinary('string', m.upper_bounds[2]!), 'zebra');
    assert.ok(Object.is(fromBinary('double', m.lower_bounds[3]!), -0), '-0.0 precedes +0.0');
    assert.equal(fromBinary('double', m.upper_bounds[3]!), 2.5);
    assert.equal(m.nan_value_counts[3], 1);
  });
});

describe('partition transforms', () => {
  it('matches the Appendix B bucket hash test vectors', () => {
    assert.equal(bucketHash('int', 34), 2017239379);
    assert.equal(bucketHash('long', 34n), 2017239379);
    assert.equal(bucketHash('decimal(4,2)', 1420n), -500754589);
    assert.equal(bucketHash('date', days('2017-11-16')), -653330422);
    assert.equal(bucketHash('timestamp', us('2017-11-16T22:31:08Z')), -2047944441);
    assert.equal(bucketHash('timestamptz', us('2017-11-16T22:31:08Z')), -2047944441);
    assert.equal(bucketHash('string', 'iceberg'), 1210000089);
    assert.equal(bucketHash('uuid', Buffer.from('f79c3e09677c4bbda4793f349cb785e7', 'hex')), 1488055340);
    assert.equal(bucketHash('binary', new Uint8Array([0, 1, 2, 3])), -188683207);
    assert.equal(bucketHash('fixed[4]', new Uint8Array([0, 1, 2, 3])), -188683207);
    assert.equal(applyTransform(parseTransform('bucket[16]'), 'int', 34), 2017239379 % 16);
  });
  it('truncates per spec (positive remainders, code points)', () => {
    assert.equal(applyTransform(parseTransform('truncate[10]'), 'int', 1), 0);
    assert.equal(applyTransform(parseTransform('truncate[10]'), 'int', -1), -10);
    assert.equal(applyTransform(parseTransform('truncate[10]'), 'long', -1n), -10n);
    assert.equal(applyTransform(parseTransform('truncate[50]'), 'decimal(4,2)', 1065n), 1050n);
    assert.equal(applyTransform(parseTransform('truncate[3]'), 'string', 'iceberg'), 'ice');
    assert.equal(applyTransform(parseTransform('truncate[2]'), 'string', '😀😁😂'), '😀😁');
  });
  it('computes day/hour/month/year including before 1970', () => {
    const t = us('2026-11-22T10:30:00Z');
    assert.equal(applyTransform(parseTransform('day'), 'timestamptz', t), days('2026-11-22'));
    assert.equal(applyTransform(parseTransform('hour'), 'timestamptz', t), days('2026-11-22') * 24 + 10);
    assert.equal(applyTransform(parseTransform('month'), 'timestamptz', t), 56 * 12 + 10);
    assert.equal(applyTransform(parseTransform('year'), 'timestamptz', t), 56);
    assert.equal(applyTransform(parseTransform('day'), 'timestamptz', -1n), -1);
    assert.equal(applyTransform(parseTransform('hour'), 'timestamptz', -1n), -1);
    assert.equal(applyTransform(parseTransform('month'), 'date', -1), -1);
    assert.equal(applyTransform(parseTransform('year'), 'date', -1), -1);
    assert.equal(applyTransform(parseTransform('day'), 'date', 17), 17);
  });
  it('prints partition values like Iceberg Java does in paths', () => {
    assert.equal(humanPartitionValue(parseTransform('day'), 'date', days('2026-11-22')), '2026-11-22');
    assert.equal(humanPartitionValue(parseTransform('hour'), 'int', days('2026-11-22') * 24 + 7), '2026-11-22-07');
    assert.equal(humanPartitionValue(parseTransform('month'), 'int', 56 * 12 + 10), '2026-11');
    assert.equal(humanPartitionValue(parseTransform('year'), 'int', 56), '2026');
    assert.equal(humanPartitionValue(parseTransform('month'), 'int', -1), '1969-12');
    assert.equal(humanPartitionValue(parseTransform('identity'), 'string', null), 'null');
    assert.equal(humanPartitionValue(parseTransform('identity'), 'decimal(9,2)', -5n), '-0.05');
    assert.equal(javaUrlEncode('a b/c=d&é'), 'a+b%2Fc%3Dd%26%C3%A9');
  });
});
