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
