import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addBatchId, emptyBatchIdSet, markDelivered, pendingCount, pruneBatchIds, rangesAdd, takeBatchIds, type Ranges } from '../../workflows/batch-id-set';

/** The delivery workflow's outbox of batch ids: compact, ordered, and a repeat is recognised. */

describe('batch id set', () => {
  it('keeps each ingest run as ranges, delivers oldest first, and recognises a repeated handover', () => {
    const set = emptyBatchIdSet();
    for (let n = 0; n < 1_000; n++) expect(addBatchId(set, `segment-ingest-1:run-a:${n}`)).toBe(true);
    expect(addBatchId(set, 'segment-ingest-0:run-b:0')).toBe(true);
    expect(addBatchId(set, 'segment-ingest-1:run-a:17')).toBe(false);
    // A thousand batches of one run are one range: a long outage stays small in a continue-as-new.
    expect(set.runs[0].pending).toEqual([[0, 999]]);
    expect(JSON.stringify(set).length).toBeLessThan(200);
    expect(takeBatchIds(set, 3)).toEqual(['segment-ingest-1:run-a:0', 'segment-ingest-1:run-a:1', 'segment-ingest-1:run-a:2']);
    markDelivered(set, takeBatchIds(set, 1_000));
    expect(takeBatchIds(set, 5)).toEqual(['segment-ingest-0:run-b:0']);
    expect(pendingCount(set)).toBe(1);
    // Delivered, still recognised.
    expect(addBatchId(set, 'segment-ingest-1:run-a:999')).toBe(false);
    expect(addBatchId(set, 'odd-id-without-number')).toBe(true);
    expect(addBatchId(set, 'odd-id-without-number')).toBe(false);
  });

  it('forgets only delivered runs beyond the ones it keeps', () => {
    const set = emptyBatchIdSet();
    for (let r = 0; r < 5; r++) addBatchId(set, `s-0:run-${r}:0`);
    markDelivered(set, ['s-0:run-0:0', 's-0:run-1:0', 's-0:run-3:0']);
    pruneBatchIds(set, 2);
    // Three over the two kept: the three delivered runs go, the two with pending batches stay.
    expect(set.runs.map((r) => r.prefix)).toEqual(['s-0:run-2', 's-0:run-4']);
    expect(pendingCount(set)).toBe(2);
  });

  it('ranges hold exactly the numbers added, in any order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 300 }), (ns) => {
        const r: Ranges = [];
        for (const n of ns) rangesAdd(r, n);
        const expanded = r.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i));
        expect(expanded).toEqual([...new Set(ns)].sort((a, b) => a - b));
        // Disjoint and not adjacent: as compact as ranges get.
        for (let i = 1; i < r.length; i++) expect(r[i][0]).toBeGreaterThan(r[i - 1][1] + 1);
      }),
    );
  });
});
