import { SegmentGenerator, type SegmentSeedOptions, type SegmentSeedRow } from './segment';
import type { SegmentTable } from './segment-columns';
import { parseIsoMicros } from './segment-time';

/**
 * What a correct reader of the generated Segment tables must find, recomputed from the generator
 * rather than stored: a duplicate row copies an earlier row's id, so the distinct ids are exactly
 * the rows that are not duplicates.
 */
export interface SegmentTableTruth {
  table: SegmentTable;
  /** Physical rows, duplicates included. */
  rows: number;
  distinctIds: number;
  duplicateRows: number;
  /** Distinct ids with neither user_id nor anonymous_id. */
  unmappable: number;
  /** Distinct tracks whose event is null (0 for other tables). */
  nullEvent: number;
  /** Distinct tracks per event name (tracks only; null names under ''). */
  perEvent: Record<string, number>;
}

/** Streams the whole table once: about a second per 100,000 rows. */
export function segmentTruth(opts: SegmentSeedOptions, table: SegmentTable): SegmentTableTruth {
  const gen = new SegmentGenerator(opts, table);
  const truth: SegmentTableTruth = { table, rows: gen.rows, distinctIds: 0, duplicateRows: 0, unmappable: 0, nullEvent: 0, perEvent: {} };
  for (let i = 0; i < gen.rows; i++) {
    if (gen.duplicateOf(i) !== undefined) {
      truth.duplicateRows++;
      continue;
    }
    truth.distinctIds++;
    const row = gen.row(i);
    if (row.user_id === null && row.anonymous_id === null) truth.unmappable++;
    if (table === 'tracks') {
      const event = (row.event as string | null) ?? '';
      if (event === '') truth.nullEvent++;
      truth.perEvent[event] = (truth.perEvent[event] ?? 0) + 1;
    }
  }
  return truth;
}

/** Distinct ids of a table without generating its rows. */
export function countDistinct(opts: SegmentSeedOptions, table: SegmentTable): number {
  const gen = new SegmentGenerator(opts, table);
  let n = 0;
  for (let i = 0; i < gen.rows; i++) if (gen.duplicateOf(i) === undefined) n++;
  return n;
}

/** Distinct ids whose timestamp is in [start, end): cheap, it only computes timestamps. */
export function countDistinctInWindow(opts: SegmentSeedOptions, table: SegmentTable, start: string, end: string): number {
  const gen = new SegmentGenerator(opts, table);
  const lo = parseIsoMicros(start);
  const hi = parseIsoMicros(end);
  let n = 0;
  for (let i = 0; i < gen.rows; i++) {
    if (gen.duplicateOf(i) !== undefined) continue;
    const t = gen.timeAt(i);
    if (t >= lo && t < hi) n++;
  }
  return n;
}

/**
 * The rows a deduplicating reader returns for a window, in (timestamp, id) order, keeping per id
 * the copy with the latest loaded_at. Holds the window in memory: for test-sized tables.
 */
export function expectedSegmentRows(opts: SegmentSeedOptions, table: SegmentTable, window?: { start: string; end: string }): SegmentSeedRow[] {
  const gen = new SegmentGenerator(opts, table);
  const lo = window ? parseIsoMicros(window.start) : -Infinity;
  const hi = window ? parseIsoMicros(window.end) : Infinity;
  const byId = new Map<string, SegmentSeedRow>();
  for (let i = 0; i < gen.rows; i++) {
    const t = gen.timeAt(i);
    if (t < lo || t >= hi) continue;
    const row = gen.row(i);
    const id = row.id as string;
    const seen = byId.get(id);
    if (!seen || (row.loaded_at as string) > (seen.loaded_at as string)) byId.set(id, row);
  }
  return [...byId.values()].sort((a, b) => compareKeyset(a, b));
}

/** (timestamp, id) order; canonical timestamps sort as text. Ids compare by code unit, like BigQuery's bytes order for ASCII ids. */
export function compareKeyset(a: SegmentSeedRow, b: SegmentSeedRow): number {
  const ta = a.timestamp as string;
  const tb = b.timestamp as string;
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ia = a.id as string;
  const ib = b.id as string;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}
