import type { Server } from 'node:http';
import type { AppConfig } from '../config/config';
import type { Logger } from '../config/logger';
import type { ActivityDeps } from '../activities/deps';
import { serveMetrics } from '../lib/metrics';

/**
 * Serves the worker's platform metrics (records, runs, cursor lag, checks, dead letters, alerts)
 * on APP_METRICS_BIND, beside the Temporal SDK's own on WORKER_METRICS_BIND. Answers a stop function.
 */
export async function startAppMetrics(config: AppConfig, deps: Pick<ActivityDeps, 'metrics'>, log: Logger): Promise<() => Promise<void>> {
  if (!deps.metrics) return async () => {};
  const server: Server = await serveMetrics(deps.metrics.registry, config.ops.appMetricsBind);
  log.info({ bind: config.ops.appMetricsBind }, 'platform metrics on /metrics');
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
