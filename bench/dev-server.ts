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
  });
}
