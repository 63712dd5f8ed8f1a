import { describe, expect, it } from 'vitest';
import { parseTrace, quarterRows, type MallocSample } from '../../bench/tools/memory-report';
import type { MemorySample } from '../../bench/memory-sampler';

const sample = (rss: number, heap: number, duckdb: number, inMemory = 0): MemorySample => ({ rssMiB: rss, heapUsedMiB: heap - 20, heapTotalMiB: heap, externalMiB: 10, arrayBuffersMiB: 1, duckdbMiB: duckdb, duckdbTags: { IN_MEMORY_TABLE: inMemory } });

describe('bench: backfill memory report by quarter', () => {
  it('splits a trace into quarters, with RSS, heap, DuckDB and the rest of each, and glibc and workflow heaps from the malloc stats', () => {
    // 8 samples, one a second: 2 per quarter; the rest (RSS - heap - DuckDB - external) grows by 10 per quarter.
    const trace = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => {
      const q = Math.floor(i / 2);
      return { t: 1_000 * i, s: sample(300 + 10 * q + (i % 2), 150, i === 7 ? 64 : 40, 5 * i) };
    });
    const malloc: MallocSample[] = [
      { t: 0, heapTotal: 150, glibcUsed: 12, glibcArena: 16, glibcMmap: 1 },
      { t: 500, thread: 1, heapTotal: 20 },
      { t: 600, thread: 2, heapTotal: 8 },
      { t: 6_500, thread: 1, heapTotal: 25 },
      { t: 7_000, heapTotal: 150, glibcUsed: 20, glibcArena: 24, glibcMmap: 2 },
    ];
    const rows = quarterRows(parseTrace(trace.map((x) => `${x.t} ${JSON.stringify(x.s)}`).join('\n')), malloc);
    expect(rows.map((r) => [r.quarter, r.rssMax, r.rssMedian, r.restMedian])).toEqual([
      [1, 301, 301, 101],
      [2, 311, 311, 111],
      [3, 321, 321, 121],
      [4, 331, 331, 130],
    ]);
    expect(rows.map((r) => [r.duckdbMax, r.duckdbAtMax, r.uncheckpointedMax])).toEqual([
      [40, 0, 5],
      [40, 0, 15],
      [40, 0, 25],
      [64, 1, 35],
    ]);
    expect(rows.map((r) => [r.glibcUsedMedian, r.glibcHeldMedian, r.workflowHeapsMax])).toEqual([
      [12, 17, 28],
      [undefined, undefined, undefined],
      [undefined, undefined, undefined],
      [20, 26, 33],
    ]);
  });
});
