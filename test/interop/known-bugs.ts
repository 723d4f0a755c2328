// Reader bugs the differential pruning test expects, each with where it is tracked upstream. On the 'default' table
// (coldtier's workarounds on) only query-side bugs, which no file layout avoids, may show; on 'opted-in' the bugs the
// workarounds exist for must show (see docs/interop.md). compare() attaches the bug a mismatch matches.

import type { KnownBug } from './differential';

export const KNOWN_BUGS: KnownBug[] = [
  {
    // A Python float literal binds to a float column through DoubleLiteral.to(FloatType), which turns ±inf into
    // FloatAboveMax/FloatBelowMin ("out of range"): = inf matches nothing, > -inf everything. Same logic as Iceberg
    // Java's DoubleLiteral (questioned in apache/iceberg#13255); Spark binds a FLOAT literal and is not affected.
    engine: 'pyiceberg',
    issue: 'PyIceberg 0.12 DoubleLiteral.to(FloatType) maps ±inf to out-of-range sentinels (cf. apache/iceberg#13255)',
    affects: (p) => p.col.kind === 'float' && p.vals.some((v) => v === 'inf' || v === '-inf'),
  },
  {
    // In is evaluated with pyarrow's is_in, which hashes floats bitwise: In(x, {-0.0}) misses 0.0 (and the reverse).
    engine: 'pyiceberg',
    issue: 'PyIceberg 0.12 / pyarrow 26 is_in tells -0.0 from 0.0 (no upstream issue found)',
    affects: (p) => p.op === 'in' && (p.col.kind === 'float' || p.col.kind === 'double') && p.vals.some((v) => Number(v) === 0),
  },
  {
    // Parquet min/max leave NaN out (as the Parquet spec says); pyarrow's row-group filter takes them as covering
    // every value and skips NaN rows. coldtier removes min/max from float chunks holding NaN unless opted in.
    engine: 'pyiceberg',
    table: 'opted-in',
    issue: 'pyarrow row-group statistics filter skips NaN rows (coldtier.write.parquet.nan-float-statistics)',
    affects: (p) => p.op === 'nan',
  },
  {
    // ClickHouse decodes uuid manifest bounds without the byte swap its data path applies, and prunes files holding
    // the UUID (ClickHouse #118366, #120446; fix proposed in #118380); with uuid Parquet statistics it also refuses the
    // file ("Statistics have min_value > max_value"), since it orders UUIDs by their second half.
    engine: 'chdb',
    table: 'opted-in',
    issue: 'ClickHouse 26.7 uuid bounds/statistics (ClickHouse #118366, #120446)',
    affects: (p) => p.col.kind === 'uuid' && p.op !== 'null' && p.op !== 'notnull',
  },
  {
    // ClickHouse's Iceberg min/max pruning drops the file holding decimal(18,8)'s most negative value (right with
    // use_iceberg_partition_pruning = 0). ClickHouse widens decimal bounds by one integral unit before pruning, past
    // the precision here; the same family as ClickHouse #116999 (fix proposed in #119712).
    engine: 'chdb',
    issue: 'ClickHouse 26.7 decimal bound widening at the precision limit (cf. ClickHouse #116999, #119712)',
    affects: (p) => p.col.name === 'd18' && p.vals.includes('-9999999999.99999999'),
  },
  {
    // Iceberg Java compares UUIDs as two signed longs, so a file or row group whose bounds hold 80000000-… and above
    // looks out of range (apache/iceberg#14216; fix in PR #14500, not in 1.10 or 1.12). coldtier writes no uuid
    // bounds or statistics by default (coldtier.write.uuid-bounds).
    engine: 'spark',
    table: 'opted-in',
    issue: 'apache/iceberg#14216 (UUIDs compared as signed longs)',
    affects: (p) => p.col.kind === 'uuid',
  },
  {
    // Iceberg Java's dictionary row-group filter compares floats with Float.compare (-0.0 < 0.0), so `x = 0.0` drops a
    // row group whose dictionary holds only -0.0 (and `x = -0.0` one with only 0.0); IN and ranges the same way.
    // coldtier writes float/double columns without dictionaries by default (coldtier.write.parquet.float-dictionary).
    engine: 'spark',
    table: 'opted-in',
    issue: 'Iceberg Java ParquetDictionaryRowGroupFilter: -0.0 ≠ 0.0 (no upstream issue found)',
    affects: (p) => (p.col.kind === 'float' || p.col.kind === 'double') && p.vals.some((v) => Number(v) === 0),
  },
];
