import path from 'node:path';
import type { BenchScenario } from '../scenario';
import { startBigQueryEmulator } from '../../sandbox/bigquery';
import { SEGMENT_TABLES } from '../../sandbox/seed/segment-columns';
import { SegmentReader, type KeysetPosition } from '../../connectors/bigquery/segment-reader';
import { isoMicros, parseIsoMicros, MICROS_PER_DAY } from '../../connectors/bigquery/timestamp';

/**
 * 1,000,000 physical Segment rows (duplicates included) read back through SegmentReader from
 * goccy/bigquery-emulator the way the backfill reads: day windows, keyset pages, dedup on id.
 * The rows span one week so that a day window holds ~47,000 rows per table: the emulator scans the
 * whole table on every query (no partitions, no indexes), so three years of day windows would be
 * thousands of full scans. Loading is cached under .data/ (first run ~4 min) and excluded from
 * `seconds`. BENCH_BQ_PAGE sets the page size (default 50,000).
 */
const ROWS = { tracks: 333_334, identifies: 333_333, pages: 333_333 };
const FROM = '2024-01-01T00:00:00Z';
const TO = '2024-01-08T00:00:00Z';

const scenario: BenchScenario = {
  name: 'bigquery-read-1m',
  description: 'SegmentReader reads 1,000,000 Segment rows (3 tables, day windows, keyset pages, dedup) from the BigQuery emulator',
  async run() {
    const limit = Number(process.env.BENCH_BQ_PAGE ?? 50_000);
    const t0 = performance.now();
    const emu = await startBigQueryEmulator({ rowsPerTable: ROWS, from: FROM, to: TO, seed: 42, dataDir: path.resolve(__dirname, '../../.data') });
    const startSeconds = (performance.now() - t0) / 1000;
    let emulatorPeak = emu.rssMiB() ?? 0;
    const sampler = setInterval(() => (emulatorPeak = Math.max(emulatorPeak, emu.rssMiB() ?? 0)), 500);
    try {
      const reader = new SegmentReader({ projectId: emu.projectId, dataset: emu.dataset, apiEndpoint: emu.url });
      let records = 0;
      let rejected = 0;
      let queries = 0;
      const t1 = performance.now();
      for (const table of SEGMENT_TABLES) {
        for (let day = parseIsoMicros(FROM); day < parseIsoMicros(TO); day += MICROS_PER_DAY) {
          const windowStart = isoMicros(day);
          const windowEnd = isoMicros(day + MICROS_PER_DAY);
          let after: KeysetPosition | undefined;
          do {
            const page = await reader.readPage({ table, windowStart, windowEnd, after, limit });
            queries++;
            records += page.rows.length + page.rejected.length;
            rejected += page.rejected.length;
            after = page.next;
          } while (after);
        }
      }
      const seconds = (performance.now() - t1) / 1000;
      const expected = emu.expected.totalDistinct();
      if (records !== expected) throw new Error(`read ${records} distinct rows, expected ${expected}`);
      return {
        records,
        seconds,
        extra: {
          physical_rows: Object.values(emu.sizes).reduce((a, b) => a + b, 0),
          rejected,
          queries,
          page: limit,
          load_s: emu.fromCache ? `cached (${startSeconds.toFixed(1)} s to start)` : emu.loadSeconds.toFixed(1),
          emulator_peak_rss_mib: Math.round(emulatorPeak),
        },
      };
    } finally {
      clearInterval(sampler);
      await emu.close();
    }
  },
};

export default scenario;
