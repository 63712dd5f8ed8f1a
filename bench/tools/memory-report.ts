import fs from 'node:fs';
import type { MemorySample } from '../memory-sampler';

/**
 * `npx tsx bench/tools/memory-report.ts <BENCH_MEMORY_TRACE file> [<BENCH_MALLOC_STATS file>]`: the
 * backfill worker's memory by quarter of the run, as a table. A peak is one sample; whether memory
 * grows with the run shows in each quarter's maximum, 99th percentile and median, and in which
 * part moves: the V8 heap, DuckDB (duckdb_memory(), its uncheckpointed rows apart), or the rest
 * (RSS − heap total − DuckDB − external). With the malloc stats (bench/tools/malloc-stats.cjs) the rest
 * splits further into glibc's malloc and the workflow threads' heaps.
 */

export interface MallocSample {
  t: number;
  thread?: number;
  heapTotal: number;
  glibcUsed?: number;
  glibcArena?: number;
  glibcMmap?: number;
}

export interface QuarterRow {
  quarter: number;
  rssMax: number;
  rssP99: number;
  rssMedian: number;
  heapTotalMax: number;
  duckdbMax: number;
  /** Samples with DuckDB within 2 MiB of its maximum over the run: how often it sits at its cap. */
  duckdbAtMax: number;
  uncheckpointedMax: number;
  restMedian: number;
  restP99: number;
  glibcUsedMedian?: number;
  glibcHeldMedian?: number;
  workflowHeapsMax?: number;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const sortedOf = (xs: number[]) => [...xs].sort((a, b) => a - b);

export function quarterRows(trace: { t: number; s: MemorySample }[], malloc: MallocSample[] = []): QuarterRow[] {
  const duckdbMax = Math.max(0, ...trace.map((x) => x.s.duckdbMiB));
  const start = trace[0]?.t ?? 0;
  const end = trace.at(-1)?.t ?? 0;
  const quarterAt = (t: number) => Math.min(3, Math.max(0, Math.floor(((t - start) * 4) / Math.max(1, end - start))));
  const processSamples = malloc.filter((m) => m.thread === undefined);
  // Each thread reports on its own; their sum at a moment is the latest report of each.
  const threads = new Map<number, number>();
  const workflowHeaps: { t: number; sum: number }[] = [];
  for (const m of malloc)
    if (m.thread !== undefined) {
      threads.set(m.thread, m.heapTotal);
      workflowHeaps.push({ t: m.t, sum: [...threads.values()].reduce((a, b) => a + b, 0) });
    }
  return [0, 1, 2, 3].map((q) => {
    const part = trace.filter((x) => quarterAt(x.t) === q).map((x) => x.s);
    const rss = sortedOf(part.map((s) => s.rssMiB));
    const rest = sortedOf(part.map((s) => s.rssMiB - s.heapTotalMiB - s.duckdbMiB - s.externalMiB));
    const inQuarter = processSamples.filter((m) => quarterAt(m.t) === q);
    const heaps = workflowHeaps.filter((w) => quarterAt(w.t) === q).map((w) => w.sum);
    return {
      quarter: q + 1,
      rssMax: rss.at(-1) ?? 0,
      rssP99: pct(rss, 0.99),
      rssMedian: pct(rss, 0.5),
      heapTotalMax: Math.max(0, ...part.map((s) => s.heapTotalMiB)),
      duckdbMax: Math.max(0, ...part.map((s) => s.duckdbMiB)),
      duckdbAtMax: part.filter((s) => s.duckdbMiB >= duckdbMax - 2).length,
      uncheckpointedMax: Math.max(0, ...part.map((s) => s.duckdbTags?.IN_MEMORY_TABLE ?? 0)),
      restMedian: pct(rest, 0.5),
      restP99: pct(rest, 0.99),
      ...(inQuarter.length > 0
        ? {
            glibcUsedMedian: pct(sortedOf(inQuarter.map((m) => m.glibcUsed ?? 0)), 0.5),
            glibcHeldMedian: Math.round(pct(sortedOf(inQuarter.map((m) => (m.glibcArena ?? 0) + (m.glibcMmap ?? 0))), 0.5) * 10) / 10,
          }
        : {}),
      ...(heaps.length > 0 ? { workflowHeapsMax: Math.round(Math.max(...heaps) * 10) / 10 } : {}),
    };
  });
}

export function parseTrace(text: string): { t: number; s: MemorySample }[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const at = line.indexOf(' ');
      return { t: Number(line.slice(0, at)), s: JSON.parse(line.slice(at + 1)) as MemorySample };
    });
}

function main(): void {
  const [traceFile, mallocFile] = process.argv.slice(2);
  if (!traceFile) throw new Error('usage: npx tsx bench/tools/memory-report.ts <BENCH_MEMORY_TRACE file> [<BENCH_MALLOC_STATS file>]');
  const trace = parseTrace(fs.readFileSync(traceFile, 'utf8'));
  const malloc = mallocFile ? fs.readFileSync(mallocFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as MallocSample) : [];
  const rows = quarterRows(trace, malloc);
  const seconds = trace.length > 1 ? Math.round((trace.at(-1)!.t - trace[0].t) / 1000) : 0;
  console.log(`${trace.length} samples over ${seconds} s (MiB)\n`);
  const header = ['quarter', 'RSS max', 'RSS p99', 'RSS median', 'heap total max', 'DuckDB max', 'samples at DuckDB max', 'uncheckpointed max', 'rest median', 'rest p99', 'glibc used median', 'glibc held median', 'workflow heaps max'];
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const r of rows)
    console.log(
      `| ${[r.quarter, r.rssMax, r.rssP99, r.rssMedian, r.heapTotalMax, r.duckdbMax, r.duckdbAtMax, r.uncheckpointedMax, r.restMedian, r.restP99, r.glibcUsedMedian ?? '-', r.glibcHeldMedian ?? '-', r.workflowHeapsMax ?? '-'].join(' | ')} |`,
    );
}

if (require.main === module) main();
