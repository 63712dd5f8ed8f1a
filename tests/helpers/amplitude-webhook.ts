import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { buildConfig, type AppConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { createActivities } from '../../activities';
import { buildDeps } from '../../workers/deps';
import type { ActivityDeps } from '../../activities/deps';
import { openDuckDBWarehouse, type WarehouseHooks } from '../../connectors/warehouse';
import type { TemporalIngestOptions } from '../../webhook/temporal-ingest';
import type { IngestLimits } from '../../webhook/ingest-guard';
import { amplitudeEventsSilver } from '../../mappings/amplitude-export';
import { startWebhookServer, type RunningWebhook } from '../../webhook/start-server';
import { AMPLITUDE_INGEST_STATUS_QUERY } from '../../workflows/amplitude-ingest-names';
import type { AmplitudeIngestSettings, AmplitudeIngestStatus } from '../../workflows/amplitude-ingest';

/** A webhook server, a worker and a DuckDB warehouse on the shared test dev server, one task queue each. */

export const SECRET = 'test-webhook-secret-0123456789';
export const SECRET_HEADER = 'x-novade-webhook-secret';
// TEST_LOG_LEVEL=warn shows the stacks' warnings (e.g. why the webhook answered 503).
const log = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent' });

/** Export timestamp text of a Date, as Amplitude writes it. */
export const exportTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

export function exportEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const t = new Date(Date.UTC(2026, 10, 1, 12, 0, 0) + Math.floor(Math.random() * 1e9));
  return {
    uuid: randomUUID(),
    $insert_id: `ins-${randomUUID()}`,
    event_type: 'Form Submitted',
    user_id: 'inspector@novade.net',
    device_id: 'device-0001',
    amplitude_id: 123456789,
    session_id: 1700000000000,
    event_id: 7,
    event_time: exportTime(t),
    client_event_time: exportTime(t),
    client_upload_time: exportTime(t),
    server_received_time: exportTime(t),
    server_upload_time: exportTime(t),
    processed_time: exportTime(t),
    event_properties: { form: 'Daily Site Diary', project_id: 42 },
    user_properties: { plan: 'enterprise' },
    group_properties: {},
    groups: { company: 'novade' },
    data: {},
    app: 424242,
    platform: 'iOS',
    os_name: 'ios',
    os_version: '17.1',
    country: 'Singapore',
    city: 'Singapore',
    ...overrides,
  };
}

export interface Stack {
  config: AppConfig;
  deps: ActivityDeps;
  server: RunningWebhook;
  taskQueue: string;
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
  waitForIngest(received: number, timeoutMs?: number): Promise<AmplitudeIngestStatus>;
  silverUuids(): Promise<string[]>;
  close(): Promise<void>;
}

let stacks = 0;

/**
 * `senders` concurrent senders post two fresh events at a time until `total` events have been
 * answered: a signal is nearly always in flight when an ingest run continues as new.
 */
export async function postConcurrently(stack: Pick<Stack, 'post'>, total: number, senders = 8): Promise<{ acked: Set<string>; refused: number }> {
  const acked = new Set<string>();
  let refused = 0;
  const sender = async () => {
    while (acked.size + refused < total) {
      const events = [exportEvent(), exportEvent()];
      const r = await stack.post(events);
      if (r.status === 200) for (const e of events) acked.add(e.uuid as string);
      else refused++;
    }
  };
  await Promise.all(Array.from({ length: senders }, sender));
  return { acked, refused };
}

export async function makeStack(
  env: TestWorkflowEnvironment,
  opts: { settings?: Partial<AmplitudeIngestSettings>; shards?: number; hooks?: WarehouseHooks; ingest?: Partial<TemporalIngestOptions>; client?: Client; limits?: Partial<IngestLimits>; env?: Record<string, string> } = {},
): Promise<Stack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'amp-webhook-'));
  const taskQueue = `amp-webhook-${process.pid}-${++stacks}`;
  const config = buildConfig({ TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: taskQueue, DATA_DIR: dir, WEBHOOK_SECRET: SECRET, WEBHOOK_HOST: '127.0.0.1', WEBHOOK_BODY_LIMIT_BYTES: '65536', ...opts.env }, dir);
  const deps = await buildDeps(config, log);
  if (opts.hooks && config.warehouse.kind === 'duckdb') {
    await deps.warehouse.close();
    deps.warehouse = await openDuckDBWarehouse({ path: config.warehouse.path, hooks: opts.hooks });
  }
  const server = await startWebhookServer({
    config,
    log,
    client: opts.client ?? env.client,
    port: 0,
    limits: opts.limits,
    ingest: { workflowIdPrefix: `amplitude-ingest-${taskQueue}`, shards: opts.shards ?? 3, timeoutMs: 3_000, settings: { maxAgeMs: 100, flushTimeout: '5 seconds', ...opts.settings }, ...opts.ingest },
  });
  const stack: Stack = {
    config,
    deps,
    server,
    taskQueue,
    post: async (body, headers = { [SECRET_HEADER]: SECRET }) => {
      const res = await fetch(server.amplitudeUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    waitForIngest: async (received, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      let last: AmplitudeIngestStatus | undefined;
      while (Date.now() < deadline) {
        last = await ingestStatus(env.client, server.ingest.workflowIds);
        if (last.received >= received && last.pending === 0) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`ingest did not settle: ${JSON.stringify(last)} (expected ${received} received)`);
    },
    silverUuids: async () => {
      // The first flush creates the table: before it, silver is empty.
      await deps.warehouse.ensureSchema({ silver: [amplitudeEventsSilver] });
      return (await deps.warehouse.query<{ uuid: string }>('SELECT uuid FROM silver.amplitude_events')).map((r) => r.uuid);
    },
    close: async () => {
      await server.close();
      await deps.warehouse.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Starts a worker for the stack's queue and keeps it running in the background. */
export async function startWorker(env: TestWorkflowEnvironment, bundle: WorkflowBundleWithSourceMap, stack: Stack, graceMs = 5_000): Promise<{ worker: Worker; stop(): Promise<void> }> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: stack.taskQueue,
    workflowBundle: bundle,
    activities: createActivities(stack.deps),
    shutdownGraceTime: `${graceMs}ms`,
    // A dead worker's sticky queue would hold workflow tasks for 10 s before the rescuer sees them.
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

/** Sum of the ingest shards' status; a shard never signalled counts as empty. */
export async function ingestStatus(client: Client, workflowIds: string[]): Promise<AmplitudeIngestStatus> {
  const sum: AmplitudeIngestStatus = { received: 0, rejected: 0, flushed: 0, flushes: 0, pending: 0, runs: 0 };
  for (const id of workflowIds) {
    try {
      const s = await client.workflow.getHandle(id).query<AmplitudeIngestStatus>(AMPLITUDE_INGEST_STATUS_QUERY);
      for (const k of Object.keys(sum) as (keyof AmplitudeIngestStatus)[]) sum[k] += s[k];
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return sum;
}
