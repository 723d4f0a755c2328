// Table metadata JSON serde. 64-bit ids are parsed into bigint, because
// JSON.parse would silently round snapshot ids above 2^53 and a rounded id
// points at no snapshot (or the wrong one).
//
// Every commit parses and writes the whole file, which grows by about 1 KB per
// retained snapshot (~700 KB for a week of 15-minute commits), so speed
// matters: lossless-json took ~140 ms to parse such a file where JSON.parse
// takes ~6 ms. The fast path quotes the id fields' numbers in the text and
// uses JSON.parse; lossless-json remains the path for anything else that
// might be an integer above 2^53 (to refuse it rather than round it).

import { isLosslessNumber, parse, type LosslessNumber } from 'lossless-json';
import { MetadataParseError } from '../errors';
import type { TableMetadata } from './table-metadata';

/** Keys whose numbers are Iceberg longs that may exceed 2^53. */
const BIGINT_KEYS = new Set(['snapshot-id', 'parent-snapshot-id', 'current-snapshot-id']);

class UnsafeNumber extends Error {}

function revive(key: string, value: unknown): unknown {
  if (!isLosslessNumber(value)) return value;
  const raw = (value as LosslessNumber).value;
  if (BIGINT_KEYS.has(key) && /^-?\d+$/.test(raw)) return BigInt(raw);
  const n = Number(raw);
  if (/^-?\d+$/.test(raw) && !Number.isSafeInteger(n)) throw new UnsafeNumber(`${key}=${raw} exceeds 2^53`);
  return n;
}

const REQUIRED: Array<[string, 'string' | 'number' | 'array']> = [
  ['table-uuid', 'string'],
  ['location', 'string'],
  ['last-sequence-number', 'number'],
  ['last-updated-ms', 'number'],
  ['last-column-id', 'number'],
  ['schemas', 'array'],
  ['current-schema-id', 'number'],
  ['partition-specs', 'array'],
  ['default-spec-id', 'number'],
  ['last-partition-id', 'number'],
  ['sort-orders', 'array'],
  ['default-sort-order-id', 'number'],
];

// An id field and its integer value, outside any string: inside a JSON string the key's quotes would be escaped.
const ID_FIELD = /"(snapshot-id|parent-snapshot-id|current-snapshot-id)"(\s*):(\s*)(-?\d+)/g;
// Any other number literal of 16+ digits may exceed 2^53 (or be a string's content: then the slow path is just slower).
const LONG_NUMBER = /[:,[]\s*-?\d{16,}/;

/** JSON.parse with the id fields as bigint, or undefined when the text has other long numbers (use lossless-json). */
function fastParse(json: string): unknown {
  const quoted = json.replace(ID_FIELD, '"$1"$2:$3"$4"');
  if (LONG_NUMBER.test(quoted)) return undefined;
  const raw: unknown = JSON.parse(quoted);
  idsToBigint(raw);
  return raw;
}

/** The id fields' (quoted) integers back to bigint, anywhere in the tree; a walk is ~5× faster than a JSON.parse reviver. */
function idsToBigint(v: unknown): void {
  if (Array.isArray(v)) {
    for (const x of v) if (typeof x === 'object' && x !== null) idsToBigint(x);
    return;
  }
  if (typeof v !== 'object' || v === null) return;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (typeof x === 'object' && x !== null) idsToBigint(x);
    else if (typeof x === 'string' && BIGINT_KEYS.has(k) && /^-?\d+$/.test(x)) o[k] = BigInt(x);
  }
}

/** A copy of `v` with every bigint as `marker` + digits (JSON.stringify cannot write bigints; a replacer is slower). */
function bigintsMarked(v: unknown, marker: string): unknown {
  if (typeof v === 'bigint') return `${marker}${v}`;
  if (Array.isArray(v)) return v.map((x) => bigintsMarked(x, marker));
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = bigintsMarked(x, marker);
  return out;
}

/** Parses v2 table metadata JSON. Anything else (v1, v3, a foreign or truncated file) → MetadataParseError naming `fileUri`. */
export function parseTableMetadata(json: string, fileUri: string): TableMetadata {
  let raw: unknown;
  try {
    raw = fastParse(json) ?? parse(json, revive);
  } catch (cause) {
    throw new MetadataParseError(fileUri, cause instanceof UnsafeNumber ? cause.message : 'not JSON', { cause });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new MetadataParseError(fileUri, 'not a JSON object');
  const m = raw as Record<string, unknown>;
  if (m['format-version'] !== 2) {
    throw new MetadataParseError(fileUri, `format-version ${String(m['format-version'])} is not supported; this writer reads and writes format-version 2 only`);
  }
  for (const [key, kind] of REQUIRED) {
    const v = m[key];
    const ok = kind === 'array' ? Array.isArray(v) : typeof v === kind;
    if (!ok) throw new MetadataParseError(fileUri, `required field ${key} is missing or not a ${kind}`);
  }
  m.properties ??= {};
  m.snapshots ??= [];
  m['snapshot-log'] ??= [];
  m['metadata-log'] ??= [];
  const current = m['current-snapshot-id'];
  if (current === null || current === -1n || current === -1) delete m['current-snapshot-id'];
  else if (current !== undefined && typeof current !== 'bigint') throw new MetadataParseError(fileUri, 'current-snapshot-id is not an integer');
  for (const s of m.snapshots as Array<Record<string, unknown>>) {
    if (typeof s['snapshot-id'] !== 'bigint') throw new MetadataParseError(fileUri, 'a snapshot has no integer snapshot-id');
    if (s['parent-snapshot-id'] === null) delete s['parent-snapshot-id'];
    s.summary ??= { operation: 'append' };
  }
  // Spec: "Always a main branch reference, even if refs is null" — derive it from current-snapshot-id.
  if (m.refs === undefined || m.refs === null) {
    m.refs = m['current-snapshot-id'] === undefined ? {} : { main: { 'snapshot-id': m['current-snapshot-id'], type: 'branch' } };
  }
  return m as TableMetadata;
}

const ORDER = [
  'format-version', 'table-uuid', 'location', 'last-sequence-number', 'last-updated-ms', 'last-column-id',
  'current-schema-id', 'schemas', 'default-spec-id', 'partition-specs', 'last-partition-id',
  'default-sort-order-id', 'sort-orders', 'properties', 'current-snapshot-id', 'refs', 'snapshots',
  'statistics', 'partition-statistics', 'snapshot-log', 'metadata-log',
];

/** Serializes with the spec's key order (as Iceberg Java writes it); unknown keys are kept at the end. */
export function serializeTableMetadata(m: TableMetadata): string {
  const out: Record<string, unknown> = {};
  for (const k of ORDER) {
    if (k === 'current-snapshot-id') out[k] = m[k] ?? -1;
    else if (m[k] !== undefined) out[k] = m[k];
  }
  for (const [k, v] of Object.entries(m)) if (!(k in out) && v !== undefined) out[k] = v;
  // bigints (the ids) go out as a marker string that no other value can hold, then lose their quotes.
  const marker = `\u0000bigint:${Math.random().toString(36).slice(2)}:`;
  const json = JSON.stringify(bigintsMarked(out, marker));
  if (json === undefined) throw new MetadataParseError(m.location, 'metadata could not be serialized');
  return json.replaceAll(new RegExp(`"${marker.replace('\u0000', '\\\\u0000')}(-?\\d+)"`, 'g'), '$1');
}
