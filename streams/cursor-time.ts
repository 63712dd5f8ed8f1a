import type { Cursor } from '../ports/source-reader';

/**
 * The source time a stored cursor has reached, for "lag behind source": the newest timestamp it
 * holds. Cursors differ per reader (Salesforce REST `{ts, id, hw}`, Bulk `{bulk: {snapshot}}`, other
 * sources' shapes), so this looks for ISO-8601 text or epoch milliseconds under the usual keys.
 * Plain data in, plain data out: nothing here touches Node or I/O.
 */
const TIME_KEYS = ['ts', 'snapshot', 'updatedAt', 'updated_at', 'timestamp', 'at', 'since', 'until', 'to'];
const EPOCH_MS_MIN = 946_684_800_000; // 2000-01-01: smaller numbers are ids or counts, not times
const EPOCH_MS_MAX = 32_503_680_000_000; // 3000-01-01

function asTime(v: unknown): number | undefined {
  if (typeof v === 'number' && v >= EPOCH_MS_MIN && v <= EPOCH_MS_MAX) return v;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

export function cursorTime(cursor: Cursor | undefined, depth = 0): Date | undefined {
  if (cursor === null || cursor === undefined || typeof cursor !== 'object' || Array.isArray(cursor) || depth > 3) return undefined;
  let best: number | undefined;
  for (const [key, value] of Object.entries(cursor)) {
    const t = TIME_KEYS.includes(key) ? asTime(value) : undefined;
    const nested = typeof value === 'object' && value !== null ? cursorTime(value, depth + 1)?.getTime() : undefined;
    for (const c of [t, nested]) if (c !== undefined && (best === undefined || c > best)) best = c;
  }
  return best === undefined ? undefined : new Date(best);
}
