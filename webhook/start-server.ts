import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config/config';
import type { Logger } from '../config/logger';
import { createAmplitudeHandler } from './amplitude-handler';
import { WebhookMetrics } from './metrics';
import { buildWebhookApp, AMPLITUDE_PATH, type ExtraRoute } from './server';
import { TemporalIngest, type TemporalIngestOptions } from './temporal-ingest';
import { ingestOptionsFromEnv } from './ingest-options';

export { ingestSettings } from './ingest-options';
import { driftRoute, DRIFT_PATH } from './drift-route';
import { createIngestGuard, ingestLimits, type IngestLimits } from './ingest-guard';
import { createSegmentHandler, SEGMENT_BASE_PATH } from './segment-handler';

export interface RunningWebhook {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  amplitudeUrl: string;
  /** Where Drift's app posts its webhooks. */
  driftUrl: string;
  ingest: TemporalIngest;
  /** Base of the Segment-compatible routes: analytics-node's `host` is `url`, analytics.js's apiHost `<host>/v1`. */
  segmentUrl: string;
  /** The Segment source's ingest (its own shards, `segment-ingest-<n>`). */
  segmentIngest: TemporalIngest;
  metrics: WebhookMetrics;
  close(): Promise<void>;
}

export interface StartWebhookOptions {
  config: AppConfig;
  log: Logger;
  /** The Temporal client; the webhook never opens the warehouse. */
  client: Client;
  routes?: ExtraRoute[];
  ingest?: Omit<TemporalIngestOptions, 'client' | 'taskQueue' | 'metrics'>;
  /** Overrides the WEBHOOK_EVENT_MAX_* settings. */
  limits?: Partial<IngestLimits>;
  /** Options of the Segment source's ingest (defaults: the same settings as Amplitude's). */
  segmentIngest?: Omit<TemporalIngestOptions, 'client' | 'taskQueue' | 'metrics' | 'source'>;
  /** Overrides config.webhook.port (0: any free port). */
  port?: number;
}

/** Builds the handler, the Temporal ingest and the fastify app from config, and listens. */
export async function startWebhookServer(opts: StartWebhookOptions): Promise<RunningWebhook> {
  const { webhook } = opts.config;
  const metrics = new WebhookMetrics();
  const { env } = opts.config;
  if (webhook.bodyLimitBytes > 1_500_000)
    opts.log.warn(
      { bodyLimitBytes: webhook.bodyLimitBytes },
      'WEBHOOK_BODY_LIMIT_BYTES is above 1.5 MB: a request that large cannot fit in one Temporal signal (2 MB payload limit) and would be answered 503 again and again; lower it to 1048576',
    );
  const ingest = new TemporalIngest({
    client: opts.client,
    taskQueue: opts.config.temporal.taskQueue,
    ...ingestOptionsFromEnv(env),
    metrics,
    ...opts.ingest,
  });
  // The converter the client encodes with, so the guard refuses exactly what the signal would fail on.
  const guard = createIngestGuard({ ...ingestLimits(env), ...opts.limits }, opts.client.options.loadedDataConverter.payloadConverter);
  // Same machinery, its own shards: a flood of website calls never queues behind Amplitude's stream.
  const segmentIngest = new TemporalIngest({
    client: opts.client,
    taskQueue: opts.config.temporal.taskQueue,
    source: 'segment',
    ...ingestOptionsFromEnv(env),
    metrics,
    ...opts.segmentIngest,
  });
  // Drift's accepted events start targeted reads; its shard only carries refused requests to dead letters.
  const driftIngest = new TemporalIngest({ client: opts.client, taskQueue: opts.config.temporal.taskQueue, source: 'drift', ...ingestOptionsFromEnv(env), shards: 1, metrics });
  if (opts.config.segment.writeKeys.length === 0)
    opts.log.warn('SEGMENT_WRITE_KEYS is empty: the Segment-compatible endpoint (/v1/*) refuses every call with 401 until the site\'s write key is listed');
  const segment = createSegmentHandler({ writeKeys: opts.config.segment.writeKeys, corsOrigins: opts.config.segment.corsOrigins, ingest: segmentIngest, guard, metrics, log: opts.log });
  const amplitude = createAmplitudeHandler({ secret: webhook.secret, secretHeader: webhook.secretHeader, bodyLimitBytes: webhook.bodyLimitBytes, ingest, guard, metrics, log: opts.log });
  const app = buildWebhookApp({
    amplitude,
    auth: { secret: webhook.secret, secretHeader: webhook.secretHeader },
    bodyLimitBytes: webhook.bodyLimitBytes,
    metrics,
    readiness: () => ingest.ready(),
    segment,
    routes: [
      driftRoute({ client: opts.client.workflow, taskQueue: opts.config.temporal.taskQueue, verificationToken: opts.config.drift.verificationToken, log: opts.log, guard, deadLetters: driftIngest }),
      ...(opts.routes ?? []),
    ],
    log: opts.log,
  });
  await app.listen({ host: webhook.host, port: opts.port ?? webhook.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : webhook.port;
  const host = webhook.host === '0.0.0.0' || webhook.host === '::' ? '127.0.0.1' : webhook.host;
  const url = `http://${host}:${port}`;
  return { url, amplitudeUrl: `${url}${AMPLITUDE_PATH}`, driftUrl: `${url}${DRIFT_PATH}`, segmentUrl: `${url}${SEGMENT_BASE_PATH}`, ingest, segmentIngest, metrics, close: async () => {
      await app.close();
      await Promise.all([ingest.close(), segmentIngest.close(), driftIngest.close()]);
    },
  };
}
