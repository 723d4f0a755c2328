/** Thrown by the config loader when a setting or the table registry is invalid. The message names the setting or table key and says how to fix it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(`config: ${message}`, options);
  }
}
