import path from 'node:path';
import { createLogger } from '../config/logger';
import { defaultTemporalBinary, startDevServer, type DevServer, type DevServerOptions } from '../lib/dev-server';
import { freePort } from '../lib/free-port';

/** The project's Temporal dev server for a bench: headless, on free ports, namespace `default`, warnings only. */
export async function startBenchDevServer(opts: Pick<DevServerOptions, 'dbFile' | 'extraArgs'> = {}): Promise<DevServer> {
  return startDevServer({
    binary: defaultTemporalBinary(path.join(__dirname, '..')),
    port: await freePort(),
    uiPort: await freePort(),
    namespace: 'default',
    headless: true,
    log: createLogger({ level: 'warn' }),
    ...opts,
    // BENCH_TEMPORAL_ARGS: further `start-dev` flags for a bench's server, e.g. `--metrics-port 9099` or dynamic config.
    extraArgs: [...(opts.extraArgs ?? []), ...(process.env.BENCH_TEMPORAL_ARGS?.split(/\s+/).filter(Boolean) ?? [])],
  });
}
