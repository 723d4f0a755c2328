// Avro object container files, written and read here rather than through
// avsc's streams: avsc keeps Iceberg's `field-id` attributes only when handed
// the raw schema, but then cannot use a bigint long type, and snapshot ids
// need both. avsc still encodes and decodes each datum.

import avsc from 'avsc';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { AvroFormatError } from '../../errors';

type AvroType = ReturnType<typeof avsc.Type.forSchema>;

/** Avro long as bigint both ways (writes also accept safe integers), so ids above 2^53 stay exact. */
const LONG = avsc.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(0),
  toBuffer: (n: bigint | number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (x: unknown) => BigInt(x as string),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint' || (typeof n === 'number' && Number.isSafeInteger(n)),
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** Builds an avsc Type whose longs are bigint. */
export function avroType(schema: object): AvroType {
  return avsc.Type.forSchema(schema as avsc.Schema, {
    typeHook: (s: unknown) => (s === 'long' || (typeof s === 'object' && s !== null && (s as { type?: unknown }).type === 'long') ? LONG : undefined),
    wrapUnions: false,
  } as never);
}

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj" 1
const HEADER = avsc.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});

function zigzagLong(n: number): Buffer {
  const bytes: number[] = [];
  let z = BigInt(n) >= 0n ? BigInt(n) << 1n : (-BigInt(n) << 1n) - 1n;
  do {
    let b = Number(z & 0x7fn);
    z >>= 7n;
    if (z > 0n) b |= 0x80;
    bytes.push(b);
  } while (z > 0n);
  return Buffer.from(bytes);
}

function readZigzag(buf: Buffer, pos: number): { value: number; pos: number } {
  let z = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos++];
    if (b === undefined) throw new RangeError('truncated varint');
    z |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if ((b & 0x80) === 0) break;
  }
  const v = z & 1n ? -((z + 1n) >> 1n) : z >> 1n;
  return { value: Number(v), pos };
}

/**
 * Encodes records into an Avro container. `schema` is written verbatim (with
 * field ids) into `avro.schema`; metadata values are strings.
 */
export function encodeAvroContainer(schema: object, records: unknown[], metadata: Record<string, string>): Uint8Array {
  const type = avroType(schema);
  const sync = randomBytes(16);
  const meta: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(metadata)) meta[k] = Buffer.from(v, 'utf8');
  meta['avro.schema'] = Buffer.from(JSON.stringify(schema), 'utf8');
  meta['avro.codec'] = Buffer.from('deflate', 'utf8');
  const parts: Buffer[] = [HEADER.toBuffer({ magic: MAGIC, meta, sync })];
  const BLOCK = 1000;
  for (let i = 0; i < records.length; i += BLOCK) {
    const chunk = records.slice(i, i + BLOCK);
    const data = deflateRawSync(Buffer.concat(chunk.map((r) => type.toBuffer(r))));
    parts.push(zigzagLong(chunk.length), zigzagLong(data.length), data, sync);
  }
  return new Uint8Array(Buffer.concat(parts));
}

export interface AvroContainer {
  schema: unknown;
  metadata: Record<string, string>;
  records: Array<Record<string, unknown>>;
}

/** Decodes a whole container file with its own (writer) schema. Longs come back as bigint. */
export function decodeAvroContainer(bytes: Uint8Array, fileUri: string): AvroContainer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) throw new AvroFormatError(fileUri, 'not an Avro container file (bad magic)');
  try {
    const { value: header, offset } = HEADER.decode(buf, 0) as { value: { meta: Record<string, Buffer>; sync: Buffer }; offset: number };
    if (offset < 0) throw new RangeError('truncated header');
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(header.meta)) metadata[k] = v.toString('utf8');
    const schema: unknown = JSON.parse(metadata['avro.schema'] ?? 'null');
    const codec = metadata['avro.codec'] ?? 'null';
    if (codec !== 'null' && codec !== 'deflate') throw new AvroFormatError(fileUri, `unsupported Avro codec ${codec}`);
    const type = avroType(schema as object);
    const records: Array<Record<string, unknown>> = [];
    let pos = offset;
    while (pos < buf.length) {
      const count = readZigzag(buf, pos);
      const size = readZigzag(buf, count.pos);
      const start = size.pos;
      const raw = buf.subarray(start, start + size.value);
      if (raw.length !== size.value) throw new RangeError('truncated block');
      const data = codec === 'deflate' ? inflateRawSync(raw) : raw;
      let p = 0;
      for (let i = 0; i < count.value; i++) {
        const r = type.decode(data, p) as { value: Record<string, unknown>; offset: number };
        if (r.offset < 0) throw new RangeError('truncated record');
        records.push(r.value);
        p = r.offset;
      }
      pos = start + size.value;
      if (!buf.subarray(pos, pos + 16).equals(header.sync)) throw new RangeError('sync marker mismatch');
      pos += 16;
    }
    return { schema, metadata, records };
  } catch (cause) {
    if (cause instanceof AvroFormatError) throw cause;
    throw new AvroFormatError(fileUri, cause instanceof Error ? cause.message : String(cause), { cause });
  }
}
