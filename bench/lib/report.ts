import type { Step } from './options';
import { round } from './stats';

/** One reported figure: a median over runs, optionally against a reference measured in the same run. */
export interface Figure {
  step: Step;
  name: string;
  unit: string;
  value: number;
  samples: number[];
  /** The reference this figure is compared with, measured in the same process run. */
  reference?: { name: string; value: number; samples: number[] };
  /**
   * coldtier ÷ reference, so > 1 always means "coldtier is faster" (for times: reference ÷ value). For paired runs
   * it is the median of the per-run ratios.
   */
  ratio?: number;
  /** Lowest and highest per-run ratio (the spread of the paired ratio on a noisy machine). */
  ratioSpread?: [number, number];
  /** median(value) ÷ median(reference), for comparison with the paired ratio. */
  ratioOfMedians?: number;
  target?: string;
  met?: boolean;
  note?: string;
}

export interface Results {
  startedAt: string;
  command: string;
  machine: { cpus: number; loadavg: number[]; node: string; memGb: number };
  options: Record<string, unknown>;
  figures: Figure[];
  details: Record<string, unknown>;
}

const fmt = (v: number, unit: string): string => {
  if (!Number.isFinite(v)) return 'n/a';
  if (unit === 'rows/s' || unit === 'rows/CPU-s') return `${(v / 1000).toFixed(0)}k ${unit}`;
  return `${round(v, v >= 100 ? 0 : 2)} ${unit}`;
};

export function markdown(figures: Figure[]): string {
  const lines = [
    '| step | figure | median | runs | reference (same run) | ratio | target | met |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const f of figures) {
    const runs = f.samples.map((s) => round(s, s >= 100 ? 0 : 2)).join(' / ');
    const ref = f.reference ? `${f.reference.name}: ${fmt(f.reference.value, f.unit)}` : '';
    const ratio = f.ratio === undefined ? '' : `${round(f.ratio, 2)}×${f.ratioSpread ? ` (${round(f.ratioSpread[0], 2)}–${round(f.ratioSpread[1], 2)})` : ''}`;
    const met = f.met === undefined ? '' : f.met ? 'yes' : '**no**';
    lines.push(`| ${f.step} | ${f.name}${f.note ? ` (${f.note})` : ''} | ${fmt(f.value, f.unit)} | ${runs} | ${ref} | ${ratio} | ${f.target ?? ''} | ${met} |`);
  }
  return lines.join('\n');
}
