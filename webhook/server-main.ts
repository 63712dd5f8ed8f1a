import { Connection } from '@temporalio/client';
import { loadConfigOrExit } from '../config/config';
import { createLogger } from '../config/logger';
import { connectionOptions, temporalClient } from '../lib/temporal';
import { withClosingRetry } from '../lib/grpc-retry';
import { startWebhookServer } from './start-server';

/** `npm run webhook`: the webhook HTTP server alone (compose, Kubernetes). Starts even while Temporal is down; /readyz tells. */
async function main(): Promise<void> {
  const config = await loadConfigOrExit();
  const log = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT });
  const connection = Connection.lazy(withClosingRetry(connectionOptions(config.temporal)));
  const client = temporalClient(connection, config.temporal);
  // Handlers before the server starts: a SIGTERM that came before them would kill the process outright.
  let server: Awaited<ReturnType<typeof startWebhookServer>> | undefined;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // Requests in flight finish (and are acknowledged or refused) before the connection closes.
    await server?.close();
    await connection.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  server = await startWebhookServer({ config, log, client });
  log.info({ url: server.amplitudeUrl, secretHeader: config.webhook.secretHeader, segmentUrl: server.segmentUrl, segmentForward: config.segment.forward.enabled }, 'webhook server listening');
}

main().catch((err: unknown) => {
  process.stderr.write(`novade webhook: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
