// Murmur3 x86 32-bit, seed 0: the hash Iceberg's bucket transform requires
// (spec "Bucket Transform Details" and Appendix B). Must match Java bit for bit,
// or bucket partition values would disagree with every other engine.

function rotl32(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

export function murmur3x86_32(bytes: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed | 0;
  const len = bytes.length;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) | 0;
    k = Math.imul(k, c1);
    k = rotl32(k, 15);
    k = Math.imul(k, c2);
    h ^= k;
    h = rotl32(h, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const tail = len & 3;
  if (tail === 3) k ^= bytes[blocks + 2]! << 16;
  if (tail >= 2) k ^= bytes[blocks + 1]! << 8;
  if (tail >= 1) {
    k ^= bytes[blocks]!;
    k = Math.imul(k, c1);
    k = rotl32(k, 15);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Java's `hashLong`: the 8 little-endian bytes of a signed 64-bit value. Ints are hashed this way too (Appendix B note 1). */
export function hashLong(v: bigint): number {
  const buf = new Uint8Array(8);
  new DataView(buf.buffer).setBigInt64(0, BigInt.asIntN(64, v), true);
  return murmur3x86_32(buf);
}
