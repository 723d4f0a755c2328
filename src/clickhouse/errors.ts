/** Thrown by the source reader when a configured ClickHouse table does not exist. Not retryable: fix the registry or create the table. */
export class SourceTableMissingError extends Error {
  override readonly name = 'SourceTableMissingError';
  constructor(
    readonly table: string,
    readonly source: string,
  ) {
    super(`clickhouse source ${source} of table ${table} does not exist; create it, or fix "source" of ${table} in the table registry`);
  }
}

/** Thrown by icebergSchemaFromClickHouse when a ClickHouse column type has no lossless Iceberg mapping. Permanent. */
export class UnsupportedTypeError extends Error {
  override readonly name = 'UnsupportedTypeError';
  constructor(
    readonly table: string,
    readonly column: string,
    readonly clickhouseType: string,
    hint: string,
  ) {
    super(`iceberg schema for ${table}: column ${column} has unsupported ClickHouse type ${clickhouseType}; ${hint}`);
  }
}

/** Thrown by icebergSchemaFromClickHouse when the new columns are not a legal evolution of the previous schema. Permanent. */
export class SchemaEvolutionError extends Error {
  override readonly name = 'SchemaEvolutionError';
  constructor(readonly table: string, readonly column: string, reason: string) {
    super(`iceberg schema evolution for ${table}: column ${column}: ${reason}`);
  }
}
