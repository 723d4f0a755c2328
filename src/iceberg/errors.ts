// Every error thrown on purpose by src/iceberg is an IcebergError, so callers
// can map the permanent ones (schema, type, path, argument problems) to
// non-retryable Temporal failures by class, and let I/O errors retry.

/** Base class for errors thrown by the Iceberg writer. Messages start with "iceberg". */
export class IcebergError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Thrown by joinUri / FileIO when a path would escape its base or has an unsupported scheme. */
export class IcebergPathError extends IcebergError {
  constructor(readonly uri: string, reason: string, options?: { cause?: unknown }) {
    super(`iceberg path error for ${JSON.stringify(uri)}: ${reason}`, options);
  }
}

/** Thrown by FileIO implementations when a storage call fails; `cause` keeps the original error. */
export class FileIOError extends IcebergError {
  constructor(readonly uri: string, readonly operation: string, options?: { cause?: unknown }) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`iceberg file io ${operation} failed for ${uri}${detail}`, options);
  }
}

/** Thrown by parseTableMetadata / readTableMetadata when a file is not valid v1/v2 Iceberg table metadata. */
export class MetadataParseError extends IcebergError {
  constructor(readonly fileUri: string, reason: string, options?: { cause?: unknown }) {
    super(`iceberg metadata ${fileUri} is not valid table metadata: ${reason}`, options);
  }
}

/** Thrown by the Avro reader (manifests, manifest lists) on a corrupt or foreign file. */
export class AvroFormatError extends IcebergError {
  constructor(readonly fileUri: string, reason: string, options?: { cause?: unknown }) {
    super(`iceberg avro file ${fileUri} cannot be read: ${reason}`, options);
  }
}

/** Thrown by writeDataFiles when the Arrow rows do not match the table schema (missing column, wrong type, nulls in a required column). Permanent. */
export class DataSchemaMismatchError extends IcebergError {
  constructor(readonly column: string, reason: string) {
    super(`iceberg data does not match the table schema at column ${column}: ${reason}`);
  }
}

/** Thrown for invalid arguments: empty append, unknown partition source column, bad transform. Permanent. */
export class IcebergArgumentError extends IcebergError {
  constructor(reason: string) {
    super(`iceberg invalid argument: ${reason}`);
  }
}

/**
 * Thrown by prepareReplace (and prepareMetadataUpdate) when the change no longer
 * applies to the table it is being committed on: a file to remove is not live
 * any more (another compaction or an expiry got there first), or the row count
 * would change. Permanent for this change: re-plan from fresh metadata; never
 * retry the same change.
 */
export class ValidationError extends IcebergError {
  constructor(readonly table: string, reason: string, readonly files: string[] = []) {
    super(`iceberg validation failed for ${table}: ${reason}${files.length ? ` (${files.slice(0, 3).join(', ')}${files.length > 3 ? `, and ${files.length - 3} more` : ''})` : ''}`);
  }
}

/** Thrown by casCommit when the table is not (any more) in the catalog. Retryable: the caller creates or reloads it. */
export class TableNotFoundError extends IcebergError {
  constructor(readonly table: string, readonly catalog: string, when: string) {
    super(`iceberg commit on ${table}: the table is not in catalog ${catalog} ${when}; will retry`);
  }
}

/** Thrown by casCommit when it lost the compare-and-swap to other writers every time it tried. Retryable. */
export class CommitConflictError extends IcebergError {
  constructor(readonly table: string, readonly attempts: number) {
    super(`iceberg commit conflict on ${table}: lost the compare-and-swap ${attempts} times to another writer; will retry`);
  }
}

/**
 * Thrown by casCommit when the COMMIT of its transaction failed (the connection broke mid-commit): the swap may or
 * may not have landed. Nothing of the commit is deleted. Retryable: a retry looks for its snapshot and finds it if it
 * landed; otherwise its files are orphans for the sweep. Every other error of casCommit means nothing was committed.
 */
export class CommitStateUnknownError extends IcebergError {
  constructor(readonly table: string, options?: { cause?: unknown }) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`iceberg commit on ${table}: the catalog transaction's COMMIT failed${detail}; the commit may or may not have landed, and its files are kept`, options);
  }
}
