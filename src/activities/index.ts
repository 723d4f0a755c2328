import { ApplicationFailure } from '@temporalio/activity';
import type { Settings } from '../config/settings';
import { tableConfig } from '../config/lookup';
import { offloadTable, type OffloadDeps } from './offload';
import { backfillTable, type BackfillTableInput } from './backfill';
import { commitRanges, writeRange } from './fanout';
import { auditTable, type AuditTableInput } from './maintenance/audit';
import { compactTable, type CompactHooks, type CompactTableInput } from './maintenance/compact';
import { expireTable, type ExpireTableInput } from './maintenance/expire';
import { removeOrphans, type OrphansTableInput } from './maintenance/orphans';
import type { CommitRangesInput, OffloadTableInput, PlanOffloadInput, PlannedTable, WriteRangeInput } from './types';

/**
 * Errors that no retry can fix: bad config, a missing source table, a schema Iceberg cannot take, a corrupt
 * metadata, manifest or manifest list file. They fail the activity at once with a message saying what to do.
 */
const PERMANENT = new Set([
  'ConfigError',
  'SourceTableMissingError',
  'UnsupportedTypeError',
  'SchemaEvolutionError',
  'MetadataParseError',
  'AvroFormatError',
  'IcebergPathError',
  'BadRequestError',
  'DataSchemaMismatchError',
]);

function permanent<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      if (err instanceof Error && PERMANENT.has(err.name)) {
        throw ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: true, cause: err });
      }
      throw err;
    }
  };
}

export type ActivityDeps = OffloadDeps & { compactHooks?: CompactHooks };

/** Activities get their clients through this factory; workflows proxy `ReturnType<typeof createActivities>`. */
export function createActivities(deps: ActivityDeps) {
  return {
    planOffload: permanent(async (input: PlanOffloadInput): Promise<PlannedTable[]> => planOffload(deps.settings, input)),
    offloadTable: permanent((input: OffloadTableInput) => offloadTable(deps, input)),
    writeRange: permanent((input: WriteRangeInput) => writeRange(deps, input)),
    commitRanges: permanent((input: CommitRangesInput) => commitRanges(deps, input)),
    backfillTable: permanent((input: BackfillTableInput) => backfillTable(deps, input)),
    compactTable: permanent((input: CompactTableInput) => compactTable(deps, input)),
    expireTable: permanent((input: ExpireTableInput) => expireTable(deps, input)),
    removeOrphans: permanent((input: OrphansTableInput) => removeOrphans(deps, input)),
    auditTable: permanent((input: AuditTableInput) => auditTable(deps, input)),
  };
}

export function planOffload(settings: Settings, input: PlanOffloadInput): PlannedTable[] {
  const wanted = input.tables?.length ? input.tables.map((t) => tableConfig(settings, t)) : settings.tables;
  return wanted.map((t) => ({ table: t.name, layer: t.layer, dependsOn: t.dependsOn, requireDependencies: t.requireDependencies }));
}

export type Activities = ReturnType<typeof createActivities>;
