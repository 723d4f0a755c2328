// Per-column predicates of the differential pruning test, and their text in each engine's dialect: ClickHouse (the
// source, and chDB reading the Iceberg table), Spark SQL, DuckDB and PyIceberg expressions. Float comparisons add
// "and not NaN" everywhere, since engines order NaN differently (IEEE in ClickHouse and PyIceberg, largest in Spark
// and DuckDB); that is semantics, not pruning.

import type { EdgeColumn } from './edge-table';

export type Op = '=' | '<' | '<=' | '>' | '>=' | 'between' | 'in' | 'null' | 'notnull' | 'nan';
export interface Predicate {
  id: string;
  col: EdgeColumn;
  op: Op;
  vals: string[];
}
export type Engine = 'source' | 'chdb' | 'spark' | 'duckdb' | 'pyiceberg';

const isFloat = (c: EdgeColumn) => c.kind === 'float' || c.kind === 'double';

/** =, <, <=, >, >=, BETWEEN, IN, IS NULL, IS NAN at each value, at the extremes and just inside them. */
export function predicatesFor(c: EdgeColumn): Predicate[] {
  const vals = c.values.filter((v) => v !== 'NULL' && v !== 'nan');
  const out: Array<Omit<Predicate, 'id' | 'col'>> = [];
  for (const v of [...vals, ...(c.around ?? [])]) out.push({ op: '=', vals: [v] });
  const pick = [...new Set([vals[0]!, vals[1] ?? vals[0]!, vals[Math.floor(vals.length / 2)]!, vals.at(-2) ?? vals[0]!, vals.at(-1)!, ...(c.around ?? [])])];
  for (const v of pick) for (const op of ['<', '<=', '>', '>='] as const) out.push({ op, vals: [v] });
  if (vals.length > 2) out.push({ op: 'between', vals: [vals[1]!, vals.at(-2)!] });
  out.push({ op: 'in', vals: [vals[0]!, vals.at(-1)!] });
  if (c.values.includes('NULL')) out.push({ op: 'null', vals: [] }, { op: 'notnull', vals: [] });
  if (isFloat(c)) out.push({ op: 'nan', vals: [] });
  return out.map((p) => ({ ...p, col: c, id: `${c.name} ${p.op} ${p.vals.join(',')}` }));
}

const sqlString = (v: string, backslash: boolean) => `'${(backslash ? v.replace(/\\/g, '\\\\') : v).replace(/'/g, backslash ? "\\'" : "''")}'`;
const hex = (v: string) => Buffer.from(v).toString('hex');

function sqlType(c: EdgeColumn, e: 'spark' | 'duckdb'): string {
  switch (c.kind) {
    case 'int': return e === 'spark' ? 'INT' : 'INTEGER';
    case 'long': return 'BIGINT';
    case 'decimal': return `DECIMAL(${c.precision}, ${c.scale})`;
    case 'float': return 'FLOAT';
    case 'double': return 'DOUBLE';
    default: return '';
  }
}

/** A literal of column `c`'s Iceberg type in engine `e`. */
function literal(c: EdgeColumn, v: string, e: Engine): string {
  const floatText = (x: string) => ({ inf: 'Infinity', '-inf': '-Infinity' })[x] ?? x;
  switch (e) {
    case 'source':
    case 'chdb': {
      if (c.kind === 'uuid') return sqlString(v, true); // compared as text: ClickHouse orders UUIDs by their second half
      if (c.kind === 'bool') return v;
      if (c.kind === 'string' || c.kind === 'fixed') return sqlString(v, true);
      if (c.kind === 'date') return `toDate32('${v}')`;
      if (c.kind === 'ts') return `toDateTime64('${v}', 6, 'UTC')`;
      if (c.kind === 'decimal') return `CAST('${v}' AS Decimal(${c.precision}, ${c.scale}))`;
      return `CAST('${v}' AS ${c.kind === 'float' ? 'Float32' : c.kind === 'double' ? 'Float64' : c.kind === 'int' ? 'Int32' : 'Int64'})`;
    }
    case 'spark':
      if (c.kind === 'bool') return v;
      if (c.kind === 'string' || c.kind === 'uuid') return sqlString(v, true);
      if (c.kind === 'fixed') return `X'${hex(v)}'`;
      if (c.kind === 'date') return `DATE'${v}'`;
      if (c.kind === 'ts') return `TIMESTAMP'${v}'`;
      return `CAST('${floatText(v)}' AS ${sqlType(c, 'spark')})`;
    case 'duckdb':
      if (c.kind === 'bool') return v;
      if (c.kind === 'string') return sqlString(v, false);
      if (c.kind === 'uuid') return `'${v}'::UUID`;
      if (c.kind === 'fixed') return `'${[...Buffer.from(v)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}'::BLOB`;
      if (c.kind === 'date') return `DATE '${v}'`;
      if (c.kind === 'ts') return `TIMESTAMPTZ '${v}+00'`;
      return `CAST('${v}' AS ${sqlType(c, 'duckdb')})`;
    case 'pyiceberg':
      if (c.kind === 'bool') return v === 'true' ? 'True' : 'False';
      if (c.kind === 'string') return JSON.stringify(v);
      if (c.kind === 'uuid') return `UUID('${v}')`;
      if (c.kind === 'fixed') return `bytes.fromhex('${hex(v)}')`;
      if (c.kind === 'date') return `'${v}'`;
      if (c.kind === 'ts') return `'${v.replace(' ', 'T')}+00:00'`;
      if (c.kind === 'decimal') return `Decimal('${v}')`;
      if (isFloat(c)) return `float('${v}')`;
      return v;
  }
}

/**
 * Column reference: ClickHouse compares UUIDs as text (see literal), and the source's narrower ClickHouse types are
 * read as their Iceberg type (as chDB sees the Iceberg table), so IN lists type-check.
 */
function column(c: EdgeColumn, e: Engine, op: Op): string {
  if ((e === 'source' || e === 'chdb') && c.kind === 'uuid' && !['null', 'notnull'].includes(op)) return `toString(${c.name})`;
  if (e !== 'source') return c.name;
  const as = { int: 'toInt32', long: 'toInt64', date: 'toDate32' } as Partial<Record<EdgeColumn['kind'], string>>;
  if (c.kind === 'ts') return `toDateTime64(${c.name}, 6, 'UTC')`;
  return as[c.kind] ? `${as[c.kind]}(${c.name})` : c.name;
}

/** The predicate's text in engine `e` (SQL WHERE clause, or a PyIceberg expression in Python syntax). */
export function render(p: Predicate, e: Engine): string {
  const c = p.col;
  // chDB compares UUIDs natively where order does not matter (=, IN), so its manifest pruning is exercised.
  const nativeUuid = e === 'chdb' && c.kind === 'uuid' && (p.op === '=' || p.op === 'in');
  const col = nativeUuid ? c.name : column(c, e, p.op);
  const lit = (v: string) => (nativeUuid ? `toUUID('${v}')` : literal(c, v, e));
  if (e === 'pyiceberg') {
    const n = JSON.stringify(c.name);
    const cmp = { '=': 'EqualTo', '<': 'LessThan', '<=': 'LessThanOrEqual', '>': 'GreaterThan', '>=': 'GreaterThanOrEqual' } as const;
    let x: string;
    if (p.op === 'null') x = `IsNull(${n})`;
    else if (p.op === 'notnull') x = `NotNull(${n})`;
    else if (p.op === 'nan') x = `IsNaN(${n})`;
    else if (p.op === 'in') x = `In(${n}, {${p.vals.map(lit).join(', ')}})`;
    else if (p.op === 'between') x = `And(GreaterThanOrEqual(${n}, ${lit(p.vals[0]!)}), LessThanOrEqual(${n}, ${lit(p.vals[1]!)}))`;
    else x = `${cmp[p.op]}(${n}, ${lit(p.vals[0]!)})`;
    return isFloat(c) && !['null', 'notnull', 'nan'].includes(p.op) ? `And(${x}, NotNaN(${n}))` : x;
  }
  const nan = e === 'source' || e === 'chdb' ? 'isNaN' : 'isnan';
  let x: string;
  if (p.op === 'null') x = `${col} IS NULL`;
  else if (p.op === 'notnull') x = `${col} IS NOT NULL`;
  else if (p.op === 'nan') x = `${nan}(${col})`;
  // ClickHouse's IN compares floats bitwise (0.0 IN (-0.0) is false), unlike its =; ask it with = so it answers IEEE.
  else if (p.op === 'in' && isFloat(c) && (e === 'source' || e === 'chdb')) x = `(${p.vals.map((v) => `${col} = ${lit(v)}`).join(' OR ')})`;
  else if (p.op === 'in') x = `${col} IN (${p.vals.map(lit).join(', ')})`;
  else if (p.op === 'between') x = `${col} BETWEEN ${lit(p.vals[0]!)} AND ${lit(p.vals[1]!)}`;
  else x = `${col} ${p.op} ${lit(p.vals[0]!)}`;
  return isFloat(c) && !['null', 'notnull', 'nan'].includes(p.op) ? `${x} AND NOT ${nan}(${col})` : x;
}
