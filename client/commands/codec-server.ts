import type { Command } from 'commander';
import { createLogger } from '../../config/logger';
import { startConfiguredCodecServer } from '../codec-server';
import type { CliContext } from '../cli-context';

/** `npx novade codec-server`: decodes encrypted payloads for the Web UI and `temporal --codec-endpoint`, until Ctrl-C. */
export function registerCodecServer(program: Command, ctx: CliContext): void {
  program
    .command('codec-server')
    .description('serve POST /encode and /decode for the Temporal Web UI (payload encryption keys from TEMPORAL_CODEC_KEYS)')
    .option('--host <host>', 'listen address (default CODEC_SERVER_HOST)')
    .option('--port <port>', 'port (default CODEC_SERVER_PORT; 0 = any free port)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port expects a port number, got "${v}".`);
      return n;
    })
    .action(async (opts: { host?: string; port?: number }) => {
      const config = ctx.config;
      const log = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT, destination: 'stderr' });
      const server = await startConfiguredCodecServer(config, log, opts);
      ctx.print(`codec server on ${server.url} (namespace ${config.temporal.namespace}; allowed origins: ${config.codecServer.origins.join(', ')}${config.codecServer.token ? '; bearer token required otherwise' : ''})`);
      ctx.print(`Web UI: Workflows > "Configure Codec Server" > ${server.url} (or start the dev server with --ui-codec-endpoint ${server.url})`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}
