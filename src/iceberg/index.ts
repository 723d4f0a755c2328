// Public API of the Iceberg library. Everything the rest of coldtier uses is
// re-exported here; deeper imports are internal (lint refuses them outside src/iceberg).

export * from './errors';

export type { FileInfo, FileIO, S3Settings, WriteOptions } from './io/file-io';
export { createFileIO } from './io/file-io';
export { joinUri, parseUri } from './io/uri';

export type { IcebergType, ListType, MapType, NestedField, PrimitiveType, Schema, StructType } from './spec/schema';
export { decimalParams, fixedLength, maxFieldId, sameSchemaFields } from './spec/schema';
export type { PartitionField, PartitionSpec, SortField, SortOrder } from './spec/partition-spec';
export type { MetadataLogEntry, Snapshot, SnapshotLogEntry, SnapshotRef } from './spec/snapshot';
export type { PartitionFieldInput, SortFieldInput, TableMetadata } from './spec/table-metadata';
export { ancestry, currentSchema, currentSnapshot, defaultSpec, findSnapshot, newTableMetadata, TABLE_PROPERTY_DEFAULTS, tableProperty } from './spec/table-metadata';
export { parseTransform } from './spec/transforms';
export { parseTableMetadata, serializeTableMetadata } from './spec/metadata-json';
export type { DataFile, ManifestEntry } from './spec/manifest';
export type { FieldSummary, ManifestFile } from './spec/manifest-list';
export type { IcebergValue } from './spec/values';
export { fromBinary, toBinary } from './spec/values';

export type { WriteDataFilesOptions } from './writer/data-writer';
export { dataFileName, partitionDir, tableBytesPerRow, writeDataFiles } from './writer/data-writer';
export type { AdoptedFileOptions } from './writer/parquet-file';
export { writeAdoptedFile } from './writer/parquet-file';
export { decimalRequiredBytes } from './parquet/footer';

export type { CatalogTableId } from './catalog/jdbc';
export { listNamespaceNames, listTableNames, loadMetadataLocation, loadNamespaceProperties, loadTableLocation } from './catalog/jdbc';
export type { LoadedTable, NewTable } from './catalog/tables';
export { createTableIfMissing, loadTable } from './catalog/tables';
export type { CasCommitOptions, Committed, CommitTransaction } from './catalog/commit';
export { casCommit } from './catalog/commit';

export type { PreparedCommit, PrepareAppendOptions } from './transaction/append';
export { cleanupPrepared, prepareAppend } from './transaction/append';
export type { PlanRewriteOptions, RewriteGroup, RewritePlan } from './transaction/rewrite-plan';
export { planRewrite } from './transaction/rewrite-plan';
export type { ExecuteRewriteOptions, RewriteResult } from './transaction/rewrite';
export { executeRewrite } from './transaction/rewrite';
export type { PrepareReplaceOptions, ReplaceChange } from './transaction/replace';
export { prepareReplace } from './transaction/replace';
export type { RewriteManifestsOptions, RewriteManifestsPlan } from './transaction/rewrite-manifests';
export { planRewriteManifests, prepareRewriteManifests } from './transaction/rewrite-manifests';
export type { ManifestMergeSettings } from './transaction/manifest-merge';
export { manifestMergeSettings } from './transaction/manifest-merge';
export type { ExpirePlan, PlanExpireOptions } from './transaction/expire';
export { planExpire } from './transaction/expire';
export { prepareMetadataUpdate } from './transaction/metadata-update';
export type { FindOrphansOptions } from './transaction/orphan-files';
export { findOrphans, normalizeUri } from './transaction/orphan-files';

export { newTableLocation, readTableMetadata, writeVersionHint } from './table/metadata-io';
export { afterCommit, removedMetadataFiles } from './table/after-commit';
export { listDataFiles, readManifestEntries, readManifestList } from './table/scan';
export type { PlanScanOptions, ScanColumnsOptions, ScanStats, TimeFilter } from './table/scan-columns';
export { planScanFiles, scanColumns } from './table/scan-columns';
export type { ReadDataFileOptions } from './arrow/parquet-reader';
export { readDataFile } from './arrow/parquet-reader';
