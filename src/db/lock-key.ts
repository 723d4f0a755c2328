import { createHash } from 'node:crypto';

/**
 * The 64-bit advisory lock key of a name: the first 8 bytes of its SHA-256 as a signed bigint (the range of
 * Postgres' bigint). hashtext() gives 32 bits, where a few thousand tables already make a collision (two tables
 * reporting each other busy) likely; at 64 bits it is not. Returned as a string: the pg driver binds it as text
 * and Postgres casts it (`$1::bigint`) exactly.
 */
export function lockKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString();
}

/**
 * The pg_locks columns a bigint advisory lock shows up under: classid = high 32 bits, objid = low 32 bits,
 * objsubid = 1 (pg_advisory_lock(bigint); the two-int4 form uses objsubid 2). `$n` is the key parameter.
 */
export function pgLocksMatch(param: string): string {
  return `locktype = 'advisory' AND objsubid = 1 AND classid = ((${param}::bigint >> 32) & 4294967295)::oid AND objid = (${param}::bigint & 4294967295)::oid`;
}
