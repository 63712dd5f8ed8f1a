import type { SilverTableDef, Warehouse } from '../connectors/warehouse/types';
import type { SegmentReader } from '../connectors/bigquery/segment-reader';
import { amplitudeEventsSilver } from '../mappings/amplitude-export';
import { SEGMENT_LIVE_SILVER } from '../mappings/segment-live';
import { PAGE_EVENT_PREFIX, UNNAMED_PAGE_EVENT, segmentEventColumn } from './plan-compile';
import { addDays, computeParity, mergeParity, type ParityCall, type ParityInputs, type ParityOptions, type ParityReport } from './parity';

/**
 * Where the parity report reads its three sides, and the read itself, a week at a time:
 * - Segment: the tables Segment's warehouse sync fills in BigQuery (tracks, identifies, pages,
 *   screens when there is one), through connectors/bigquery, one row per id;
 * - novade-sync: silver.segment_live_{tracks,identifies,pages,screens}, plus the calls the plan
 *   blocked (ops.tracking_violations, outcome blocked), which are deliberately nowhere else;
 * - Amplitude: silver.amplitude_events (its event stream sent back to our webhook) whose insert_id
 *   is `seg:<messageId>`.
 * Each side is read over the window with a day of margin on both ends, so that a call dated on
 * either side of midnight by two sides is found on both.
 */

export const SEGMENT_PARITY_TABLES = ['tracks', 'identifies', 'pages', 'screens'] as const;
export type SegmentParityTable = (typeof SEGMENT_PARITY_TABLES)[number];

/** The silver table of live calls of one Segment call type (the Segment collection endpoint's). */
export const liveSilverTable = (t: SegmentParityTable) => `segment_live_${t}`;

/** The warehouse tables the report reads: the collection endpoint's silver tables and Amplitude's. */
export function paritySilverTables(): SilverTableDef[] {
  return [...SEGMENT_LIVE_SILVER, amplitudeEventsSilver];
}

/** What Amplitude names a call of a Segment table (mappings/segment.ts). */
export function amplitudeEventTypeOf(table: SegmentParityTable, label: unknown): string {
  if (table === 'identifies') return '$identify';
  const text = typeof label === 'string' ? label.trim() : '';
  if (table === 'tracks') return text === '' ? 'track (no event name)' : text;
  return text === '' ? UNNAMED_PAGE_EVENT : `${PAGE_EVENT_PREFIX}${text}`;
}

export interface ParityWindow {
  /** Inclusive, ISO-8601. */
  start: string;
  /** Exclusive, ISO-8601. */
  end: string;
}

export interface ParitySources {
  segment(w: ParityWindow): Promise<ParityCall[]>;
  collected(w: ParityWindow): Promise<ParityCall[]>;
  amplitude(w: ParityWindow): Promise<ParityCall[]>;
  blocked(w: ParityWindow): Promise<ParityCall[]>;
}

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

/** The Segment side, from BigQuery; a table Segment never created (no screens) holds nothing. */
export function bigQuerySide(reader: Pick<SegmentReader, 'readCallIds' | 'tableExists'>, tables: readonly SegmentParityTable[] = SEGMENT_PARITY_TABLES): ParitySources['segment'] {
  const present = new Map<string, Promise<boolean>>();
  return async (w) => {
    const out: ParityCall[] = [];
    for (const table of tables) {
      if (!present.has(table)) present.set(table, reader.tableExists(table));
      if (!(await present.get(table))) continue;
      for (const r of await reader.readCallIds({ table, windowStart: w.start, windowEnd: w.end }))
        out.push({ id: r.id, at: r.timestamp, eventType: amplitudeEventTypeOf(table, r.label) });
    }
    return out;
  };
}

const LABEL: Record<SegmentParityTable, string | null> = { tracks: 'event', identifies: null, pages: 'name', screens: 'name' };

/**
 * The novade-sync and Amplitude sides and the blocked calls, from the warehouse (read-only SQL, both
 * adapters). The tables must exist: `warehouse.ensureSchema({ silver: paritySilverTables() })` first.
 */
export function warehouseSides(warehouse: Pick<Warehouse, 'query'>): Omit<ParitySources, 'segment'> {
  return {
    collected: async (w) => {
      const out: ParityCall[] = [];
      for (const table of SEGMENT_PARITY_TABLES) {
        const name = liveSilverTable(table);
        const label = LABEL[table];
        const rows = await warehouse.query(
          `SELECT id, timestamp AS at${label ? `, ${label} AS label` : ''} FROM silver.${name} ` +
            `WHERE timestamp >= CAST(? AS TIMESTAMP) AND timestamp < CAST(? AS TIMESTAMP) AND (_deleted IS NULL OR _deleted = false)`,
          [w.start, w.end],
        );
        for (const r of rows) out.push({ id: String(r.id), at: iso(r.at), eventType: amplitudeEventTypeOf(table, r.label) });
      }
      return out;
    },
    amplitude: async (w) => {
      // Group calls reach Amplitude as $identify under seg:<messageId> too; they are not events the report compares.
      const rows = await warehouse.query(
        `SELECT insert_id, event_time, event_type FROM silver.amplitude_events ` +
          `WHERE insert_id LIKE 'seg:%' AND event_time >= CAST(? AS TIMESTAMP) AND event_time < CAST(? AS TIMESTAMP) ` +
          `AND insert_id NOT IN (SELECT concat('seg:', id) FROM silver.segment_live_groups)`,
        [w.start, w.end],
      );
      return rows.map((r) => ({ id: String(r.insert_id).slice(4), at: iso(r.event_time), eventType: String(r.event_type) }));
    },
    blocked: async (w) => {
      const rows = await warehouse.query(
        `SELECT message_id, MIN(call_type) AS call_type, MIN(event) AS event, MIN(received_at) AS at FROM ops.tracking_violations ` +
          `WHERE outcome = 'blocked' AND received_at >= CAST(? AS TIMESTAMP) AND received_at < CAST(? AS TIMESTAMP) GROUP BY message_id`,
        [w.start, w.end],
      );
      return rows.map((r) => ({ id: String(r.message_id), at: iso(r.at), eventType: blockedEventType(String(r.call_type), String(r.event)) }));
    },
  };
}

/** A blocked call's Amplitude event type, from how ops.tracking_violations names it (tracking/enforce.ts callLabel). */
export function blockedEventType(callType: string, event: string): string {
  if (callType === 'track') return segmentEventColumn(event);
  if (callType === 'identify') return '$identify';
  const name = /^\w+ "(.*)"$/.exec(event)?.[1];
  return name ? `${PAGE_EVENT_PREFIX}${name}` : UNNAMED_PAGE_EVENT;
}

/** Days per window: a week of one side's calls is what the report holds in memory at once. */
const WINDOW_DAYS = 7;

export async function readParity(sources: ParitySources, opts: ParityOptions & { onWindow?: (from: string, to: string) => void }): Promise<ParityReport> {
  const parts: ParityReport[] = [];
  for (let from = opts.from; from <= opts.to; from = addDays(from, WINDOW_DAYS)) {
    const last = addDays(from, WINDOW_DAYS - 1);
    const to = last < opts.to ? last : opts.to;
    const w: ParityWindow = { start: `${addDays(from, -1)}T00:00:00.000Z`, end: `${addDays(to, 2)}T00:00:00.000Z` };
    const [segment, collected, amplitude, blocked] = await Promise.all([sources.segment(w), sources.collected(w), sources.amplitude(w), sources.blocked(w)]);
    const inputs: ParityInputs = { segment, collected, amplitude, blocked };
    parts.push(computeParity(inputs, { ...opts, from, to }));
    opts.onWindow?.(from, to);
  }
  return mergeParity(parts, opts);
}
