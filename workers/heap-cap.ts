import { spawn } from 'node:child_process';
import os from 'node:os';

/**
 * The worker's V8 heap cap (WORKER_MAX_HEAP_MB). A backfill page leaves tens of MiB of garbage and
 * V8, with nothing capping it, lets the heap grow lazily toward its default limit (a quarter of RAM
 * or more) before it collects hard, so the process's peak followed the garbage, not the live heap.
 * Node reads --max-old-space-size only when it starts, so an entry point started without it starts
 * itself again with it and only relays: the same code path for `npm run worker`, the Dockerfile and
 * the bench, with the value in the validated configuration rather than in each launcher.
 */

/** Set in the relaunched process: it is the worker, not the relay. */
const CHILD_MARK = 'NOVADE_HEAP_CAPPED';

/**
 * DuckDB's own jemalloc reads this variable once, when the library loads, so only a process started
 * with it in its environment gets it (setting process.env later does nothing). With DuckDB's decay
 * times its arenas kept the pages a checkpoint freed while the next page allocated new ones: a long
 * backfill's RSS peaks rose with the number of checkpoints (739 MiB after 280,000 rows against 654
 * with immediate purge, same rows/s). An operator's own value wins.
 */
export const DUCKDB_ALLOCATOR_ENV = 'DUCKDB_JE_MALLOC_CONF';
export const DUCKDB_ALLOCATOR_DEFAULT = 'dirty_decay_ms:0,muzzy_decay_ms:0';

/**
 * What the relaunch sets unless the operator did; each library reads its variable only at start.
 * - MALLOC_ARENA_MAX: glibc's malloc (Node, V8's off-heap buffers, the Temporal core) opens up to 8
 *   arenas per core and keeps what each frees: with 2 the rest of the worker's RSS (beside the V8 heap
 *   and DuckDB) was ~25 MiB lower and its spikes ~45 MiB lower over the first 280k backfill rows.
 * - MALLOC_MMAP_THRESHOLD_: glibc raises its mmap threshold each time a large block is freed (up to
 *   32 MiB), after which big transient buffers come from the heap and their pages stay behind. A fixed
 *   128 KiB keeps them mmapped, given back on free: over the first 280k backfill rows the rest's median
 *   per quarter was 9-12 MiB lower and the peak 524 -> 490 MiB, at the same rows/s (one run each).
 */
const ALLOCATOR_DEFAULTS: Record<string, string> = {
  [DUCKDB_ALLOCATOR_ENV]: DUCKDB_ALLOCATOR_DEFAULT,
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
};
const CAP_FLAG = /(^|\s)--max[-_]old[-_]space[-_]size(=|\s|$)/;

/** Whether this process already runs under an explicit old-space cap (command line or NODE_OPTIONS): an operator's own flag wins. */
export function hasHeapCapFlag(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  return execArgv.some((a) => CAP_FLAG.test(a)) || CAP_FLAG.test(nodeOptions);
}

/** The relaunched worker's environment: the mark, and the allocators' settings unless the operator gave them. */
export function workerEnv(maxHeapMb: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const allocators = Object.entries(ALLOCATOR_DEFAULTS).map(([name, value]) => [name, env[name] ?? value]);
  return { ...env, ...Object.fromEntries(allocators), [CHILD_MARK]: String(maxHeapMb) };
}

/** The node command line that runs this same entry point under the cap. */
export function cappedArgs(maxHeapMb: number, execArgv: readonly string[] = process.execArgv, argv: readonly string[] = process.argv): string[] {
  return [...execArgv, `--max-old-space-size=${maxHeapMb}`, ...argv.slice(1)];
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Returns true when this process has relaunched itself under the cap and must do nothing else (it
 * relays signals to the worker and exits with its code); false when this process is the worker.
 */
export function relaunchUnderHeapCap(maxHeapMb: number): boolean {
  if (process.env[CHILD_MARK] !== undefined) {
    delete process.env[CHILD_MARK];
    // The relay's death (even SIGKILL) closes this channel: shut down as on SIGTERM rather than linger.
    if (process.channel) {
      process.channel.unref();
      process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
    }
    return false;
  }
  if (maxHeapMb === 0 || hasHeapCapFlag()) return false;

  // Its own process group: a terminal's Ctrl-C reaches the relay alone, which passes it on once (the
  // Temporal runtime stops listening after the first signal, so a second one would kill the worker mid-drain).
  const child = spawn(process.execPath, cappedArgs(maxHeapMb), {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: workerEnv(maxHeapMb),
    detached: true,
  });
  for (const signal of SIGNALS) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`novade worker: cannot start under the heap cap: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
  return true;
}
