import type { Layer, PlannedTable } from '../activities/types';

const ORDER: Layer[] = ['bronze', 'silver', 'gold'];

/** Groups the plan into waves that run one after another: by layer, then by dependencies inside a layer. */
export function layerWaves(plan: PlannedTable[]): PlannedTable[][] {
  const waves: PlannedTable[][] = [];
  const inPlan = new Set(plan.map((p) => p.table));
  const done = new Set<string>();
  for (const layer of ORDER) {
    let pending = plan.filter((p) => p.layer === layer);
    while (pending.length) {
      const ready = pending.filter((p) => p.dependsOn.every((d) => done.has(d) || !inPlan.has(d)));
      // A cycle in dependsOn cannot be ordered; run the rest together rather than hang.
      const wave = ready.length ? ready : pending;
      waves.push(wave);
      for (const p of wave) done.add(p.table);
      pending = pending.filter((p) => !wave.includes(p));
    }
  }
  return waves;
}
