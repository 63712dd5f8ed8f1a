import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { buildConfig, type AppConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { createActivities } from '../../activities';
import type { ActivityDeps } from '../../activities/deps';
import { buildDeps } from '../../workers/deps';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';
import { startSegmentEmulator, type SegmentEmulator, type SegmentEmulatorOptions } from '../../sandbox/segment';
import { SEGMENT_LIVE_SILVER, segmentLiveBronze } from '../../mappings/segment-live';
import { startWebhookServer, type RunningWebhook } from '../../webhook/start-server';
import type { TemporalIngestOptions } from '../../webhook/temporal-ingest';
import type { IngestSettings, IngestStatus } from '../../workflows/push-ingest';
import { INGEST_STATUS_QUERY } from '../../workflows/push-ingest-names';
import type { DeliverySettings, DeliveryStatus } from '../../workflows/segment-delivery';
import { deliveryWorkflowId, SEGMENT_DELIVERY_STATUS_QUERY, type SegmentDestination } from '../../workflows/segment-delivery-names';

/**
 * The website-tracking stack on the shared test dev server: the webhook server with its Segment
 * routes, a worker, DuckDB in a temp dir, the Amplitude emulator and the Segment emulator (the
 * forward's destination), one task queue each.
 */

export const WRITE_KEY = 'wk_site_test_0123456789';
/** The write key of the Segment source the forward sends to (the emulator's). */
export const FORWARD_KEY = SANDBOX.segment.writeKey;
export const ORIGIN = 'https://www.novade.com';
const log = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent' });

export interface SegmentStack {
  config: AppConfig;
  deps: ActivityDeps;
  server: RunningWebhook;
  amplitude: AmplitudeEmulator;
  segment: SegmentEmulator;
  taskQueue: string;
  /** Prefix of the Segment ingest shards (and of the delivery workflows). */
  prefix: string;
  post(route: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }>;
  ingestStatus(): Promise<IngestStatus>;
  deliveryStatus(destination: SegmentDestination): Promise<DeliveryStatus | undefined>;
  /** Waits until the ingest has flushed `received` calls and every destination has delivered all it holds. */
  settle(received: number, timeoutMs?: number): Promise<void>;
  /** messageIds in silver, per live table (all tables when none given). */
  silverIds(table?: string): Promise<string[]>;
  close(): Promise<void>;
}

let stacks = 0;
export const basicAuth = (key = WRITE_KEY) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

export async function makeSegmentStack(
  env: TestWorkflowEnvironment,
  opts: {
    settings?: Partial<IngestSettings>;
    ingest?: Partial<TemporalIngestOptions>;
    client?: Client;
    forward?: boolean;
    groupType?: string | null;
    /** Further environment (e.g. TRACKING_PLAN_DIR). */
    env?: Record<string, string>;
    /** Options of the Segment emulator (e.g. its BigQuery warehouse target). */
    segmentEmulator?: Partial<SegmentEmulatorOptions>;
  } = {},
): Promise<SegmentStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seg-collect-'));
  const taskQueue = `seg-collect-${process.pid}-${++stacks}`;
  // Many distinct ids per second per user would be throttled by the per-id limit, as in Amplitude: tests use few users.
  const amplitude = await startAmplitudeEmulator({ port: 0, rateLimits: { httpApiPerIdPerSecond: 100_000 } });
  const segment = await startSegmentEmulator({ port: 0, writeKeys: [FORWARD_KEY], ...opts.segmentEmulator });
  const config = buildConfig(
    {
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      DATA_DIR: dir,
      WEBHOOK_HOST: '127.0.0.1',
      AMPLITUDE_API_KEY: SANDBOX.amplitude.apiKey,
      AMPLITUDE_SERVER_URL: amplitude.url,
      SEGMENT_WRITE_KEYS: WRITE_KEY,
      SEGMENT_CORS_ORIGINS: ORIGIN,
      SEGMENT_FORWARD: opts.forward === false ? 'off' : 'on',
      SEGMENT_FORWARD_WRITE_KEY: FORWARD_KEY,
      SEGMENT_FORWARD_ENDPOINT: segment.url,
      ...(opts.groupType === null ? {} : { SEGMENT_AMPLITUDE_GROUP_TYPE: opts.groupType ?? 'company' }),
      ...opts.env,
    },
    dir,
  );
  const deps = await buildDeps(config, log);
  const prefix = `segment-ingest-${taskQueue}`;
  const server = await startWebhookServer({
    config,
    log,
    client: opts.client ?? env.client,
    port: 0,
    ingest: { workflowIdPrefix: `amplitude-ingest-${taskQueue}` },
    segmentIngest: { workflowIdPrefix: prefix, shards: 3, timeoutMs: 3_000, settings: { maxAgeMs: 100, flushTimeout: '5 seconds', ...opts.settings }, ...opts.ingest },
  });
  const query = async <T>(workflowId: string, name: string): Promise<T | undefined> => {
    try {
      return await env.client.workflow.getHandle(workflowId).query<T>(name);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  };
  const stack: SegmentStack = {
    config,
    deps,
    server,
    amplitude,
    segment,
    taskQueue,
    prefix,
    post: async (route, body, headers = { authorization: basicAuth() }) => {
      const res = await fetch(`${server.url}/v1/${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
    ingestStatus: async () => {
      const sum: IngestStatus = { received: 0, rejected: 0, flushed: 0, flushes: 0, pending: 0, runs: 0 };
      for (const id of server.segmentIngest.workflowIds) {
        const s = await query<IngestStatus>(id, INGEST_STATUS_QUERY);
        if (s) for (const k of Object.keys(sum) as (keyof IngestStatus)[]) sum[k] += s[k];
      }
      return sum;
    },
    deliveryStatus: (destination) => query<DeliveryStatus>(deliveryWorkflowId(prefix, destination), SEGMENT_DELIVERY_STATUS_QUERY),
    settle: async (received, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        const ingest = await stack.ingestStatus();
        const destinations = await Promise.all((config.segment.forward.enabled ? (['amplitude', 'segment'] as const) : (['amplitude'] as const)).map((d) => stack.deliveryStatus(d)));
        last = { ingest, destinations };
        // A flush hands its batch over before it completes, but a query can be answered before a signal
        // already accepted is applied: a destination has everything once its deliveries have read every
        // flushed call (a destination with no workflow yet was never handed anything).
        const delivered = destinations.every((d) => (d === undefined ? ingest.flushed === 0 : d.pending === 0 && d.calls >= ingest.flushed));
        if (ingest.received >= received && ingest.pending === 0 && delivered) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`did not settle: ${JSON.stringify(last)} (expected ${received} calls received)`);
    },
    silverIds: async (table) => {
      await deps.warehouse.ensureSchema({ bronze: [segmentLiveBronze], silver: [...SEGMENT_LIVE_SILVER] });
      const tables = table ? [`segment_live_${table}`] : SEGMENT_LIVE_SILVER.map((t) => t.name);
      const out: string[] = [];
      for (const t of tables) out.push(...(await deps.warehouse.query<{ id: string }>(`SELECT id FROM silver.${t}`)).map((r) => r.id));
      return out;
    },
    close: async () => {
      await server.close();
      await deps.warehouse.close();
      await Promise.all([amplitude.close(), segment.close()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** A worker for the stack's queue with short delivery timeouts (a killed worker's delivery is retried quickly). */
export async function startSegmentWorker(
  env: TestWorkflowEnvironment,
  bundle: WorkflowBundleWithSourceMap,
  stack: SegmentStack,
  opts: { graceMs?: number; delivery?: Partial<DeliverySettings> } = {},
): Promise<{ worker: Worker; stop(): Promise<void> }> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: stack.taskQueue,
    workflowBundle: bundle,
    activities: createActivities(stack.deps, { segmentDelivery: { heartbeatTimeout: '5 seconds', activityTimeout: '30 seconds', ...opts.delivery } }),
    shutdownGraceTime: `${opts.graceMs ?? 5_000}ms`,
    stickyQueueScheduleToStartTimeout: '1s',
  });
  const running = worker.run();
  return {
    worker,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

/** A track call as analytics.js sends it (fresh messageId). */
export function trackCall(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'track',
    event: 'Demo Requested',
    messageId: `ajs-next-${Date.now()}-${randomUUID()}`,
    anonymousId: `anon-${randomUUID()}`,
    timestamp: new Date().toISOString(),
    properties: { plan: 'enterprise', seats: 40 },
    context: { library: { name: 'analytics.js', version: 'npm:next-1.84.1' }, page: { path: '/demo', url: 'https://www.novade.com/demo' } },
    ...over,
  };
}
