import fs from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * Every allocation of the process, sampled (V8's sampling heap profiler with the objects later
 * collected kept in): where the garbage of a page comes from, which a heap snapshot (live objects
 * only) cannot show. BENCH_ALLOCATION_PROFILE=<file> in the backfill bench; `npx tsx
 * bench/tools/allocation-top.ts <file>` summarises it.
 */
export async function startAllocationProfile(file: string): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 64 * 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  return async () => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}
