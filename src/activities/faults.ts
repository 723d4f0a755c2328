/**
 * Fault-injection points for the fault suite (test/faults). Inert unless COLDTIER_FAULT_PAUSE names a point: then
 * the process prints "coldtier-fault-point <name> <table>" to stderr and stops there (the test SIGKILLs it).
 * COLDTIER_FAULT_TABLE limits it to one table.
 */
export type FaultPoint = 'reading' | 'uploading' | 'before-commit' | 'after-commit' | 'compact-before-commit' | 'expire-after-commit';

export async function faultPoint(point: FaultPoint, table: string): Promise<void> {
  const wanted = process.env.COLDTIER_FAULT_PAUSE;
  if (!wanted || wanted !== point) return;
  if (process.env.COLDTIER_FAULT_TABLE && process.env.COLDTIER_FAULT_TABLE !== table) return;
  process.stderr.write(`coldtier-fault-point ${point} ${table}\n`);
  await new Promise(() => undefined);
}
