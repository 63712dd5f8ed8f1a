import type { BackfillCursor } from './backfill';

/**
 * How a backfill walks its range: windows of `windowHours`, and in each window the tables in order,
 * each read with keyset pages. Pure and clock-free, so the workflow and the activities agree on it.
 */

const DAY_MS = 24 * 3_600_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface BackfillRange {
  startMs: number;
  /** Exclusive: the day after `to`. */
  endMs: number;
}

/** Parses `YYYY-MM-DD`; returns an error text a person can act on instead of throwing. */
export function parseDay(value: string, name: string): number | string {
  const m = DATE.exec(value);
  if (!m) return `${name} "${value}" is not a date: use YYYY-MM-DD (UTC), e.g. 2022-01-01`;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (new Date(ms).toISOString().slice(0, 10) !== value) return `${name} "${value}" is not a real calendar day`;
  return ms;
}

/** The range of `--from` and `--to` (both days inclusive), or the reason it is invalid. */
export function backfillRange(from: string, to: string): BackfillRange | string {
  const start = parseDay(from, '--from');
  if (typeof start === 'string') return start;
  const last = parseDay(to, '--to');
  if (typeof last === 'string') return last;
  if (last < start) return `--to ${to} is before --from ${from}: the range must run forward`;
  return { startMs: start, endMs: last + DAY_MS };
}

export const iso = (ms: number): string => new Date(ms).toISOString();

export function firstCursor(range: BackfillRange): BackfillCursor {
  return { windowStart: iso(range.startMs), table: 0 };
}

export function windowOf(cursor: BackfillCursor, range: BackfillRange, windowHours: number): { start: string; end: string } {
  const start = Date.parse(cursor.windowStart);
  return { start: cursor.windowStart, end: iso(Math.min(start + windowHours * 3_600_000, range.endMs)) };
}

/** The cursor after the current table of the current window is exhausted; null at the end of the range. */
export function nextTable(cursor: BackfillCursor, range: BackfillRange, windowHours: number, tableCount: number): BackfillCursor | null {
  if (cursor.table + 1 < tableCount) return { windowStart: cursor.windowStart, table: cursor.table + 1 };
  const next = Date.parse(cursor.windowStart) + windowHours * 3_600_000;
  if (next >= range.endMs) return null;
  return { windowStart: iso(next), table: 0 };
}

/** Share of the range before the cursor's window, 0..1 (1 when done). */
export function fractionDone(cursor: BackfillCursor | null, range: BackfillRange, tableCount: number, windowHours: number): number {
  if (!cursor) return 1;
  const span = range.endMs - range.startMs;
  const windowMs = Math.min(windowHours * 3_600_000, span);
  const at = Date.parse(cursor.windowStart) - range.startMs + (windowMs * cursor.table) / Math.max(1, tableCount);
  return Math.max(0, Math.min(1, at / span));
}
