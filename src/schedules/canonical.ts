// A schedule's definition in one comparable shape, whether it is the desired ScheduleOptions or what the server
// describes: the server rewrites `minute: 0` as `[{ start: 0, end: 0, step: 1 }]`, durations as milliseconds, and so
// on. Comparing canonical forms is what makes `schedules apply` idempotent.
import type { CalendarSpec, CalendarSpecDescription, ScheduleDescription, ScheduleOptions } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';

const MONTHS = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'];
const DAYS = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

type Field = 'second' | 'minute' | 'hour' | 'dayOfMonth' | 'month' | 'year' | 'dayOfWeek';
/** [min, max, names?, default when unset]; year has no bounds ('*' = any year). */
const FIELDS: Record<Field, { min: number; max: number; names?: string[]; unset: 'zero' | 'any' }> = {
  second: { min: 0, max: 59, unset: 'zero' },
  minute: { min: 0, max: 59, unset: 'zero' },
  hour: { min: 0, max: 23, unset: 'zero' },
  dayOfMonth: { min: 1, max: 31, unset: 'any' },
  month: { min: 0, max: 11, names: MONTHS, unset: 'any' },
  year: { min: 0, max: -1, unset: 'any' },
  dayOfWeek: { min: 0, max: 6, names: DAYS, unset: 'any' },
};

type Loose = unknown;

function num(field: Field, v: unknown): number {
  const names = FIELDS[field].names;
  return typeof v === 'string' && names ? names.indexOf(v) : Number(v);
}

/** Every matching value of one calendar field, or 'any'. */
function expand(field: Field, value: Loose): number[] | 'any' {
  const f = FIELDS[field];
  const all = () => (field === 'year' ? 'any' : Array.from({ length: f.max - f.min + 1 }, (_, i) => f.min + i));
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return f.unset === 'zero' ? [0] : all();
  if (value === '*') return all();
  const out = new Set<number>();
  for (const r of Array.isArray(value) ? value : [value]) {
    if (typeof r !== 'object' || r === null) {
      out.add(num(field, r));
      continue;
    }
    const { start, end, step } = r as { start: unknown; end?: unknown; step?: number };
    const s = num(field, start);
    const e = end === undefined ? s : Math.max(s, num(field, end));
    const st = step && step >= 1 ? step : 1;
    if (field === 'year' && e - s > 1000) return 'any';
    for (let v = s; v <= e; v += st) out.add(v);
  }
  const list = [...out].sort((a, b) => a - b);
  return field !== 'year' && list.length === f.max - f.min + 1 ? all() : list;
}

function calendar(c: CalendarSpec | CalendarSpecDescription): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const field of Object.keys(FIELDS) as Field[]) o[field] = expand(field, (c as Record<Field, Loose>)[field]);
  o.comment = c.comment ?? '';
  return o;
}

const ms = (d: unknown): number | null => (d === undefined || d === null ? null : typeof d === 'number' ? d : msToNumber(d as string));
const json = (v: unknown): unknown => (v === undefined ? null : JSON.parse(JSON.stringify(v)));

export interface CanonicalSchedule {
  spec: unknown;
  action: unknown;
  policies: unknown;
  memo: unknown;
}

type Source = Pick<ScheduleOptions, 'spec' | 'action' | 'policies' | 'memo'> | Pick<ScheduleDescription, 'spec' | 'action' | 'policies' | 'memo'>;

export function canonical(s: Source): CanonicalSchedule {
  const spec = s.spec as ScheduleOptions['spec'] & ScheduleDescription['spec'];
  const a = s.action as Record<string, unknown>;
  const p = (s.policies ?? {}) as Record<string, unknown>;
  return {
    spec: {
      calendars: (spec.calendars ?? []).map(calendar),
      intervals: (spec.intervals ?? []).map((i) => ({ every: ms(i.every), offset: ms(i.offset) ?? 0 })),
      cron: (spec as { cronExpressions?: string[] }).cronExpressions ?? [],
      timezone: spec.timezone || 'UTC',
      startAt: spec.startAt ? new Date(spec.startAt).toISOString() : null,
      endAt: spec.endAt ? new Date(spec.endAt).toISOString() : null,
    },
    action: {
      workflowType: typeof a.workflowType === 'string' ? a.workflowType : (a.workflowType as { name?: string } | undefined)?.name,
      workflowId: a.workflowId ?? null,
      taskQueue: a.taskQueue,
      args: json(a.args ?? []),
      staticSummary: a.staticSummary ?? null,
      staticDetails: a.staticDetails ?? null,
    },
    policies: { overlap: p.overlap ?? 'SKIP', catchupWindow: ms(p.catchupWindow) ?? 365 * 86_400_000, pauseOnFailure: Boolean(p.pauseOnFailure) },
    memo: json(s.memo ?? {}),
  };
}

/** The top-level parts (spec, action, policies, memo) that differ. */
export function differences(a: CanonicalSchedule, b: CanonicalSchedule): (keyof CanonicalSchedule)[] {
  return (Object.keys(a) as (keyof CanonicalSchedule)[]).filter((k) => stable(a[k]) !== stable(b[k]));
}

/** JSON with sorted object keys, so key order never counts as a difference. */
function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([p], [q]) => p.localeCompare(q))) : x,
  );
}
