import type { CellValue, Warehouse } from '../connectors/warehouse/types';
import { segmentSilverDef } from '../mappings/segment-warehouse';
import { SubjectObserver, type DraftStats, type SubjectStats } from './draft';

/**
 * Reads the Segment history the backfill wrote (silver.segment_tracks, _identifies, _pages) for a
 * draft of the tracking plan: first every event name and page name with its count over the whole
 * range (one GROUP BY each), then the properties of up to `perSubject` calls of each, so a rare
 * event is described as well as a frequent one and a year of history is not read whole.
 * Read-only SQL through the warehouse interface; the same text on DuckDB and Databricks.
 */

export interface DraftReadOptions {
  from: string;
  to: string;
  /** Calls whose properties are read per event, per page name, and for the identifies. Default 5,000. */
  perSubject?: number;
  progress?: (what: string) => void;
}

const text = (v: CellValue | undefined): string | undefined => (v === null || v === undefined ? undefined : v instanceof Date ? v.toISOString() : String(v));

function objectOf(v: CellValue | undefined): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (typeof v === 'string') {
    try {
      const parsed: unknown = JSON.parse(v);
      return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
  return typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) ? (v as Record<string, unknown>) : {};
}

export async function readDraftStats(warehouse: Pick<Warehouse, 'query' | 'ensureSchema'>, opts: DraftReadOptions): Promise<DraftStats> {
  const per = Math.max(1, Math.floor(opts.perSubject ?? 5_000));
  const start = `${opts.from}T00:00:00.000Z`;
  const end = new Date(Date.parse(`${opts.to}T00:00:00.000Z`) + 86_400_000).toISOString();
  // A warehouse that never received a backfill has no such tables yet: empty ones answer "nothing seen".
  await warehouse.ensureSchema({ silver: [segmentSilverDef('tracks'), segmentSilverDef('identifies'), segmentSilverDef('pages')] });
  const range = `timestamp >= CAST(? AS TIMESTAMP) AND timestamp < CAST(? AS TIMESTAMP) AND (_deleted IS NULL OR _deleted = false)`;

  const sample = async (table: string, where: string, params: CellValue[], name: string, count: number, seen: { firstSeen?: string; lastSeen?: string }): Promise<SubjectStats> => {
    opts.progress?.(`${table} ${name}`);
    const obs = new SubjectObserver();
    const rows = await warehouse.query(`SELECT properties FROM silver.${table} WHERE ${range} AND ${where} ORDER BY id LIMIT ${per}`, [start, end, ...params]);
    for (const r of rows) obs.observe(objectOf(r.properties));
    return obs.stats(name, count, seen);
  };

  // Tracks: one event per warehouse column (`event`), named after its most frequent event_text.
  const trackGroups = await warehouse.query(
    `SELECT event, event_text, COUNT(*) AS n, MIN(timestamp) AS first_seen, MAX(timestamp) AS last_seen FROM silver.segment_tracks WHERE ${range} AND event IS NOT NULL GROUP BY event, event_text`,
    [start, end],
  );
  const byEvent = new Map<string, { name: string; best: number; count: number; firstSeen?: string; lastSeen?: string }>();
  for (const g of trackGroups) {
    const column = String(g.event);
    const n = Number(g.n);
    const name = text(g.event_text) ?? column;
    const e = byEvent.get(column) ?? { name, best: -1, count: 0 };
    if (n > e.best && name.length <= 200) Object.assign(e, { name, best: n });
    e.count += n;
    const first = text(g.first_seen);
    const last = text(g.last_seen);
    if (first && (!e.firstSeen || first < e.firstSeen)) e.firstSeen = first;
    if (last && (!e.lastSeen || last > e.lastSeen)) e.lastSeen = last;
    byEvent.set(column, e);
  }
  const events: SubjectStats[] = [];
  for (const [column, e] of [...byEvent].sort((a, b) => b[1].count - a[1].count))
    events.push(await sample('segment_tracks', 'event = ?', [column], e.name, e.count, { firstSeen: e.firstSeen, lastSeen: e.lastSeen }));

  const pageGroups = await warehouse.query(
    `SELECT name, COUNT(*) AS n, MIN(timestamp) AS first_seen, MAX(timestamp) AS last_seen FROM silver.segment_pages WHERE ${range} GROUP BY name ORDER BY n DESC`,
    [start, end],
  );
  const pages: SubjectStats[] = [];
  for (const g of pageGroups) {
    const name = text(g.name);
    const seen = { firstSeen: text(g.first_seen), lastSeen: text(g.last_seen) };
    pages.push(await sample('segment_pages', name === undefined ? 'name IS NULL' : 'name = ?', name === undefined ? [] : [name], name ?? '', Number(g.n), seen));
  }

  const [ident] = await warehouse.query(`SELECT COUNT(*) AS n, MIN(timestamp) AS first_seen, MAX(timestamp) AS last_seen FROM silver.segment_identifies WHERE ${range}`, [start, end]);
  const identifyCount = Number(ident?.n ?? 0);
  const identify = identifyCount > 0 ? await sample('segment_identifies', '1 = 1', [], 'identify', identifyCount, { firstSeen: text(ident.first_seen), lastSeen: text(ident.last_seen) }) : undefined;
  return { from: opts.from, to: opts.to, events, pages, ...(identify ? { identify } : {}) };
}
