/**
 * Diagnosis of the backfill bench worker's native memory, loaded with
 * `BENCH_WORKER_NODE_ARGS="--require ./bench/tools/malloc-stats.cjs" BENCH_MALLOC_STATS=<file>`.
 *
 * Why: RSS minus the V8 heap and duckdb_memory() leaves a "rest" of 130-200 MiB that no other
 * measure splits. glibc's own count (mallinfo2) says how much of it is malloc'd memory
 * (Node, the Temporal core, and DuckDB's C++ objects, which use new/delete rather than its jemalloc),
 * and the workflow threads' heaps are not in the main thread's process.memoryUsage().
 *
 * It needs koffi (a foreign-function interface) to call mallinfo2, which is not a dependency of
 * the project: `npm install --no-save koffi` first. Lines are JSON, one per sample:
 * - main thread: t, rss, anon and file (RssAnon / RssFile from /proc), heapTotal, external, and
 *   glibc's arena (bytes taken from the system by brk and arenas), mmap (large blocks), used and free (MiB);
 * - each worker thread (the Temporal workflow threads): t, thread, heapTotal, heapUsed (MiB).
 * Only the relaunched worker samples (NOVADE_HEAP_CAPPED is set there), not its relay.
 */
const out = process.env.BENCH_MALLOC_STATS;
const everyMs = Number(process.env.BENCH_MALLOC_STATS_MS || 2000);
const { isMainThread, threadId } = require('node:worker_threads');
const fs = require('node:fs');
const mib = (bytes) => Math.round(Number(bytes) / 104857.6) / 10;
const write = (rec) => fs.appendFileSync(out, `${JSON.stringify(rec)}\n`);

if (out && !isMainThread) {
  setInterval(() => {
    const m = process.memoryUsage();
    write({ t: Date.now(), thread: threadId, heapTotal: mib(m.heapTotal), heapUsed: mib(m.heapUsed) });
  }, everyMs).unref();
} else if (out && process.env.NOVADE_HEAP_CAPPED !== undefined) {
  let koffi;
  try {
    koffi = require('koffi');
  } catch (err) {
    throw new Error(`bench/tools/malloc-stats.cjs calls glibc through koffi, which is not installed: run \`npm install --no-save koffi\` first (${err.message})`);
  }
  const libc = koffi.load('libc.so.6');
  koffi.struct('mallinfo2', { arena: 'size_t', ordblks: 'size_t', smblks: 'size_t', hblks: 'size_t', hblkhd: 'size_t', usmblks: 'size_t', fsmblks: 'size_t', uordblks: 'size_t', fordblks: 'size_t', keepcost: 'size_t' });
  const mallinfo2 = libc.func('mallinfo2', 'mallinfo2', []);
  const kib = (status, key) => Number((status.match(new RegExp(`${key}:\\s+(\\d+)`)) || [0, 0])[1]);
  setInterval(() => {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const m = process.memoryUsage();
    const g = mallinfo2();
    write({
      t: Date.now(),
      rss: Math.round(kib(status, 'VmRSS') / 1024),
      anon: Math.round(kib(status, 'RssAnon') / 1024),
      file: Math.round(kib(status, 'RssFile') / 1024),
      heapTotal: mib(m.heapTotal),
      external: mib(m.external),
      glibcArena: mib(g.arena),
      glibcMmap: mib(g.hblkhd),
      glibcUsed: mib(g.uordblks),
      glibcFree: mib(g.fordblks),
    });
  }, everyMs).unref();
}
