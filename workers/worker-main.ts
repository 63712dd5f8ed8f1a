import v8 from 'node:v8';
import { loadConfigOrExit } from '../config/config';
import { relaunchUnderHeapCap } from './heap-cap';

/** `npm run worker`: the worker alone, for deployments where Temporal runs elsewhere (compose, Cloud). */
async function main(): Promise<void> {
  const config = await loadConfigOrExit();
  if (relaunchUnderHeapCap(config.temporal.workerMaxHeapMb)) return;
  // Loaded only in the worker process itself: the relay that started it under the heap cap stays small.
  const { createLogger } = await import('../config/logger');
  const { installRuntime } = await import('./runtime');
  const { createBackfillIoWorker, createWorker, openWorkerConnection } = await import('./worker');
  const { buildDeps } = await import('./deps');
  const { startAppMetrics } = await import('./app-metrics');
  const { openWarehouseWhenFree } = await import('./warehouse-lease');
  const { PlatformMetrics } = await import('../lib/metrics');
  const { loadStreamsFile } = await import('../streams/config/load');
  // An invalid streams file stops the worker before it waits for anything, with one line per problem.
  const streamsFile = loadStreamsFile(config.streams.file);
  const log = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT });
  installRuntime({ log, metricsBind: config.temporal.metricsBind });
  // Both metrics endpoints answer from the start, so a standby worker is seen up (and waiting) too.
  const metrics = new PlatformMetrics({ processMetrics: true });
  const stopMetrics = await startAppMetrics(config, { metrics }, log);
  // Until the worker runs, a shutdown signal ends the wait (the Temporal runtime's own handler only stops workers).
  const waiting = new AbortController();
  const abortWait = () => waiting.abort();
  process.once('SIGINT', abortWait);
  process.once('SIGTERM', abortWait);
  // Every worker, a DuckDB standby too, reads and sends for parallel backfills: that work needs no warehouse.
  const connection = await openWorkerConnection(config);
  const ioWorker = await createBackfillIoWorker({ config, log, connection });
  const ioRun = ioWorker.run();
  const stopIo = async () => {
    if (ioWorker.getState() === 'RUNNING') ioWorker.shutdown();
    await ioRun;
  };
  const warehouse = await openWarehouseWhenFree(config.warehouse, log, { signal: waiting.signal });
  process.off('SIGINT', abortWait);
  process.off('SIGTERM', abortWait);
  if (!warehouse) {
    await stopIo();
    await connection.close();
    await stopMetrics();
    log.info('worker stopped (it was waiting for the warehouse)');
    return;
  }
  metrics.warehouseOwner.set(1);
  const deps = await buildDeps(config, log, { warehouse, metrics, streamsFile });
  const worker = await createWorker({ config, deps, connection });
  const heapLimitMiB = Math.round(v8.getHeapStatistics().heap_size_limit / 1048576);
  log.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace, heapLimitMiB }, 'worker started');
  try {
    // run() resolves once a shutdown signal has stopped polling and in-flight tasks have drained.
    await Promise.all([worker.run(), ioRun]);
  } finally {
    await stopIo();
    metrics.warehouseOwner.set(0);
    await connection.close();
    await stopMetrics();
    await deps.warehouse.close();
    log.info('worker stopped');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`novade worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
