import type { FaultPoint, TestHooks } from './deps';

/**
 * The fault suite's hooks (test/faults), built by the worker from its environment: inert unless COLDTIER_FAULT_PAUSE
 * names a fault point. Then the process prints "coldtier-fault-point <name> <table>" to stderr and stops there (the
 * test SIGKILLs it). COLDTIER_FAULT_TABLE limits it to one table.
 */
export function faultHooksFromEnv(env: NodeJS.ProcessEnv = process.env): TestHooks | undefined {
  const wanted = env.COLDTIER_FAULT_PAUSE;
  if (!wanted) return undefined;
  const only = env.COLDTIER_FAULT_TABLE;
  return {
    faultPoint: async (point: FaultPoint, table: string) => {
      if (point !== wanted || (only && only !== table)) return;
      process.stderr.write(`coldtier-fault-point ${point} ${table}\n`);
      await new Promise(() => undefined);
    },
  };
}
