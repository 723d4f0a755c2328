// Column bound truncation as Iceberg's default metrics mode `truncate(16)`
// does it (Java MetricsModes / UnicodeUtil / BinaryUtil): a lower bound may be
// cut short (a prefix is still <= every value); an upper bound cut short must
// then be incremented so it stays >= every value, or dropped if it cannot be.

export const DEFAULT_TRUNCATE_LENGTH = 16;

/** First `len` code points (never splits a surrogate pair). */
export function truncateStringLower(s: string, len = DEFAULT_TRUNCATE_LENGTH): string {
  const cps = Array.from(s);
  return cps.length <= len ? s : cps.slice(0, len).join('');
}

/**
 * Upper bound for strings longer than `len` code points: the prefix with its
 * last incrementable code point incremented (surrogates skipped). Undefined if
 * every code point in the prefix is U+10FFFF (no valid upper bound: omit it).
 */
export function truncateStringUpper(s: string, len = DEFAULT_TRUNCATE_LENGTH): string | undefined {
  const cps = Array.from(s);
  if (cps.length <= len) return s;
  const prefix = cps.slice(0, len).map((c) => c.codePointAt(0)!);
  for (let i = prefix.length - 1; i >= 0; i--) {
    let next = prefix[i]! + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) {
      return String.fromCodePoint(...prefix.slice(0, i), next);
    }
  }
  return undefined;
}

export function truncateBinaryLower(b: Uint8Array, len = DEFAULT_TRUNCATE_LENGTH): Uint8Array {
  return b.length <= len ? b : b.slice(0, len);
}

/** Binary upper bound: prefix with its last non-0xFF byte incremented; undefined if all 0xFF. */
export function truncateBinaryUpper(b: Uint8Array, len = DEFAULT_TRUNCATE_LENGTH): Uint8Array | undefined {
  if (b.length <= len) return b;
  const out = b.slice(0, len);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! !== 0xff) {
      out[i] = out[i]! + 1;
      return out.slice(0, i + 1);
    }
  }
  return undefined;
}
