// Metrics for every maintenance stage, recorded around the stage's activity so each stage (including ones added
// later) gets duration and result without code of its own; files and bytes are read from the result's common fields.
import { metrics } from '../metrics/registry';

interface StageInput {
  table: string;
  dryRun?: boolean;
}

/** Files and bytes a stage result reports as changed, from the fields the stages share (missing fields count 0). */
export function stageFigures(result: unknown): { files: number; bytes: number } {
  const r = (result ?? {}) as Record<string, unknown>;
  const n = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : 0);
  // compact: the files it rewrote (bytesBefore is what they held); expire/orphans: the files they deleted.
  const compacted = r.status === 'compacted';
  return { files: compacted ? n('filesRewritten') : n('filesDeleted'), bytes: compacted ? n('bytesBefore') : n('bytesDeleted') };
}

/** Wraps a maintenance stage activity: duration and result per stage and table; a dry run changes no files. */
export function measuredStage<I extends StageInput, R>(stage: string, fn: (input: I) => Promise<R>): (input: I) => Promise<R> {
  return async (input: I) => {
    const started = Date.now();
    try {
      const result = await fn(input);
      const figures = input.dryRun ? { files: 0, bytes: 0 } : stageFigures(result);
      metrics.stageFinished({ stage, table: input.table, seconds: (Date.now() - started) / 1000, ...figures });
      return result;
    } catch (err) {
      metrics.stageFailed(stage, input.table, err);
      throw err;
    }
  };
}
