import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { buildConfig } from '../../config/config';
import { dataConverterFor } from '../../lib/codec/data-converter';
import { freePort } from '../helpers/ports';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { openDuckDBWarehouse } from '../../connectors/warehouse';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../sandbox/salesforce';
import { SEED_AS_OF } from '../../sandbox/seed/salesforce';
import { startDriftEmulator, type DriftEmulator } from '../../sandbox/drift';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';
import { startBigQueryEmulator, type BigQueryEmulator } from '../../sandbox/bigquery';
import { backfillProgress, startBackfill } from '../../client/backfill';
import { ingestWorkflowId } from '../../workflows/amplitude-ingest-names';
import type { BackfillOptions, BackfillSummary } from '../../ports/backfill';
import type { SyncActivityOverrides } from '../../workflows/sync-stream';
import type { SyncSourceSummary } from '../../workflows/sync-source';
import { ingestStatus } from '../helpers/amplitude-webhook';
import { TEST_OUTPUT } from '../helpers/paths';
import { killAll, waitUntil } from './processes';
import { startPostgres, type Postgres } from './postgres';
import { createNamespace, setupSchema, startCodecServer, startTemporalServer, startUiServer, type TemporalServer, type UiServer } from './temporal-cluster';
import { startWebhookProc, startWorkerProc, type PlatformEnv, type WebhookProc, type WorkerProc } from './app-processes';
import { promtool, renderPrometheusConfig, startPrometheus, type Prometheus } from './prometheus';
import { WebhookTraffic } from './traffic';
import { amplitudeMismatch, driftTruth, salesforceTruth, segmentTruth, silverMismatches } from './truth';

/**
 * The production topology on this machine: PostgreSQL 15, the Temporal server and the UI server
 * built from their Go modules and configured from deploy/temporal/ (as docker-compose.yml runs
 * them), two `npm run worker` and two `npm run webhook` processes, and Prometheus with deploy/'s
 * configuration scraping them. The emulators stand in for Salesforce, Drift, BigQuery and Amplitude.
 * A Salesforce sync, a Drift sync, a Segment backfill (two windows at once, so that its reading and
 * sending steps run on both workers while the owner writes) and webhook traffic run at the same time
 * while the worker running the flows is SIGKILLed (the standby takes over, a new worker joins) and
 * the Temporal server restarts; silver and Amplitude must then hold every record exactly once.
 */

const SECRET = 'topology-webhook-secret-0123456789';
const SECRET_HEADER = 'x-novade-webhook-secret';
const SHARDS = 4;
/** Payloads are encrypted in Temporal, as in production (docs/privacy-and-secrets.md). */
const CODEC_KEYS = `novade-topology:${randomBytes(32).toString('base64')}`;

/** Heartbeats and retries short enough that a killed worker's activities move on within seconds. */
const SYNC_OVERRIDES: SyncActivityOverrides = {
  heartbeatTimeout: '5 seconds',
  startToCloseTimeout: '3 minutes',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s', maximumAttempts: 100 },
};
const BACKFILL_OPTIONS: BackfillOptions = {
  windowHours: 24,
  pageSize: 40,
  pagesPerStep: 3,
  stepBudgetMs: 5_000,
  stepsPerRun: 10,
  activity: { heartbeatTimeout: '5s', startToCloseTimeout: '3 minutes', retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s', maximumAttempts: 100 } },
};

const phases: { name: string; seconds: number }[] = [];
async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    const seconds = (performance.now() - t0) / 1000;
    phases.push({ name, seconds });
    process.stdout.write(`[topology] ${name}: ${seconds.toFixed(1)} s\n`);
  }
}

let dir: string;
let logDir: string;
let pg: Postgres | undefined;
let temporal: TemporalServer | undefined;
let ui: UiServer | undefined;
let codecServer: { url: string; proc: { stop(): Promise<unknown> } } | undefined;
let prom: Prometheus | undefined;
let sf: SalesforceEmulator;
let drift: DriftEmulator;
let amp: AmplitudeEmulator;
let bq: BigQueryEmulator;
let platform: PlatformEnv;
const workers: WorkerProc[] = [];
const webhooks: WebhookProc[] = [];
const driftNow = Date.now();

function prometheusTargets(): Record<string, string[]> {
  const live = workers.filter((w) => w.proc.running());
  return {
    'novade-worker': live.map((w) => w.appMetrics),
    'temporal-sdk': live.map((w) => w.sdkMetrics),
    'novade-webhook': webhooks.map((h) => h.target),
    'temporal-server': [temporal!.metricsAddress],
  };
}

async function owners(): Promise<string[]> {
  const live = workers.filter((w) => w.proc.running());
  const flags = await Promise.all(live.map((w) => w.owner()));
  return live.filter((_, i) => flags[i]).map((w) => w.name);
}

beforeAll(async () => {
  const t0 = performance.now();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-topology-'));
  logDir = path.join(TEST_OUTPUT, 'topology', new Date().toISOString().replace(/[:.]/g, '-'));
  fs.mkdirSync(logDir, { recursive: true });
  process.stdout.write(`[topology] process logs in ${logDir}\n`);

  pg = await phase('PostgreSQL 15 cluster', () => startPostgres(dir, logDir));
  await phase('schemas (temporal-sql-tool)', () => setupSchema(pg!, logDir));
  temporal = await phase('Temporal server', () => startTemporalServer(pg!, logDir));
  await phase('default namespace', () => createNamespace(temporal!.address, logDir));
  const uiPort = await freePort();
  codecServer = await phase('codec server', () => startCodecServer({ codecKeys: CODEC_KEYS, uiOrigin: `http://127.0.0.1:${uiPort}`, logDir }));
  [ui, [sf, drift, amp, bq]] = await phase('UI server and emulators', () =>
    Promise.all([
      startUiServer({ temporalAddress: temporal!.address, port: uiPort, codecEndpoint: codecServer!.url, logDir }),
      Promise.all([
        startSalesforceEmulator({ port: 0, scale: 0.02, now: () => new Date(SEED_AS_OF + 10 * 60_000), bulkJobDurationMs: 50 }),
        startDriftEmulator({ port: 0, scale: 0.05, now: () => new Date(driftNow), token: SANDBOX.drift.token }),
        startAmplitudeEmulator({ port: 0, apiKeys: [SANDBOX.amplitude.apiKey] }),
        startBigQueryEmulator({ rowsPerTable: { tracks: 900, identifies: 150, pages: 300 }, seed: 11, from: '2024-01-01T00:00:00Z', to: '2024-02-01T00:00:00Z' }),
      ] as const),
    ] as const),
  );
  platform = {
    temporalAddress: temporal.address,
    taskQueue: 'novade-sync',
    // One data directory, as the compose volume: the workers share the DuckDB file, one at a time.
    dataDir: path.join(dir, 'data'),
    webhookSecret: SECRET,
    services: {
      SALESFORCE_LOGIN_URL: sf.url,
      SALESFORCE_AUTH: 'client_credentials',
      SALESFORCE_CLIENT_ID: SANDBOX.salesforce.clientId,
      SALESFORCE_CLIENT_SECRET: SANDBOX.salesforce.clientSecret,
      SALESFORCE_BULK_THRESHOLD: '500',
      DRIFT_BASE_URL: drift.url,
      DRIFT_TOKEN: SANDBOX.drift.token,
      DRIFT_VERIFICATION_TOKEN: SANDBOX.drift.verificationToken,
      AMPLITUDE_SERVER_URL: amp.url,
      AMPLITUDE_API_KEY: SANDBOX.amplitude.apiKey,
      BIGQUERY_PROJECT: bq.projectId,
      BIGQUERY_API_ENDPOINT: bq.url,
      SEGMENT_DATASET: bq.dataset,
      WEBHOOK_INGEST_SHARDS: String(SHARDS),
      TEMPORAL_CODEC_KEYS: CODEC_KEYS,
    },
  };
  await phase('two workers and two webhooks', async () => {
    workers.push(...(await Promise.all([startWorkerProc('worker-a', platform, logDir), startWorkerProc('worker-b', platform, logDir)])));
    // A request Temporal has not accepted within 1 s is refused (503) and sent again by the traffic, as
    // Amplitude does: the server's restart then exercises the refusal path, not only a slower answer.
    const hookEnv = { WEBHOOK_INGEST_TIMEOUT_MS: '1000' };
    webhooks.push(...(await Promise.all([startWebhookProc('webhook-a', platform, logDir, hookEnv), startWebhookProc('webhook-b', platform, logDir, hookEnv)])));
    // Both opened the same DuckDB file: one holds it and runs the flows, the other waits.
    await waitUntil('one worker to hold the warehouse', owners, (o) => o.length === 1, 120_000);
  });
  prom = await phase('Prometheus', () => startPrometheus(dir, prometheusTargets(), logDir));
  process.stdout.write(`[topology] set-up total: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}, 600_000);

afterAll(async () => {
  const t0 = performance.now();
  for (const stop of [() => prom?.proc.stop(), () => Promise.all(webhooks.map((h) => h.proc.stop())), () => Promise.all(workers.map((w) => w.proc.stop())), () => ui?.proc.stop(), () => codecServer?.proc.stop(), () => temporal?.stop(), () => pg?.stop()])
    await Promise.resolve(stop()).catch(() => undefined);
  await killAll();
  await Promise.all([sf?.close(), drift?.close(), amp?.close(), bq?.close()].map((p) => p?.catch(() => undefined)));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`[topology] tear-down: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`[topology] phases:\n${phases.map((p) => `  ${p.name.padEnd(48)} ${p.seconds.toFixed(1).padStart(7)} s`).join('\n')}\n`);
}, 180_000);

/** A workflow's result once it has closed; the client rides out the server's restart by asking again. */
async function resultOf<T>(handle: WorkflowHandle, timeoutMs: number): Promise<T> {
  await waitUntil(`${handle.workflowId} to close`, async () => (await handle.describe()).status.name, (s) => s !== 'RUNNING', timeoutMs, 1_000);
  return (await handle.result()) as T;
}

describe('production topology: Temporal on PostgreSQL, two workers, two webhooks, Prometheus', () => {
  it('keeps every flow exactly once through a worker SIGKILL and a Temporal server restart', async () => {
    const connection = await Connection.connect({ address: temporal!.address });
    const config = buildConfig({ TEMPORAL_TASK_QUEUE: platform.taskQueue, SEGMENT_DATASET: bq.dataset, TEMPORAL_CODEC_KEYS: CODEC_KEYS }, dir);
    const client = new Client({ connection, namespace: 'default', dataConverter: dataConverterFor(config.temporal.codec) });
    try {
      // The UI server is in front of this server: it lists the namespace.
      const namespaces = (await (await fetch(`${ui!.url}/api/v1/namespaces`)).json()) as { namespaces?: { namespaceInfo?: { name?: string } }[] };
      expect(namespaces.namespaces?.map((n) => n.namespaceInfo?.name)).toContain('default');
      // ... and points the browser at the codec server for encrypted payloads.
      const settings = (await (await fetch(`${ui!.url}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
      expect(settings.Codec?.Endpoint).toBe(codecServer!.url);

      // Slow services until the server has restarted, so that every flow is still running when the
      // worker dies and when the server goes down; then full speed to the end.
      const slow = () => {
        sf.faults.set({ '*': { latencyMs: 400 } });
        drift.faults.set({ '*': { latencyMs: 300 } });
        amp.faults.set({ 'POST /batch': { latencyMs: 250 }, 'POST /2/httpapi': { latencyMs: 250 } });
      };
      const fast = () => [sf.faults, drift.faults, amp.faults].forEach((f) => f.clear());
      slow();

      const traffic = new WebhookTraffic({ urls: webhooks.map((h) => h.url), secret: SECRET, secretHeader: SECRET_HEADER });
      const { sfHandle, driftHandle, backfill } = await phase('flows started', async () => {
        const sfHandle = await client.workflow.start('syncSourceWorkflow', { taskQueue: platform.taskQueue, workflowId: 'topology-salesforce', args: [{ source: 'salesforce', activityOverrides: SYNC_OVERRIDES }] });
        const driftHandle = await client.workflow.start('syncSourceWorkflow', { taskQueue: platform.taskQueue, workflowId: 'topology-drift', args: [{ source: 'drift', activityOverrides: SYNC_OVERRIDES }] });
        const { workflowId, input } = await startBackfill(client, config, { from: '2024-01-01', to: '2024-01-31', options: BACKFILL_OPTIONS, taskQueue: platform.taskQueue, parallel: 2 });
        // DuckDB: the lanes' steps go to the queue every worker polls, their writes to the owner.
        expect(input.ioTaskQueue).toBe(`${platform.taskQueue}-backfill-io`);
        traffic.start();
        return { sfHandle, driftHandle, backfill: client.workflow.getHandle(workflowId) };
      });

      // The worker running the flows dies without a chance to clean up, mid-run.
      const [ownerName] = await owners();
      const owner = workers.find((w) => w.name === ownerName)!;
      const standby = workers.find((w) => w.name !== ownerName && w.proc.running())!;
      // Mid-run: each flow has delivered some of its events, none all of them.
      const sent = (prefix: string) => amp.store.list().filter((e) => String(e.insertId).startsWith(prefix)).length;
      const atKill = await phase('flows under way before the kill', () =>
        waitUntil('events of every flow delivered', () => backfillProgress(backfill), (p) => p.sent > 50 && sent('sf:') > 0 && sent('drift:') > 0 && traffic.acked.size > 100, 180_000, 250),
      );
      expect(atKill.state).toBe('running');
      const killedPid = owner.workerPid();
      const runningAtKill = await Promise.all([sfHandle, driftHandle, backfill].map(async (h) => (await h.describe()).status.name));
      await phase(`SIGKILL ${owner.name} (pid ${killedPid}), ${standby.name} takes over`, async () => {
        process.kill(killedPid, 'SIGKILL');
        await owner.proc.exited;
        await waitUntil(`${standby.name} to take over the warehouse`, () => standby.owner(), (o) => o, 60_000);
      });
      expect(runningAtKill).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
      const standbyPid = standby.workerPid();
      // A replacement joins (as a standby, since worker-b holds the warehouse now) while the flows go on.
      const joining = startWorkerProc('worker-c', platform, logDir);

      // The Temporal server restarts while the flows run on the new owner.
      const beforeRestart = await phase('flows move on the new owner', () => waitUntil('backfill progress after the takeover', () => backfillProgress(backfill), (p) => p.sent > atKill.sent, 180_000, 250));
      const runningAtRestart = await Promise.all([sfHandle, driftHandle, backfill].map(async (h) => (await h.describe()).status.name));
      const { downMs } = await phase('Temporal server restart', () => temporal!.restart());
      fast();
      process.stdout.write(`[topology] server down ${downMs} ms; backfill at kill: sent ${atKill.sent}, at restart: sent ${beforeRestart.sent}; flows (salesforce, drift, backfill) at kill ${runningAtKill.join(',')}, at restart ${runningAtRestart.join(',')}\n`);
      expect(runningAtRestart.filter((s) => s === 'RUNNING').length).toBeGreaterThanOrEqual(2);
      const joined = await phase('a third worker joins (standby)', () => joining);
      workers.push(joined);
      expect(await joined.owner()).toBe(false);
      const joinedPid = joined.workerPid();

      const [sfSummary, driftSummary, backfillSummary] = await phase('flows finish', () =>
        Promise.all([resultOf<SyncSourceSummary>(sfHandle, 300_000), resultOf<SyncSourceSummary>(driftHandle, 300_000), resultOf<BackfillSummary>(backfill, 300_000)]),
      );
      expect(sfSummary.failed).toEqual([]);
      // Temporal stored the run's input encrypted; the codec server gives it back to the Web UI's origin.
      const history = await sfHandle.fetchHistory();
      const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      expect(Buffer.from(input?.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
      expect(Buffer.from(input?.data ?? []).toString()).not.toContain('salesforce');
      const decoded = await fetch(`${codecServer!.url}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: ui!.url },
        body: JSON.stringify({ payloads: [{ metadata: Object.fromEntries(Object.entries(input?.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])), data: Buffer.from(input?.data ?? []).toString('base64') }] }),
      });
      const plain = ((await decoded.json()) as { payloads: { data: string }[] }).payloads[0];
      expect(JSON.parse(Buffer.from(plain.data, 'base64').toString())).toMatchObject({ source: 'salesforce' });
      expect(driftSummary.failed).toEqual([]);
      await phase('webhook traffic stops', () => traffic.stop());
      expect(traffic.abandoned).toEqual([]);
      expect(traffic.acked.size).toBe(traffic.sent.size);
      process.stdout.write(`[topology] webhook: ${traffic.sent.size} events acknowledged, ${traffic.retries} requests retried (${JSON.stringify(Object.fromEntries(traffic.statuses))})\n`);
      const shardIds = Array.from({ length: SHARDS }, (_, i) => ingestWorkflowId('amplitude-ingest', i));
      await phase('webhook events flushed', () => waitUntil('the ingest shards to flush', () => ingestStatus(client, shardIds), (s) => s.received >= traffic.acked.size && s.pending === 0, 180_000, 500));

      // Prometheus scrapes the processes now running (the killed worker's targets dropped, the new one's added).
      await phase('Prometheus: every target up', async () => {
        fs.writeFileSync(prom!.configFile, renderPrometheusConfig(prometheusTargets()));
        expect(await promtool(['check', 'config', prom!.configFile])).toMatch(/is valid prometheus config file syntax/);
        process.kill(prom!.proc.pid, 'SIGHUP');
        const targets = await waitUntil(
          'every target up',
          () => prom!.targets(),
          (t) => t.length === 2 * 2 + 2 + 1 && t.every((x) => x.health === 'up'),
          60_000,
          500,
        );
        expect(new Set(targets.map((t) => t.job))).toEqual(new Set(['novade-worker', 'temporal-sdk', 'novade-webhook', 'temporal-server']));
        const flowWorkers = await prom!.query('sum(novade_worker_warehouse_owner)');
        expect(flowWorkers.map((r) => Number(r.value[1]))).toEqual([1]);
        const rules = (await (await fetch(`${prom!.url}/api/v1/rules?type=alert`)).json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } };
        const loaded = rules.data.groups.flatMap((g) => g.rules);
        expect(loaded.length).toBeGreaterThanOrEqual(7);
        expect(loaded.filter((r) => r.health !== 'ok' && r.health !== 'unknown')).toEqual([]);
      });

      // The workers drain and close the warehouse; then silver is read from the file they shared.
      await phase('workers stop (SIGTERM, drained)', () => Promise.all(workers.filter((w) => w.proc.running()).map((w) => stopWorker(w))));
      const sfTruth = salesforceTruth(sf);
      const driftTruthNow = driftTruth(drift, driftNow);
      const segTruth = segmentTruth(bq);
      const wh = await openDuckDBWarehouse({ path: path.join(platform.dataDir, 'warehouse.duckdb'), readOnly: true });
      try {
        const key = (table: string) => (table === 'silver.drift_meetings' ? 'event_id' : table === 'silver.amplitude_events' ? 'uuid' : 'id');
        const mismatches = await silverMismatches(wh, { ...sfTruth.silver, ...driftTruthNow.silver, ...segTruth.silver, 'silver.amplitude_events': traffic.sent }, key);
        expect(mismatches).toEqual([]);
      } finally {
        await wh.close();
      }
      const want = new Set([...sfTruth.insertIds, ...driftTruthNow.insertIds, ...segTruth.insertIds]);
      const got = amp.store.list().map((e) => e.insertId as string);
      expect(amplitudeMismatch(got, want)).toEqual({ count: want.size, distinct: want.size, missing: [], extra: [], missingCount: 0, extraCount: 0 });
      expect(backfillSummary.progress).toMatchObject({ state: 'completed', outcome: 'finished', rowsRead: segTruth.distinct, sent: segTruth.insertIds.size, rejected: segTruth.rejected, windowsDone: 31 });
      expect(backfillSummary.progress.lanes?.map((l) => l.windowsDone > 0)).toEqual([true, true]);
      // Both workers read and sent windows (Temporal's history names the worker of every step), the standby included.
      const stepWorkers = await stepWorkersOf(client, backfill.workflowId);
      process.stdout.write(`[topology] backfill steps per worker: ${JSON.stringify(stepWorkers)}; lanes: ${JSON.stringify(backfillSummary.progress.lanes?.map((l) => ({ lane: l.lane, windows: l.windowsDone, rows: l.rowsRead })))}\n`);
      expect(Object.keys(stepWorkers.backfillFetchStep ?? {}).some((id) => id.startsWith(`${standbyPid}@`))).toBe(true);
      expect(Object.keys(stepWorkers.backfillFetchStep ?? {}).some((id) => id.startsWith(`${killedPid}@`))).toBe(true);
      // The worker that joined stayed a standby to the end, and read and sent windows all the same.
      expect(stepWorkers.backfillFetchStep?.[Object.keys(stepWorkers.backfillFetchStep ?? {}).find((id) => id.startsWith(`${joinedPid}@`)) ?? '']).toBeGreaterThan(0);
      // The warehouse writes stayed with whichever worker held the file.
      expect(Object.keys(stepWorkers.backfillStoreStep ?? {}).every((id) => id.startsWith(`${killedPid}@`) || id.startsWith(`${standbyPid}@`))).toBe(true);
      process.stdout.write(
        `[topology] exactly once: ${want.size} Amplitude events (${amp.store.duplicates().length} resends absorbed by insert_id: ${JSON.stringify(resendsByFlow())}), ${traffic.sent.size} webhook events, ${Object.values({ ...sfTruth.silver, ...driftTruthNow.silver, ...segTruth.silver }).reduce((n, s) => n + s.size, 0)} synced silver rows\n`,
      );
      // The standby said why it waited and when it took over.
      expect(fs.readFileSync(standby.proc.log, 'utf8')).toContain('this worker takes over the flows');
    } finally {
      await connection.close();
    }
  }, 900_000);
});

/** Resends Amplitude deduplicated, per insert_id prefix (sf, drift, seg, ...). */
function resendsByFlow(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of amp.store.duplicates()) {
    const flow = d.insertId.split(':')[0];
    out[flow] = (out[flow] ?? 0) + 1;
  }
  return out;
}

/** Activity type → worker identity → steps started, over every run of a workflow (it continues as new). */
async function stepWorkersOf(client: Client, workflowId: string): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  const first = (await client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined;
  for (let runId: string | undefined = first; runId; ) {
    const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    const types = new Map<string, string>();
    for (const e of events) if (e.activityTaskScheduledEventAttributes) types.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    for (const e of events) {
      const started = e.activityTaskStartedEventAttributes;
      if (!started) continue;
      const type = types.get(String(started.scheduledEventId)) ?? '?';
      const who = started.identity ?? '?';
      out[type] = { ...out[type], [who]: (out[type]?.[who] ?? 0) + 1 };
    }
    runId = events.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return out;
}

/** SIGTERM to the worker itself (not its npm/relay group: a second signal would cut its drain short). */
async function stopWorker(w: WorkerProc): Promise<void> {
  process.kill(w.workerPid(), 'SIGTERM');
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000).unref());
  const result = await Promise.race([w.proc.exited, timer]);
  if (result === 'timeout') throw new Error(`${w.name} did not stop within 60 s of SIGTERM. Log tail:\n${w.proc.tail()}`);
  expect(result.code, `${w.name} exit code. Log tail:\n${w.proc.tail()}`).toBe(0);
}
