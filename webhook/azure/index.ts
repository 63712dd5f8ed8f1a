import { app } from '@azure/functions';
import { Connection } from '@temporalio/client';
import { loadConfigSync } from '../../config/config';
import { createLogger } from '../../config/logger';
import { connectionOptions, temporalClient } from '../../lib/temporal';
import { withClosingRetry } from '../../lib/grpc-retry';
import { createAmplitudeHandler } from '../amplitude-handler';
import { WebhookMetrics } from '../metrics';
import { TemporalIngest } from '../temporal-ingest';
import { ingestOptionsFromEnv } from '../ingest-options';
import { createIngestGuard, ingestLimits } from '../ingest-guard';
import { createAzureHandler, createAzureSegmentHandler } from './handler';
import { createSegmentHandler } from '../segment-handler';

/**
 * Azure Functions v4 entry point (programming model v4: functions are registered in code). One
 * Temporal connection per instance, opened lazily on the first request; settings come from the
 * Function App's application settings, the same variables as .env. Key Vault references in them are
 * resolved by the platform before this runs (one that it could not resolve is a configuration error).
 */
const config = loadConfigSync();
const log = createLogger({ level: config.env.LOG_LEVEL, format: 'json' });
const client = temporalClient(Connection.lazy(withClosingRetry(connectionOptions(config.temporal))), config.temporal);
const metrics = new WebhookMetrics();
const ingest = new TemporalIngest({
  client,
  taskQueue: config.temporal.taskQueue,
  ...ingestOptionsFromEnv(config.env),
  metrics,
});
const guard = createIngestGuard(ingestLimits(config.env), client.options.loadedDataConverter.payloadConverter);
const segmentIngest = new TemporalIngest({
  client,
  taskQueue: config.temporal.taskQueue,
  source: 'segment',
  ...ingestOptionsFromEnv(config.env),
  metrics,
});
const segment = createSegmentHandler({ writeKeys: config.segment.writeKeys, corsOrigins: config.segment.corsOrigins, ingest: segmentIngest, guard, metrics, log });
const handler = createAmplitudeHandler({ secret: config.webhook.secret, secretHeader: config.webhook.secretHeader, bodyLimitBytes: config.webhook.bodyLimitBytes, ingest, guard, metrics, log });

app.http('amplitude', { methods: ['POST'], authLevel: 'anonymous', route: 'amplitude', handler: createAzureHandler({ handler, route: '/amplitude', bodyLimitBytes: config.webhook.bodyLimitBytes, metrics }) });
// Segment's tracking API (website tracking): calls, batches, analytics.js metrics, and its settings.
app.http('segment', { methods: ['POST', 'OPTIONS'], authLevel: 'anonymous', route: 'v1/{call}', handler: createAzureSegmentHandler({ handler: segment, route: '/v1/{call}', metrics }) });
app.http('segmentSettings', {
  methods: ['GET', 'OPTIONS'],
  authLevel: 'anonymous',
  route: 'v1/projects/{writeKey}/settings',
  handler: createAzureSegmentHandler({ handler: segment, route: '/v1/projects/{writeKey}/settings', metrics }),
});
app.http('ready', {
  methods: ['GET'],
  authLevel: 'anonymous',
  route: 'readyz',
  handler: async () => {
    const state = await ingest.ready();
    return { status: state.ready ? 200 : 503, jsonBody: state };
  },
});
app.http('metrics', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'metrics',
  handler: async () => ({ status: 200, headers: { 'content-type': metrics.registry.contentType }, body: await metrics.registry.metrics() }),
});
