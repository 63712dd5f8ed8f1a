import { loadConfigOrExit } from '../config/config';
import { createLogger } from '../config/logger';
import { installRuntime } from './runtime';
import { createWorker } from './worker';
import { buildDeps } from './deps';
import { startAppMetrics } from './app-metrics';

/** `npm run worker`: the worker alone, for deployments where Temporal runs elsewhere (compose, Cloud). */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT });
  installRuntime({ log, metricsBind: config.temporal.metricsBind });
  const deps = await buildDeps(config, log);
  const stopMetrics = await startAppMetrics(config, deps, log);
  const worker = await createWorker({ config, deps });
  log.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker started');
  try {
    await worker.run();
  } finally {
    await stopMetrics();
    await deps.warehouse.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`novade worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
