import type { AppConfig } from '../config/config';
import type { Logger } from '../config/logger';
import type { ActivityDeps } from '../activities/deps';
import { createWarehouse, type Warehouse } from '../connectors/warehouse';
import { SalesforceReader } from '../connectors/salesforce';
import { createSalesforceDescriber } from '../connectors/salesforce/describe';
import { DriftReader } from '../connectors/drift';
import { AmplitudeSink } from '../connectors/amplitude';
import { buildStreamDeclarations } from '../streams/registry';
import { loadStreamsFile } from '../streams/config/load';
import type { StreamsFile } from '../streams/config/schema';
import fs from 'node:fs';
import { PlatformMetrics } from '../lib/metrics';
import { secretSource } from '../config/keyvault/secret-sources';
import { loadValidPlan, type CompiledPlan } from '../tracking/plan-compile';

/**
 * The tracking plan of TRACKING_PLAN_DIR, compiled once. A plan with a problem stops the worker with
 * the lint's lines (enforcing half a plan would block or let through the wrong calls); no directory
 * means website calls are not checked, which the log says.
 */
export function loadTrackingPlan(config: AppConfig, log: Logger): CompiledPlan | undefined {
  const dir = config.tracking.planDir;
  if (!fs.existsSync(dir)) {
    log.info({ dir }, 'no tracking plan directory: website calls are not checked against a plan (TRACKING_PLAN_DIR)');
    return undefined;
  }
  const plan = loadValidPlan(dir);
  log.info({ dir, version: plan.version, events: plan.eventNames().length }, 'tracking plan loaded: website calls are checked against it');
  return plan;
}

/**
 * Everything the activities of one worker process use, built once: the warehouse (the worker is its
 * only writer; the entry point may have opened it already, see warehouse-lease.ts), the stream
 * declarations (from the streams file), one reader per source and the Amplitude sink. Nothing here talks to a service yet; Salesforce logs in on first use, so a worker starts even while it is down.
 */
export async function buildDeps(config: AppConfig, log: Logger, prebuilt: { warehouse?: Warehouse; metrics?: PlatformMetrics; streamsFile?: StreamsFile } = {}): Promise<ActivityDeps> {
  if (config.sandboxed.length > 0)
    log.warn({ sandboxed: config.sandboxed }, `no credentials for ${config.sandboxed.join(', ')}: using the sandbox emulators (npm run sandbox)`);
  const trackingPlan = loadTrackingPlan(config, log);
  // Before the warehouse: an invalid streams file stops the worker with one line per problem.
  const streamsFile = prebuilt.streamsFile ?? loadStreamsFile(config.streams.file);
  const warehouse = prebuilt.warehouse ?? (await createWarehouse(config.warehouse));
  const salesforce = new SalesforceReader({ config: config.salesforce, log });
  const streams = buildStreamDeclarations(streamsFile, { salesforce: { userIdField: config.salesforce.userIdFieldOverride } });
  log.info({ file: config.streams.file, streams: [...streams.keys()] }, 'streams file loaded');
  return {
    config,
    log,
    warehouse,
    streamsFile,
    streams,
    readers: { salesforce, drift: new DriftReader({ config: config.drift, log }) },
    // Logs in on first use, like the reader: only streams whose fields come from describe use it.
    describer: createSalesforceDescriber(config.salesforce),
    sink: new AmplitudeSink({ apiKey: secretSource(config, 'AMPLITUDE_API_KEY', config.amplitude.apiKey, log), serverUrl: config.amplitude.serverUrl, minIdLength: config.amplitude.minIdLength, log }),
    metrics: prebuilt.metrics ?? new PlatformMetrics({ processMetrics: true }),
    ...(trackingPlan ? { trackingPlan } : {}),
  };
}
