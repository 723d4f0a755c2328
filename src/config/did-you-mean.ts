// "did you mean" for config keys: a typo (`adress`) is an unknown key to the strict schema; name the key it most
// likely meant, from the keys the schema accepts at that place.
import type { z } from 'zod';

interface Def {
  type?: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
}
const def = (s: unknown): Def => ((s as { _zod?: { def?: Def } })?._zod?.def ?? {});

/** The keys an object schema accepts at `path` (array indexes step into the element), or [] when there is none. */
export function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  const unwrap = () => {
    for (let d = def(s); d.innerType || (d.type === 'pipe' && d.in); d = def(s)) s = d.innerType ?? d.in;
  };
  for (const step of path) {
    unwrap();
    const d = def(s);
    if (typeof step === 'number' && d.element) s = d.element;
    else if (d.shape && typeof step === 'string' && step in d.shape) s = d.shape[step];
    else return [];
  }
  unwrap();
  return Object.keys(def(s).shape ?? {});
}

/** Levenshtein distance, small strings only. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known key closest to `key` (case-insensitive, at most a third of its letters off), if any. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d <= Math.max(1, Math.floor(key.length / 3)) && (!best || d < best.d)) best = { k, d };
  }
  return best?.k;
}

/** The issue's message, with "did you mean" for each unknown key that is close to a known one. */
export function withSuggestions(schema: z.ZodType, issue: z.core.$ZodIssue): string {
  if (issue.code !== 'unrecognized_keys') return issue.message;
  const known = knownKeys(schema, issue.path);
  const hints = issue.keys.map((k) => [k, closest(k, known)] as const).filter(([, s]) => s !== undefined);
  const all = known.length ? `; known keys: ${known.join(', ')}` : '';
  return `${issue.message}${hints.map(([k, s]) => `; did you mean "${s}" for "${k}"?`).join('')}${hints.length ? '' : all}`;
}
