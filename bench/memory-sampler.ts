import type { Warehouse } from '../connectors/warehouse/types';

/**
 * Where a worker's memory goes, sampled while it runs: RSS, the V8 heap, buffers outside the heap,
 * and what DuckDB says it holds (duckdb_memory()). The rest of RSS is other native memory (the
 * Temporal core, allocator slack). The bench worker prints each sample as one `mem {json}` line.
 */
export interface MemorySample {
  rssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  arrayBuffersMiB: number;
  duckdbMiB: number;
  /** duckdb_memory() by tag (MiB, the tags holding 1 MiB or more), to tell cached table data from query state. */
  duckdbTags?: Record<string, number>;
}

type NumericField = Exclude<keyof MemorySample, 'duckdbTags'>;

const mib = (bytes: number) => Math.round(bytes / 1048576);

export function startMemorySampler(warehouse: Warehouse, everyMs: number, emit: (s: MemorySample) => void): () => void {
  let duckdb = 0;
  let tags: Record<string, number> = {};
  let querying = false;
  const tick = () => {
    const m = process.memoryUsage();
    emit({ rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), heapTotalMiB: mib(m.heapTotal), externalMiB: mib(m.external), arrayBuffersMiB: mib(m.arrayBuffers), duckdbMiB: duckdb, duckdbTags: tags });
    if (querying || warehouse.kind !== 'duckdb') return;
    querying = true;
    warehouse
      .query<{ tag: string; bytes: number | bigint | null }>('SELECT tag, memory_usage_bytes AS bytes FROM duckdb_memory()')
      .then((rows) => {
        duckdb = mib(rows.reduce((n, r) => n + Number(r.bytes ?? 0), 0));
        tags = Object.fromEntries(rows.filter((r) => Number(r.bytes ?? 0) >= 1048576).map((r) => [r.tag, mib(Number(r.bytes))]));
      })
      .catch(() => undefined)
      .finally(() => (querying = false));
  };
  const timer = setInterval(tick, everyMs);
  return () => clearInterval(timer);
}

/** The peak of each figure over a run, and the breakdown at the moment RSS peaked. */
export class MemoryPeaks {
  readonly peak: Required<Omit<MemorySample, 'duckdbTags'>> = { rssMiB: 0, heapUsedMiB: 0, heapTotalMiB: 0, externalMiB: 0, arrayBuffersMiB: 0, duckdbMiB: 0 };
  atRssPeak?: MemorySample;

  add(s: MemorySample): void {
    if (s.rssMiB > this.peak.rssMiB) this.atRssPeak = s;
    for (const k of Object.keys(this.peak) as NumericField[]) this.peak[k] = Math.max(this.peak[k], s[k]);
  }
}
