import { ConfigError } from './errors';
import type { Settings } from './settings';
import type { TableConfig } from './tables';

/** The registry entry of a table, or a ConfigError listing the known tables. */
export function tableConfig(settings: Settings, name: string): TableConfig {
  const cfg = settings.tables.find((t) => t.name === name);
  if (!cfg) throw new ConfigError(`unknown table ${JSON.stringify(name)}; known tables: ${settings.tables.map((t) => t.name).join(', ')}`);
  return cfg;
}
