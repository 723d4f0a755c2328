// ClickHouse → Iceberg type mapping. Each mapping is lossless, and comes with
// the ClickHouse expression that makes the ArrowStream output match the
// Iceberg type's Arrow layout exactly, so the writer never converts values.

import type { PrimitiveType } from '../../iceberg';
import { parseChType, unquote, type ChType } from './clickhouse-type';

/** A mapped type before field ids are assigned. */
export type Mapped =
  | { kind: 'primitive'; type: PrimitiveType; nullable: boolean; cast?: (e: string) => string }
  | { kind: 'list'; element: Mapped; nullable: boolean }
  | { kind: 'map'; key: Mapped; value: Mapped; nullable: boolean };

/** Raised inside the mapper; icebergSchemaFromClickHouse adds table and column. */
export class Unmappable extends Error {
  constructor(readonly chType: string, readonly hint: string) {
    super(hint);
  }
}

const toInt32 = (e: string) => `toInt32(${e})`;
const toInt64 = (e: string) => `toInt64(${e})`;
const toMicrosUtc = (e: string) => `toDateTime64(${e}, 6, 'UTC')`;

function prim(type: PrimitiveType, cast?: (e: string) => string): Mapped {
  return cast ? { kind: 'primitive', type, nullable: false, cast } : { kind: 'primitive', type, nullable: false };
}

function decimal(t: ChType, precision: number, scale: number): Mapped {
  if (precision > 38) {
    throw new Unmappable(t.text, 'Iceberg decimals hold at most 38 digits; cast to Decimal(38, S) or String in a view over the source table');
  }
  return prim(`decimal(${precision},${scale})`);
}

/** Maps one ClickHouse type; throws Unmappable with a hint on what to do instead. */
export function mapClickHouseType(text: string): Mapped {
  const t = parseChType(text);
  const arg = (i: number): string => t.args[i] ?? '';
  switch (t.name) {
    case 'Nullable': {
      const inner = mapClickHouseType(arg(0));
      return { ...inner, nullable: true };
    }
    case 'LowCardinality': {
      // Plain values, not an Arrow dictionary: parquet-wasm and Iceberg readers want the value type.
      const inner = mapClickHouseType(arg(0));
      if (inner.kind !== 'primitive') return inner;
      return { ...inner, cast: (e) => (inner.cast ?? ((x: string) => x))(`CAST(${e} AS ${arg(0)})`) };
    }
    case 'String':
      return prim('string');
    case 'FixedString':
      // Binary, not string: FixedString pads with NUL bytes, and fixed[N] keeps them exactly.
      return prim(`fixed[${Number(arg(0))}]`);
    case 'Enum8':
    case 'Enum16':
      return prim('string', (e) => `CAST(${e} AS String)`);
    case 'Bool':
      return prim('boolean');
    case 'Int8':
    case 'Int16':
    case 'UInt8':
    case 'UInt16':
      return prim('int', toInt32);
    case 'Int32':
      return prim('int');
    case 'UInt32':
      return prim('long', toInt64);
    case 'Int64':
      return prim('long');
    case 'UInt64':
      // Iceberg has no unsigned types and values above 2^63-1 do not fit a long;
      // decimal(20,0) holds every UInt64 exactly and sorts numerically.
      return prim('decimal(20,0)', (e) => `CAST(${e} AS Decimal(20, 0))`);
    case 'Float32':
      return prim('float');
    case 'BFloat16':
      return prim('float', (e) => `toFloat32(${e})`);
    case 'Float64':
      return prim('double');
    case 'Decimal':
      return decimal(t, Number(arg(0)), Number(arg(1) || 0));
    case 'Decimal32':
      return decimal(t, 9, Number(arg(0)));
    case 'Decimal64':
      return decimal(t, 18, Number(arg(0)));
    case 'Decimal128':
      return decimal(t, 38, Number(arg(0)));
    case 'Date':
    case 'Date32':
      return prim('date');
    case 'DateTime':
      // DateTime is an instant (Unix seconds) whatever zone it displays in, so timestamptz.
      return prim('timestamptz', toMicrosUtc);
    case 'DateTime64': {
      const precision = Number(arg(0));
      if (!(precision >= 0 && precision <= 6)) {
        throw new Unmappable(t.text, 'Iceberg v2 timestamps have microsecond precision; cast to DateTime64(6) in a view if truncating the nanoseconds is acceptable');
      }
      const utcMicros = precision === 6 && unquote(arg(1)) === 'UTC';
      return utcMicros ? prim('timestamptz') : prim('timestamptz', toMicrosUtc);
    }
    case 'UUID':
      return prim('uuid');
    case 'Array': {
      const element = mapClickHouseType(arg(0));
      return { kind: 'list', element, nullable: false };
    }
    case 'Map': {
      const key = mapClickHouseType(arg(0));
      const value = mapClickHouseType(arg(1));
      if (key.nullable) throw new Unmappable(t.text, 'Iceberg map keys cannot be null; use a non-Nullable key type');
      return { kind: 'map', key, value, nullable: false };
    }
    case 'Int128':
    case 'UInt128':
    case 'Int256':
    case 'UInt256':
      throw new Unmappable(t.text, 'values can exceed Iceberg decimal(38,0); cast to Decimal(38, 0) (if the values fit) or String in a view over the source table');
    case 'Tuple':
      throw new Unmappable(t.text, 'tuples are not supported yet; flatten the tuple into separate columns in a view over the source table');
    case 'AggregateFunction':
    case 'SimpleAggregateFunction':
      throw new Unmappable(t.text, 'aggregate states cannot be offloaded; offload a view that finalizes them (e.g. with finalizeAggregation or -Merge combinators)');
    default:
      throw new Unmappable(t.text, 'no lossless Iceberg mapping; cast it to a supported type (String, Int*, Float*, Decimal, Date, DateTime64, UUID, Array, Map) in a view over the source table');
  }
}

/**
 * The ClickHouse expression producing Arrow data for `m` from expression `e`,
 * or undefined when `e` already does. `depth` keeps lambda names unique.
 */
export function selectExpr(m: Mapped, e: string, depth = 0): string | undefined {
  if (m.kind === 'primitive') return m.cast?.(e);
  if (m.kind === 'list') {
    const x = `__e${depth}`;
    const inner = selectExpr(m.element, x, depth + 1);
    return inner === undefined ? undefined : `arrayMap(${x} -> ${inner}, ${e})`;
  }
  const k = `__k${depth}`;
  const v = `__v${depth}`;
  const ke = selectExpr(m.key, k, depth + 1);
  const ve = selectExpr(m.value, v, depth + 1);
  if (ke === undefined && ve === undefined) return undefined;
  return `mapApply((${k}, ${v}) -> (${ke ?? k}, ${ve ?? v}), ${e})`;
}
