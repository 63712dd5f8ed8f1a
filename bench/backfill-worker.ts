import { NativeConnection } from '@temporalio/worker';
import { buildConfig } from '../config/config';
import { createLogger } from '../config/logger';
import { buildDeps } from '../workers/deps';
import { createBackfillIoWorker, createWorker } from '../workers/worker';
import { startMemorySampler } from './memory-sampler';
import { relaunchUnderHeapCap } from '../workers/heap-cap';
import { startAllocationProfile } from './tools/allocation-profile';

/**
 * The worker of the backfill bench, in its own process so that its peak RSS is measured alone
 * (the emulators and the Temporal server run elsewhere). Configured through BF_* variables.
 */
async function main(): Promise<void> {
  const e = process.env;
  const dir = e.BF_DATA_DIR!;
  // Memory caps are the platform's (DUCKDB_MEMORY_LIMIT, WORKER_MAX_HEAP_MB and their defaults) unless the bench sets them.
  const config = buildConfig({ TEMPORAL_ADDRESS: e.BF_TEMPORAL, TEMPORAL_TASK_QUEUE: e.BF_QUEUE, DATA_DIR: dir, SYNC_INTERVAL: '1h', DUCKDB_MEMORY_LIMIT: e.BF_DUCKDB_MEMORY, DUCKDB_CHECKPOINT_THRESHOLD: e.DUCKDB_CHECKPOINT_THRESHOLD, WORKER_MAX_HEAP_MB: e.WORKER_MAX_HEAP_MB, BACKFILL_LANES_PER_WORKER: e.BACKFILL_LANES_PER_WORKER ?? e.BENCH_BACKFILL_PARALLEL, TEMPORAL_CODEC_KEYS: e.TEMPORAL_CODEC_KEYS }, dir);
  // The same start as workers/worker-main.ts: this process becomes a relay and its child the worker.
  if (relaunchUnderHeapCap(config.temporal.workerMaxHeapMb)) return;
  config.bigquery = { projectId: e.BF_BQ_PROJECT!, apiEndpoint: e.BF_BQ_URL, dataset: e.BF_BQ_DATASET!, tables: ['tracks', 'identifies', 'pages'] };
  config.amplitude.serverUrl = e.BF_AMP_URL!;
  const log = createLogger({ level: 'warn' });
  const deps = await buildDeps(config, log);
  const stopSampler = startMemorySampler(deps.warehouse, 200, (s) => process.stdout.write(`mem ${JSON.stringify(s)}\n`));
  const stopProfile = e.BENCH_ALLOCATION_PROFILE ? await startAllocationProfile(e.BENCH_ALLOCATION_PROFILE) : undefined;
  process.once('SIGTERM', () => {
    stopSampler();
    // The Temporal runtime's own SIGTERM handler may have begun the shutdown already.
    void (stopProfile?.() ?? Promise.resolve()).finally(() => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      if (ioWorker.getState() === 'RUNNING') ioWorker.shutdown();
    });
  });
  const connection = await NativeConnection.connect({ address: e.BF_TEMPORAL });
  // The bench bundles the workflows once, in its own process: bundling is a start-up cost, not the backfill's.
  const workflowBundle = e.BF_BUNDLE ? { codePath: e.BF_BUNDLE } : undefined;
  const worker = await createWorker({ config, deps, connection, taskQueue: e.BF_QUEUE, workflowBundle });
  // A parallel backfill's reading and sending steps (DuckDB: their writes come back to this worker's queue).
  const ioWorker = await createBackfillIoWorker({ config, log, connection, taskQueue: e.BF_QUEUE });
  process.stdout.write('ready\n');
  await Promise.all([worker.run(), ioWorker.run()]);
  await deps.warehouse.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
