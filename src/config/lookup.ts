import { ConfigError } from './errors';
import type { Settings } from './settings';
import type { TableConfig } from './tables';

/** The registry entry of a table, or a ConfigError listing the known tables. */
export function tableConfig(settings: Settings, name: string): TableConfig {
  const cfg = settings.tables.find((t) => t.name === name);
  if (!cfg) throw new ConfigError(`unknown table ${JSON.stringify(name)}; known tables: ${settings.tables.map((t) => t.name).join(', ')}`);
  return cfg;
}

/** The catalog identifier of a registry table (the key of its catalog row, watermark and lock). */
export function tableIdent(settings: Settings, table: string): { catalog: string; namespace: string; table: string } {
  return { catalog: settings.catalog.name, namespace: settings.catalog.namespace, table };
}

/** The event-time column of a table (audit, backfill), or a ConfigError saying how to set one. */
export function timeColumn(cfg: TableConfig): string {
  const c = cfg.timeColumn ?? cfg.partitionBy[0]?.column;
  if (!c) throw new ConfigError(`table ${cfg.name}: set "timeColumn" (an event-time column) in the table registry to audit or backfill it`);
  return c;
}
