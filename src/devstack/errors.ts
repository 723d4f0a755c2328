/** A binary the dev stack needs is not installed; `message` says exactly how to get it. */
export class ToolMissingError extends Error {
  override readonly name = 'ToolMissingError';
  constructor(
    readonly tool: string,
    message: string,
    /** The one command that installs the tool (besides `bash scripts/ensure-tools.sh`). */
    readonly installCommand: string,
  ) {
    super(message);
  }
}

/** A dev-stack server failed to start or to become ready. */
export class StackStartError extends Error {
  override readonly name = 'StackStartError';
  constructor(
    readonly service: string,
    message: string,
    /** Path of the service's log file, if it got that far. */
    readonly logFile?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
