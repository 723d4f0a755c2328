import { lockTable } from '../lock';
import { findOrphans } from '../../iceberg';
import { heartbeat } from '../context';
import type { ActivityDeps } from '../deps';
import { BadRequestError } from '../errors';
import { resolveTable } from '../tables';
import type { OrphansTableInput, OrphansTableResult } from '../types';

export const MIN_ORPHAN_AGE_HOURS = 24;

/**
 * Deletes files under the table location that no metadata references and that are older than the minimum age
 * (Spark's remove_orphan_files), and aborts multipart uploads under it that a dead writer left unfinished. The age floor of 24 h protects files an in-flight write has uploaded but not yet
 * committed (apache/iceberg#4194).
 */
export async function removeOrphans(deps: ActivityDeps, input: OrphansTableInput): Promise<OrphansTableResult> {
  const started = Date.now();
  if (!(input.olderThanHours >= MIN_ORPHAN_AGE_HOURS)) {
    throw new BadRequestError(`orphan removal of ${input.table}: orphan_min_age_hours ${input.olderThanHours} is under ${MIN_ORPHAN_AGE_HOURS}; files that young may belong to a write still in flight`);
  }
  const { id, table } = await resolveTable(deps, input.table);
  const result: OrphansTableResult = { table: input.table, orphansFound: 0, filesDeleted: 0, bytesDeleted: 0, uploadsAborted: 0, durationMs: 0 };
  if (!table) return result;
  return lockTable(deps, id, async () => {
    const cutoff = Date.now() - input.olderThanHours * 3_600_000;
    const orphans = await findOrphans(deps.io, table.metadata, table.metadataUri, { olderThanMs: cutoff });
    result.orphansFound = orphans.length;
    if (!input.dryRun) {
      for (const [i, f] of orphans.entries()) {
        await deps.io.delete(f.uri);
        result.filesDeleted++;
        result.bytesDeleted += f.size;
        if (i % 100 === 0) heartbeat({ table: input.table, stage: 'orphans', deleted: i });
      }
    }
    result.uploadsAborted = (await deps.io.abortStaleUploads(table.metadata.location, new Date(cutoff), input.dryRun)).length;
    return { ...result, durationMs: Date.now() - started };
  }, 'maintenance');
}
