import { ApplicationFailure } from '@temporalio/activity';
import { ConfigError } from '../config/errors';
import { SchemaEvolutionError, SourceTableMissingError, UnsupportedTypeError } from '../clickhouse/errors';
import { PoolerModeError } from '../db/errors';
import { AvroFormatError, DataSchemaMismatchError, IcebergArgumentError, IcebergPathError, MetadataParseError } from '../iceberg';
import { BadRequestError } from './errors';
import { tableConfig } from '../config/lookup';
import type { Settings } from '../config/settings';
import { backfillTable } from './backfill';
import { dedupeTable } from './dedupe';
import type { ActivityDeps } from './deps';
import { refreshViewAfterCommit } from './federate';
import { auditTable } from './maintenance/audit';
import { compactTable } from './maintenance/compact';
import { expireTable } from './maintenance/expire';
import { removeOrphans } from './maintenance/orphans';
import { rewriteManifestsTable } from './maintenance/rewrite-manifests';
import { commitRanges, writeRange } from './offload/fan-out';
import { offloadTable } from './offload/offload';
import { restateWindow } from './restate/repair';
import { restateTable } from './restate/restate';
import { measuredStage } from './stage-metrics';
import type { AuditTableInput, BackfillTableInput, CommitRangesInput, CompactTableInput, DedupeTableInput, ExpireTableInput, OffloadTableInput, OrphansTableInput, PlanOffloadInput, PlannedTable, OffloadTableResult, RestateTableInput, RestateWindowInput, RewriteManifestsTableInput, WriteRangeInput } from './types';

export type { ActivityDeps, TestHooks } from './deps';

/**
 * Errors that no retry can fix: bad config, a missing source table, a schema Iceberg cannot take, a corrupt
 * metadata, manifest or manifest list file, an invalid Iceberg argument (e.g. a table with delete files), a
 * transaction-mode pooler. They fail the activity at once with a message saying what to do. Recognised by class (a
 * subclass counts), never by the `name` string, which any error can claim.
 */
const PERMANENT: readonly (abstract new (...args: never[]) => Error)[] = [
  ConfigError,
  SourceTableMissingError,
  UnsupportedTypeError,
  SchemaEvolutionError,
  MetadataParseError,
  AvroFormatError,
  IcebergPathError,
  IcebergArgumentError,
  BadRequestError,
  DataSchemaMismatchError,
  PoolerModeError,
];

export function isPermanent(err: unknown): err is Error {
  return PERMANENT.some((cls) => err instanceof cls);
}

function permanent<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      if (isPermanent(err)) throw ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: true, cause: err });
      throw err;
    }
  };
}

/** Activities get their clients through this factory; workflows proxy `ReturnType<typeof createActivities>`. */
export function createActivities(deps: ActivityDeps) {
  return {
    planOffload: permanent(async (input: PlanOffloadInput): Promise<PlannedTable[]> => planOffload(deps.settings, input)),
    offloadTable: permanent(async (input: OffloadTableInput) => withView(deps, await offloadTable(deps, input))),
    writeRange: permanent((input: WriteRangeInput) => writeRange(deps, input)),
    commitRanges: permanent(async (input: CommitRangesInput) => withView(deps, await commitRanges(deps, input))),
    backfillTable: permanent((input: BackfillTableInput) => backfillTable(deps, input)),
    restateTable: permanent(async (input: RestateTableInput) => {
      const r = await restateTable(deps, input);
      if (r.snapshotId) await refreshViewAfterCommit(deps, r.table);
      return r;
    }),
    restateWindow: permanent((input: RestateWindowInput) => restateWindow(deps, input)),
    dedupeTable: permanent((input: DedupeTableInput) => dedupeTable(deps, input)),
    compactTable: permanent(measuredStage('compact', (input: CompactTableInput) => compactTable(deps, input))),
    rewriteManifestsTable: permanent(measuredStage('rewrite-manifests', (input: RewriteManifestsTableInput) => rewriteManifestsTable(deps, input))),
    expireTable: permanent(measuredStage('expire', (input: ExpireTableInput) => expireTable(deps, input))),
    removeOrphans: permanent(measuredStage('orphans', (input: OrphansTableInput) => removeOrphans(deps, input))),
    auditTable: permanent(measuredStage('audit', (input: AuditTableInput) => auditTable(deps, input))),
  };
}

/** After a commit (or a retry that found its earlier commit), the table's federated view follows it. */
async function withView(deps: ActivityDeps, r: OffloadTableResult): Promise<OffloadTableResult> {
  if (r.commits === 0 && !r.replayed) return r;
  const view = await refreshViewAfterCommit(deps, r.table);
  return view ? { ...r, federatedView: view } : r;
}

export function planOffload(settings: Settings, input: PlanOffloadInput): PlannedTable[] {
  const wanted = input.tables?.length ? input.tables.map((t) => tableConfig(settings, t)) : settings.tables;
  return wanted.map((t) => ({ table: t.name, layer: t.layer, dependsOn: t.dependsOn, requireDependencies: t.requireDependencies, ...(t.derivedFrom ? { derivedFrom: t.derivedFrom.table } : {}) }));
}

export type Activities = ReturnType<typeof createActivities>;
