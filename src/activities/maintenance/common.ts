import { Context } from '@temporalio/activity';
import { tableConfig } from '../../config/lookup';
import type { TableIdent } from '../../db/watermarks';
import type { OffloadDeps } from '../offload';
import { loadTable } from '../table-setup';
import type { LoadedTable } from '../commit';

export function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // not inside an activity
  }
}

export function maintenanceId(): string {
  try {
    const info = Context.current().info;
    return `${info.workflowExecution?.workflowId ?? 'standalone'}/${info.workflowExecution?.runId ?? '-'}/${info.activityId}`;
  } catch {
    return `direct/${Date.now()}`;
  }
}

/** The registry entry, catalog id and loaded table (null when it was never offloaded). */
export async function resolveTable(deps: OffloadDeps, name: string): Promise<{ id: TableIdent; table: LoadedTable | null }> {
  const cfg = tableConfig(deps.settings, name);
  const id = { catalog: deps.settings.catalog.name, namespace: deps.settings.catalog.namespace, table: cfg.name };
  return { id, table: await loadTable(deps.pool, deps.io, id) };
}

export function totals(t: LoadedTable | null): { files: number; bytes: number; rows: number; snapshots: number } {
  const m = t?.metadata;
  const cur = m?.snapshots?.find((s) => s['snapshot-id'] === m['current-snapshot-id']);
  return {
    files: Number(cur?.summary?.['total-data-files'] ?? 0),
    bytes: Number(cur?.summary?.['total-files-size'] ?? 0),
    rows: Number(cur?.summary?.['total-records'] ?? 0),
    snapshots: m?.snapshots?.length ?? 0,
  };
}
