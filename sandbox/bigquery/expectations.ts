import { SEGMENT_TABLES, type SegmentTable } from '../seed/segment-columns';
import type { SegmentSeedOptions, SegmentSeedRow } from '../seed/segment';
import { countDistinct, countDistinctInWindow, expectedSegmentRows, segmentTruth, type SegmentTableTruth } from '../seed/segment-truth';

/** The truth about an emulator's generated dataset, computed on demand from the generator. */
export interface SegmentExpectations {
  /** Distinct ids, duplicates, unmappable rows, per-event counts: one pass over the table, memoised. */
  truth(table: SegmentTable): SegmentTableTruth;
  /** Distinct ids whose timestamp is in [start, end). */
  distinctInWindow(table: SegmentTable, start: string, end: string): number;
  /** Deduplicated rows in (timestamp, id) order, latest loaded_at per id: test-sized tables only. */
  rows(table: SegmentTable, window?: { start: string; end: string }): SegmentSeedRow[];
  /** Distinct ids over all three tables. */
  totalDistinct(): number;
}

export function segmentExpectations(seed: SegmentSeedOptions): SegmentExpectations {
  const truths = new Map<SegmentTable, SegmentTableTruth>();
  const truth = (table: SegmentTable) => {
    let t = truths.get(table);
    if (!t) {
      t = segmentTruth(seed, table);
      truths.set(table, t);
    }
    return t;
  };
  return {
    truth,
    distinctInWindow: (table, start, end) => countDistinctInWindow(seed, table, start, end),
    rows: (table, window) => expectedSegmentRows(seed, table, window),
    totalDistinct: () => SEGMENT_TABLES.reduce((n, t) => n + (truths.get(t)?.distinctIds ?? countDistinct(seed, t)), 0),
  };
}
