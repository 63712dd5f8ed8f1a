import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { buildConfig, type AppConfig } from '../../config/config';
import type { Logger } from '../../config/logger';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { defaultTemporalBinary, startDevServer } from '../../lib/dev-server';
import { freePort } from '../../lib/free-port';
import { Stack } from '../../lib/stack';
import { connectTemporal } from '../../lib/temporal';
import type { ActivityDeps } from '../../activities/deps';
import { buildDeps } from '../../workers/deps';
import { createBackfillIoWorker, createWorker, openWorkerConnection } from '../../workers/worker';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../sandbox/salesforce';
import { startDriftEmulator, type DriftEmulator } from '../../sandbox/drift';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';
import { startBigQueryEmulator, type BigQueryEmulator } from '../../sandbox/bigquery';
import { startSegmentEmulator, type SegmentEmulator } from '../../sandbox/segment';
import { startWebsitePage, type WebsitePage } from './website/page-server';
import { startWebhookServer, type RunningWebhook } from '../../webhook/start-server';
import { randomBytes } from 'node:crypto';

/**
 * The demo's ephemeral platform: every emulator on a free port, a Temporal dev server whose state
 * lives in a temporary directory, the worker in this process. Nothing touches `.data/` or the fixed
 * sandbox ports, so the demo runs beside a running `npm start`.
 */

export interface DemoStackOptions {
  log: Logger;
  /** Sandbox size: 1 is the full seeded org; the demo's default keeps it under a minute. */
  scale: number;
  /** Physical Segment rows per BigQuery table (duplicates included). */
  segmentRowsPerTable: number;
  /** Event time range of the Segment rows, ISO-8601. */
  segmentFrom: string;
  segmentTo: string;
  /** Settings beside the emulators' (e.g. TEMPORAL_CODEC_KEYS: the demo then runs with payload encryption on). */
  env?: Record<string, string>;
}

export interface DemoStack {
  dir: string;
  config: AppConfig;
  client: Client;
  deps: ActivityDeps;
  sf: SalesforceEmulator;
  drift: DriftEmulator;
  amp: AmplitudeEmulator;
  bq: BigQueryEmulator;
  /** Segment's Tracking API: where the Segment forward delivers; it writes into `bq`'s Segment dataset. */
  segment: SegmentEmulator;
  /** The stand-in website whose analytics.js sends to the webhook's Segment-compatible endpoint. */
  website: WebsitePage;
  /** The write key the website's analytics.js uses (listed in SEGMENT_WRITE_KEYS). */
  websiteWriteKey: string;
  webhook: RunningWebhook;
  uiUrl: string;
  stop(): Promise<void>;
}

/** The demo website's write key: the key novade.com's analytics.js carries, accepted by the collection endpoint. */
export const WEBSITE_WRITE_KEY = 'demo-website-write-key';

export async function startDemoStack(opts: DemoStackOptions): Promise<DemoStack> {
  const { log } = opts;
  const stack = new Stack(log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-demo-'));
  stack.add({ name: 'demo directory', stop: async () => fs.rmSync(dir, { recursive: true, force: true }) });
  try {
    const [sf, drift, amp, bq] = await Promise.all([
      startSalesforceEmulator({ port: 0, scale: opts.scale }),
      startDriftEmulator({ port: 0, scale: opts.scale, token: SANDBOX.drift.token }),
      startAmplitudeEmulator({ port: 0, apiKeys: [SANDBOX.amplitude.apiKey] }),
      startBigQueryEmulator({
        projectId: SANDBOX.bigquery.projectId,
        rowsPerTable: opts.segmentRowsPerTable,
        from: opts.segmentFrom,
        to: opts.segmentTo,
        log,
      }),
    ]);
    stack.add({ name: 'Salesforce emulator', stop: () => sf.close() });
    stack.add({ name: 'Drift emulator', stop: () => drift.close() });
    stack.add({ name: 'Amplitude emulator', stop: () => amp.close() });
    stack.add({ name: 'BigQuery emulator', stop: () => bq.close() });
    // Segment's warehouse sync runs every half second with no lag, so the demo waits for it briefly.
    const segment = await startSegmentEmulator({
      port: 0,
      writeKeys: [SANDBOX.segment.writeKey],
      warehouse: { url: bq.url, projectId: bq.projectId, dataset: bq.dataset, delayMs: 0, intervalMs: 500 },
    });
    stack.add({ name: 'Segment emulator', stop: () => segment.close() });
    const website = await startWebsitePage();
    stack.add({ name: 'website page', stop: () => website.close() });

    const [port, uiPort] = [await freePort(), await freePort()];
    const server = await startDevServer({
      binary: defaultTemporalBinary(),
      dbFile: path.join(dir, 'temporal.db'),
      port,
      uiPort,
      namespace: 'default',
      headless: true,
      log,
    });
    stack.add({ name: 'Temporal dev server', stop: server.stop });

    // The emulators stand in for the real services through the same variables an operator sets.
    const config = buildConfig(
      {
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_UI_URL: server.uiUrl,
        TEMPORAL_TASK_QUEUE: 'novade-demo',
        DATA_DIR: dir,
        SALESFORCE_LOGIN_URL: sf.url,
        SALESFORCE_AUTH: 'client_credentials',
        SALESFORCE_CLIENT_ID: SANDBOX.salesforce.clientId,
        SALESFORCE_CLIENT_SECRET: SANDBOX.salesforce.clientSecret,
        DRIFT_BASE_URL: drift.url,
        DRIFT_TOKEN: SANDBOX.drift.token,
        DRIFT_VERIFICATION_TOKEN: SANDBOX.drift.verificationToken,
        AMPLITUDE_SERVER_URL: amp.url,
        AMPLITUDE_API_KEY: SANDBOX.amplitude.apiKey,
        BIGQUERY_PROJECT: bq.projectId,
        BIGQUERY_API_ENDPOINT: bq.url,
        SEGMENT_DATASET: bq.dataset,
        // Dual tracking: the website's calls are collected here and forwarded to the Segment emulator.
        SEGMENT_WRITE_KEYS: WEBSITE_WRITE_KEY,
        SEGMENT_CORS_ORIGINS: website.origin,
        SEGMENT_FORWARD: 'on',
        SEGMENT_FORWARD_ENDPOINT: segment.url,
        SEGMENT_FORWARD_WRITE_KEY: SANDBOX.segment.writeKey,
        WEBHOOK_SECRET: randomBytes(16).toString('hex'),
        WEBHOOK_HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        // The project's tracking plan: the website's calls are checked against it.
        TRACKING_PLAN_DIR: path.resolve(__dirname, '../../tracking-plan'),
        ...opts.env,
      },
      dir,
    );

    const temporal = await connectTemporal(config.temporal);
    stack.add({ name: 'Temporal client', stop: temporal.close });
    const deps = await buildDeps(config, log);
    stack.add({ name: 'warehouse', stop: () => deps.warehouse.close() });
    const connection = await openWorkerConnection(config);
    stack.add({ name: 'worker connection', stop: () => connection.close() });
    const worker: Worker = await createWorker({ config, deps, connection });
    // The reading and sending steps of parallel backfills, as every worker process runs them.
    const ioWorker: Worker = await createBackfillIoWorker({ config, log, connection });
    const running = Promise.all([worker.run(), ioWorker.run()]);
    stack.add({
      name: 'worker',
      stop: async () => {
        for (const w of [worker, ioWorker]) if (w.getState() === 'RUNNING') w.shutdown();
        await running;
      },
    });
    // Amplitude streams every event it ingests to the webhook, as it would in production.
    const webhook = await startWebhookServer({ config, log, client: temporal.client, port: 0 });
    stack.add({ name: 'webhook server', stop: webhook.close });
    amp.setStream({ url: webhook.amplitudeUrl, headers: { [config.webhook.secretHeader]: config.webhook.secret } });
    website.setCollector({ url: webhook.url, writeKey: WEBSITE_WRITE_KEY });
    return { dir, config, client: temporal.client, deps, sf, drift, amp, bq, segment, website, websiteWriteKey: WEBSITE_WRITE_KEY, webhook, uiUrl: server.uiUrl, stop: () => stack.stopAll() };
  } catch (err) {
    await stack.stopAll();
    throw err;
  }
}
