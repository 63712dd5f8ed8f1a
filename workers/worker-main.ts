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
  const { createWorker, openWorkerConnection } = await import('./worker');
  const { buildDeps } = await import('./deps');
  const { startAppMetrics } = await import('./app-metrics');
  const log = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT });
  installRuntime({ log, metricsBind: config.temporal.metricsBind });
  const deps = await buildDeps(config, log);
  const stopMetrics = await startAppMetrics(config, deps, log);
  const connection = await openWorkerConnection(config);
  const worker = await createWorker({ config, deps, connection });
  const heapLimitMiB = Math.round(v8.getHeapStatistics().heap_size_limit / 1048576);
  log.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace, heapLimitMiB }, 'worker started');
  try {
    // run() resolves once a shutdown signal has stopped polling and in-flight tasks have drained.
    await worker.run();
  } finally {
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
