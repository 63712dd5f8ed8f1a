import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../config/logger';

/**
 * Installs the Temporal runtime once per process: SDK logs through pino, Prometheus metrics from
 * the Rust core on `metricsBind` (/metrics), and worker shutdown on SIGINT/SIGTERM.
 */
export function installRuntime(opts: { log: Logger; metricsBind: string; level?: LogLevel; shutdownSignals?: NodeJS.Signals[] }): void {
  const log = opts.log.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger(opts.level ?? 'WARN', (entry) => {
      const meta = entry.meta ?? {};
      const level = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
      log[level](meta, entry.message);
    }),
    // Core's own logs (Rust) are forwarded to the logger above: printed to the console by default, they
    // landed in stdout beside the JSON the CLI prints (the demo's report failed to parse on one).
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} }, metrics: { prometheus: { bindAddress: opts.metricsBind } } },
    shutdownSignals: opts.shutdownSignals ?? ['SIGINT', 'SIGTERM'],
  });
}

/**
 * Releases the runtime of a process that ends without having run a worker (a standby stopped while
 * it waited): the runtime holds the event loop open, and a worker's end releases it by itself.
 */
export async function releaseRuntime(): Promise<void> {
  await Runtime.instance().shutdown();
}
