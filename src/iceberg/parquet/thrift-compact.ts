// A lossless, schema-less Thrift compact-protocol codec: enough to decode a Parquet footer (FileMetaData), edit a
// few fields, and encode it again byte-for-byte otherwise. Schema-less on purpose: a generated codec (or hyparquet's
// reader, which drops the wire types) would lose fields newer than its copy of parquet.thrift, and the footer of a
// file another writer produced must survive the round trip intact.

export const T = { STOP: 0, TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;

export interface TField {
  id: number;
  type: number;
  value: TValue;
}
export type TStruct = TField[];
export type TValue = boolean | number | bigint | Uint8Array | TStruct | TList | TMap;
export interface TList {
  kind: 'list';
  elem: number;
  items: TValue[];
}
export interface TMap {
  kind: 'map';
  key: number;
  val: number;
  entries: Array<[TValue, TValue]>;
}

class Reader {
  pos = 0;
  constructor(readonly b: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.b.length) throw new Error(`thrift compact: truncated input at byte ${this.pos}`);
    return this.b[this.pos++]!;
  }
  varint(): bigint {
    let shift = 0n;
    let out = 0n;
    for (;;) {
      const x = this.byte();
      out |= BigInt(x & 0x7f) << shift;
      if (!(x & 0x80)) return out;
      shift += 7n;
    }
  }
  zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }
}

function readValue(r: Reader, type: number): TValue {
  switch (type) {
    case T.TRUE:
    case T.FALSE:
      // Inside a collection a bool is one byte (kept raw, so it encodes back unchanged).
      return r.byte();
    case T.BYTE:
      return r.byte();
    case T.I16:
    case T.I32:
    case T.I64:
      return r.zigzag();
    case T.DOUBLE: {
      const v = r.b.slice(r.pos, r.pos + 8);
      r.pos += 8;
      return v;
    }
    case T.BINARY: {
      const n = Number(r.varint());
      const v = r.b.subarray(r.pos, r.pos + n);
      r.pos += n;
      return v;
    }
    case T.LIST:
    case T.SET: {
      const h = r.byte();
      let n = h >> 4;
      if (n === 15) n = Number(r.varint());
      const elem = h & 0x0f;
      const items: TValue[] = [];
      for (let i = 0; i < n; i++) items.push(readValue(r, elem));
      return { kind: 'list', elem, items };
    }
    case T.MAP: {
      const n = Number(r.varint());
      if (n === 0) return { kind: 'map', key: 0, val: 0, entries: [] };
      const kv = r.byte();
      const m: TMap = { kind: 'map', key: kv >> 4, val: kv & 0x0f, entries: [] };
      for (let i = 0; i < n; i++) m.entries.push([readValue(r, m.key), readValue(r, m.val)]);
      return m;
    }
    case T.STRUCT:
      return readStruct(r);
    default:
      throw new Error(`thrift compact: unknown type ${type} at ${r.pos}`);
  }
}

function readStruct(r: Reader): TStruct {
  const fields: TStruct = [];
  let last = 0;
  for (;;) {
    const h = r.byte();
    if (h === T.STOP) return fields;
    const type = h & 0x0f;
    const delta = h >> 4;
    const id = delta ? last + delta : Number(r.zigzag());
    last = id;
    const value = type === T.TRUE || type === T.FALSE ? type === T.TRUE : readValue(r, type);
    fields.push({ id, type, value });
  }
}

/** The value of field `id`, or undefined. */
export function getField(s: TStruct, id: number): TValue | undefined {
  return s.find((f) => f.id === id)?.value;
}

/** Sets (or replaces) field `id`, keeping the fields in id order as encoders emit them. */
export function setField(s: TStruct, id: number, type: number, value: TValue): void {
  const at = s.findIndex((f) => f.id === id);
  if (at >= 0) s[at] = { id, type, value };
  else {
    s.push({ id, type, value });
    s.sort((a, b) => a.id - b.id);
  }
}

export function decodeStruct(bytes: Uint8Array): TStruct {
  return readStruct(new Reader(bytes));
}

class Writer {
  private buf = new Uint8Array(1 << 16);
  len = 0;
  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(x: number): void {
    this.grow(1);
    this.buf[this.len++] = x & 0xff;
  }
  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  varint(v: bigint): void {
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }
  zigzag(v: bigint): void {
    this.varint((v << 1n) ^ (v >> 63n));
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function writeValue(w: Writer, type: number, v: TValue): void {
  switch (type) {
    case T.TRUE:
    case T.FALSE:
    case T.BYTE:
      w.byte(v as number);
      return;
    case T.I16:
    case T.I32:
    case T.I64:
      w.zigzag(v as bigint);
      return;
    case T.DOUBLE:
      w.bytes(v as Uint8Array);
      return;
    case T.BINARY:
      w.varint(BigInt((v as Uint8Array).length));
      w.bytes(v as Uint8Array);
      return;
    case T.LIST:
    case T.SET: {
      const l = v as TList;
      if (l.items.length < 15) w.byte((l.items.length << 4) | l.elem);
      else {
        w.byte(0xf0 | l.elem);
        w.varint(BigInt(l.items.length));
      }
      for (const x of l.items) writeValue(w, l.elem, x);
      return;
    }
    case T.MAP: {
      const m = v as TMap;
      w.varint(BigInt(m.entries.length));
      if (!m.entries.length) return;
      w.byte((m.key << 4) | m.val);
      for (const [k, x] of m.entries) {
        writeValue(w, m.key, k);
        writeValue(w, m.val, x);
      }
      return;
    }
    case T.STRUCT:
      writeStruct(w, v as TStruct);
      return;
    default:
      throw new Error(`thrift compact: cannot write type ${type}`);
  }
}

function writeStruct(w: Writer, s: TStruct): void {
  let last = 0;
  for (const f of s) {
    const type = f.type === T.TRUE || f.type === T.FALSE ? (f.value ? T.TRUE : T.FALSE) : f.type;
    const delta = f.id - last;
    if (delta > 0 && delta <= 15) w.byte((delta << 4) | type);
    else {
      w.byte(type);
      w.zigzag(BigInt(f.id));
    }
    last = f.id;
    if (type !== T.TRUE && type !== T.FALSE) writeValue(w, type, f.value);
  }
  w.byte(T.STOP);
}

export function encodeStruct(s: TStruct): Uint8Array {
  const w = new Writer();
  writeStruct(w, s);
  return w.done();
}
