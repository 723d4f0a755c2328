import { BadRequestError } from './errors';

export interface HourWindow {
  from: Date;
  to: Date;
}

const HOUR = 3_600_000;

/** Parses an ISO window and checks from < to. Both ends are kept exactly; hours() rounds outward to whole hours. */
export function parseWindow(what: string, from: string, to: string): HourWindow {
  const f = new Date(from);
  const t = new Date(to);
  if (Number.isNaN(f.getTime())) throw new BadRequestError(`${what}: "from" ${JSON.stringify(from)} is not an ISO-8601 time (e.g. 2026-11-21T00:00:00Z)`);
  if (Number.isNaN(t.getTime())) throw new BadRequestError(`${what}: "to" ${JSON.stringify(to)} is not an ISO-8601 time (e.g. 2026-11-22T00:00:00Z)`);
  if (f.getTime() >= t.getTime()) throw new BadRequestError(`${what}: the window start ${f.toISOString()} must be before its end ${t.toISOString()}`);
  return { from: f, to: t };
}

/** The whole UTC hours covering the window, as [start, end) pairs in ms. */
export function hours(w: HourWindow): [number, number][] {
  const out: [number, number][] = [];
  for (let h = Math.floor(w.from.getTime() / HOUR) * HOUR; h < w.to.getTime(); h += HOUR) out.push([h, h + HOUR]);
  return out;
}
