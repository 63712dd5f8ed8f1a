import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { temporal } from '@temporalio/proto';
import { startDevServer } from '../helpers/temporal';
import { startDevServer as startFileDevServer, type DevServer } from '../../lib/dev-server';
import { freePort } from '../helpers/ports';
import { TEMPORAL_CLI } from '../helpers/paths';
import { startSplitBackfillWorkers, stopChild } from '../helpers/spawn-backfill-activity-worker';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy';
import { WORKFLOWS_PATH } from '../../workers/workflows-path';
import { buildConfig, type AppConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { buildDeps } from '../../workers/deps';
import { createWorker } from '../../workers/worker';
import { openDuckDBWarehouse } from '../../connectors/warehouse';
import { startBigQueryEmulator, type BigQueryEmulator } from '../../sandbox/bigquery';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';
import { backfillProgress, startBackfill, pauseBackfill, resumeBackfill, cancelBackfill, setBackfillRate, BackfillUsageError } from '../../client/backfill';
import { runCli } from '../../client/cli';
import { CliContext } from '../../client/cli-context';
import {
  BACKFILL_WORKFLOW_TYPE,
  backfillWorkflowId,
  type BackfillCarry,
  type BackfillInput,
  type BackfillOptions,
  type BackfillProgress,
  type BackfillSummary,
} from '../../ports/backfill';
import type { SegmentSeedRow } from '../../sandbox/seed/segment';

/**
 * The Segment backfill end to end: the real Temporal dev server and workflow bundle, the BigQuery
 * emulator seeded with Segment tables (duplicates, ties, unmappable rows included), the Amplitude
 * emulator and DuckDB. Expectations come from the generator's truth and the rules.
 */

const TABLES = ['tracks', 'identifies', 'pages'] as const;
const TO = '2024-01-31';
/** One workflow id per test (a range is never started twice): leading days before the data are empty. */
let FROM = '2024-01-01';
let nextDay = 10;
const log = createLogger({ level: 'silent' });

/** Small pages, short steps and quick retries, so that a month of data makes many pages and steps. */
const FAST: BackfillOptions = {
  windowHours: 24,
  pageSize: 12,
  pagesPerStep: 4,
  stepBudgetMs: 5_000,
  stepsPerRun: 8,
  activity: { heartbeatTimeout: '3s', retry: { initialInterval: '50ms', backoffCoefficient: 1.5, maximumInterval: '500ms', maximumAttempts: 200 } },
};

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let bq: BigQueryEmulator;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  [env, bundle, bq] = await Promise.all([
    startDevServer(),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }),
    startBigQueryEmulator({ rowsPerTable: { tracks: 900, identifies: 150, pages: 300 }, seed: 11, from: '2024-01-01T00:00:00Z', to: '2024-02-01T00:00:00Z' }),
  ]);
}, 240_000);
afterAll(async () => {
  await env?.teardown();
  await bq?.close();
});

interface Expected {
  distinct: number;
  physical: number;
  insertIds: Set<string>;
  silverIds: Record<string, Set<string>>;
  perType: Record<string, number>;
  rejected: number;
}

/** From the generator and the rules: a track needs an event name; every event needs user_id or anonymous_id. */
function expected(tables: readonly string[] = TABLES): Expected {
  const out: Expected = { distinct: 0, physical: 0, insertIds: new Set(), silverIds: {}, perType: {}, rejected: 0 };
  for (const table of tables) {
    const rows: SegmentSeedRow[] = bq.expected.rows(table as (typeof TABLES)[number]);
    out.distinct += rows.length;
    out.physical += bq.expected.truth(table as (typeof TABLES)[number]).rows;
    out.silverIds[table] = new Set(rows.filter((r) => table !== 'tracks' || r.event !== null).map((r) => r.id as string));
    for (const r of rows) {
      const type = table === 'tracks' ? (r.event as string | null) : table === 'identifies' ? '$identify' : r.name ? `Viewed ${r.name as string}` : 'Page Viewed';
      if (type === null || (r.user_id === null && r.anonymous_id === null)) {
        out.rejected++;
        continue;
      }
      out.insertIds.add(`seg:${r.id as string}`);
      out.perType[type] = (out.perType[type] ?? 0) + 1;
    }
  }
  return out;
}

interface World {
  amp: AmplitudeEmulator;
  config: AppConfig;
  dir: string;
  taskQueue: string;
  client: Client;
  close(): Promise<void>;
}

let world: World | undefined;
let extraCleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of extraCleanup.reverse()) await c().catch(() => undefined);
  extraCleanup = [];
  await world?.close();
  world = undefined;
});

let queues = 0;
async function makeWorld(opts: { bigqueryUrl?: string; temporalAddress?: string; client?: Client } = {}): Promise<World> {
  FROM = queues === 0 ? '2024-01-01' : `2023-12-${String(nextDay++).padStart(2, '0')}`;
  const amp = await startAmplitudeEmulator({ port: 0 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seg-backfill-'));
  const taskQueue = `seg-backfill-${process.pid}-${++queues}`;
  const config = buildConfig({ TEMPORAL_ADDRESS: opts.temporalAddress ?? env.address, TEMPORAL_TASK_QUEUE: taskQueue, DATA_DIR: dir, SYNC_INTERVAL: '1h' }, dir);
  config.bigquery = { projectId: bq.projectId, apiEndpoint: opts.bigqueryUrl ?? bq.url, dataset: bq.dataset, tables: [...TABLES] };
  config.amplitude.serverUrl = amp.url;
  const w: World = {
    amp,
    config,
    dir,
    taskQueue,
    client: opts.client ?? env.client,
    close: async () => {
      await amp.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  world = w;
  return w;
}

async function startWorker(w: World, connection: NativeConnection = env.nativeConnection): Promise<{ worker: Worker; running: Promise<void>; closeDeps: () => Promise<void> }> {
  const deps = await buildDeps(w.config, log);
  const worker = await createWorker({ config: w.config, deps, connection, workflowBundle: bundle, taskQueue: w.taskQueue });
  const running = worker.run().finally(() => deps.warehouse.close());
  extraCleanup.push(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
  });
  return { worker, running, closeDeps: () => deps.warehouse.close() };
}

async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch {
      // the workflow may not have had its first task yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 500)}`);
}

async function silverIds(dir: string, table: string): Promise<string[]> {
  const wh = await openDuckDBWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
  try {
    return (await wh.query(`SELECT id FROM silver.segment_${table}`)).map((r) => String(r.id));
  } finally {
    await wh.close();
  }
}

/** Amplitude holds exactly the expected events, each once; silver exactly the expected ids, each once. */
async function expectExactlyOnce(w: World, want: Expected, tables: readonly string[] = TABLES) {
  const got = w.amp.store.list().map((e) => e.insertId as string);
  expect(new Set(got).size, 'duplicate insert_ids in Amplitude').toBe(got.length);
  const missing = [...want.insertIds].filter((id) => !got.includes(id));
  const extra = got.filter((id) => !want.insertIds.has(id));
  expect({ missing: missing.slice(0, 5), extra: extra.slice(0, 5), count: got.length }).toEqual({ missing: [], extra: [], count: want.insertIds.size });
  for (const table of tables) {
    const ids = await silverIds(w.dir, table);
    expect(new Set(ids).size, `duplicate ids in silver.segment_${table}`).toBe(ids.length);
    expect(new Set(ids)).toEqual(want.silverIds[table]);
  }
}

function expectTotals(p: BackfillProgress, want: Expected) {
  expect({ state: p.state, outcome: p.outcome, rowsRead: p.rowsRead, sent: p.sent, rejected: p.rejected, written: p.written, perEventType: p.perEventType }).toEqual({
    state: 'completed',
    outcome: 'finished',
    rowsRead: want.distinct,
    sent: want.insertIds.size,
    rejected: want.rejected,
    written: Object.values(want.silverIds).reduce((n, s) => n + s.size, 0),
    perEventType: want.perType,
  });
}

const handleOf = (w: World, id: string): WorkflowHandle => w.client.workflow.getHandle(id);

describe('Segment backfill on Temporal, the BigQuery and Amplitude emulators and DuckDB', () => {
  it('moves the seeded month exactly once into Amplitude and silver, duplicates collapsed, across continue-as-new', async () => {
    const w = await makeWorld();
    const want = expected();
    expect(want.physical).toBeGreaterThan(want.distinct); // the source really holds duplicate ids
    expect(want.rejected).toBeGreaterThan(0);
    const { worker, running } = await startWorker(w);
    const { workflowId } = await startBackfill(w.client, w.config, { from: FROM, to: TO, options: FAST });
    expect(workflowId).toBe(`segment-backfill-${FROM}-2024-01-31-tracks+identifies+pages`);
    // The same range again is refused while it runs, with the way forward.
    await expect(startBackfill(w.client, w.config, { from: FROM, to: TO, tables: ['pages', 'identifies', 'tracks'], options: FAST })).rejects.toThrow(/already running.*backfill status --id/);

    // The operator watches it through the CLI (no terminal: one line per change) until it ends.
    const watchOut = new Capture();
    const watching = withTemporalAddress(() => runCli(['backfill', 'status', '--watch', '--id', workflowId], new CliContext(watchOut)));

    const summary = (await handleOf(w, workflowId).result()) as BackfillSummary;
    expect(await watching).toBe(0);
    const bars = watchOut.text.split('\n').filter((l) => l.startsWith('['));
    expect(bars.length).toBeGreaterThan(1);
    expect(bars.at(-1)).toMatch(/^\[#{30}\] 100\.0 %  completed  read \d+/);
    expect(watchOut.text).toMatch(/state\s+completed \(finished\)/);
    expect(watchOut.text).toContain(`read ${summary.progress.rowsRead}, sent ${summary.progress.sent}`);
    expect(watchOut.text).not.toMatch(/[\r\x1b]/);
    // A closed workflow still answers the progress query (a worker replays it).
    expect((await backfillProgress(handleOf(w, workflowId))).state).toBe('completed');
    worker.shutdown();
    await running;
    expectTotals(summary.progress, want);
    expect(summary.progress.generation).toBeGreaterThan(0);
    expect(summary.progress.pages).toBeGreaterThan(60);
    await expectExactlyOnce(w, want);
    expect(w.amp.store.duplicates()).toEqual([]);
    expect(w.amp.store.requests().every((r) => r.endpoint === 'POST /batch')).toBe(true);

    // A finished backfill is not started again either, and the query still answers.
    await expect(startBackfill(w.client, w.config, { from: FROM, to: TO, options: FAST })).rejects.toThrow(/already ran.*not started twice/);

    // Every rejected row is a dead letter with its reason.
    const wh = await openDuckDBWarehouse({ path: path.join(w.dir, 'warehouse.duckdb') });
    try {
      const dead = await wh.query(`SELECT stream, reason FROM ops.dead_letters WHERE flow = 'segment'`);
      expect(dead.length).toBe(want.rejected);
      expect(new Set(dead.map((d) => String(d.reason)))).toEqual(new Set(['event: event is null', 'neither user_id nor anonymous_id: Amplitude needs one of them']));
      const cursor = await wh.getSyncState(`segment_backfill:${workflowId}`);
      expect(cursor).toBeNull();
      // The run is recorded in ops.sync_runs like every other flow's, with the workflow's totals.
      const runs = await wh.listRuns({ flow: 'segment' });
      expect(runs.map((r) => ({ ...r, startedAt: undefined, finishedAt: undefined }))).toEqual([
        expect.objectContaining({ runId: workflowId, stream: `segment_backfill:${workflowId}`, status: 'succeeded', read: want.distinct, sent: want.insertIds.size, rejected: want.rejected, written: summary.progress.written }),
      ]);
      expect(runs[0].finishedAt!.getTime()).toBeGreaterThan(runs[0].startedAt.getTime());
    } finally {
      await wh.close();
    }
  }, 240_000);

  it('dry run reads and maps everything, reports per event type and rejections, and sends or writes nothing', async () => {
    const w = await makeWorld();
    const want = expected(['tracks', 'pages']);
    const { worker, running } = await startWorker(w);
    const { workflowId } = await startBackfill(w.client, w.config, { from: FROM, to: TO, tables: ['tracks', 'pages'], dryRun: true, options: { ...FAST, pageSize: 200 } });
    const summary = (await handleOf(w, workflowId).result()) as BackfillSummary;
    worker.shutdown();
    await running;
    expect(summary.progress.dryRun).toBe(true);
    expect(summary.progress.perEventType).toEqual(want.perType);
    expect(summary.progress.rowsRead).toBe(want.distinct);
    expect(summary.progress.rejected).toBe(want.rejected);
    expect(summary.progress.sent).toBe(0);
    expect(summary.progress.rejectedSamples.length).toBeGreaterThan(0);
    expect(w.amp.store.count()).toBe(0);
    const wh = await openDuckDBWarehouse({ path: path.join(w.dir, 'warehouse.duckdb') });
    try {
      expect(await wh.query(`SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'segment_%'`)).toEqual([]);
    } finally {
      await wh.close();
    }
  }, 240_000);

  it('pauses (nothing moves, no activity held), takes a new rate while running, resumes from its cursor to the same totals; status via the CLI', async () => {
    const w = await makeWorld();
    const want = expected();
    // Slow Amplitude down so the pause lands mid-run.
    w.amp.faults.set({ 'POST /batch': { latencyMs: 150 } });
    const { worker, running } = await startWorker(w);
    const { workflowId } = await startBackfill(w.client, w.config, { from: FROM, to: TO, options: FAST });
    const h = handleOf(w, workflowId);
    await waitFor('some progress', () => backfillProgress(h), (p) => p.sent > 0);

    await expect(setBackfillRate(h, -5)).rejects.toThrow(/positive number of events per second/);
    expect(await setBackfillRate(h, 5_000)).toBe(5_000);
    expect((await backfillProgress(h)).rateLimit).toBe(5_000);

    await pauseBackfill(h);
    const paused = await waitFor('paused', () => backfillProgress(h), (p) => p.state === 'paused');
    const events = w.amp.store.count();
    await new Promise((r) => setTimeout(r, 1_500));
    const still = await backfillProgress(h);
    expect({ sent: still.sent, read: still.rowsRead, cursor: still.cursor, events: w.amp.store.count() }).toEqual({ sent: paused.sent, read: paused.rowsRead, cursor: paused.cursor, events });
    expect(still.fraction).toBeLessThan(1);
    expect((await h.describe()).raw.pendingActivities ?? []).toEqual([]);

    // The operator's CLI sees it paused.
    const out = new Capture();
    process.env.TEMPORAL_ADDRESS = env.address;
    try {
      expect(await runCli(['backfill', 'status', '--id', workflowId], new CliContext(out))).toBe(0);
    } finally {
      delete process.env.TEMPORAL_ADDRESS;
    }
    expect(out.text).toMatch(/state\s+paused/);
    expect(out.text).toMatch(new RegExp(`read ${paused.rowsRead}, sent ${paused.sent}`));

    w.amp.faults.clear();
    await resumeBackfill(h);
    const summary = (await h.result()) as BackfillSummary;
    worker.shutdown();
    await running;
    expectTotals(summary.progress, want);
    await expectExactlyOnce(w, want);
  }, 240_000);

  it('a mistake only a person can fix pauses the backfill with a message saying what to fix, holding its cursor', async () => {
    const w = await makeWorld();
    w.config.bigquery.dataset = 'segment_typo';
    const { worker, running } = await startWorker(w);
    const { workflowId } = await startBackfill(w.client, w.config, { from: FROM, to: TO, options: FAST });
    const h = handleOf(w, workflowId);
    const p = await waitFor('paused by the error', () => backfillProgress(h), (x) => x.state === 'paused' && x.lastError !== null);
    expect(p.lastError).toMatch(/segment_typo.*not found.*SEGMENT_DATASET/);
    expect(p.cursor).toEqual({ windowStart: `${FROM}T00:00:00.000Z`, table: 0 });
    expect((await h.describe()).status.name).toBe('RUNNING');
    // Its run row says it is waiting on that error.
    const runs = await w.client.workflow.execute('statusWorkflow', { taskQueue: w.taskQueue, workflowId: `status-${workflowId}` });
    const row = (runs as { streams: { stream: string; lastRun?: { status: string; error?: string } }[] }).streams.find((s) => s.stream === `segment_backfill:${workflowId}`);
    expect(row?.lastRun).toMatchObject({ status: 'running', error: expect.stringMatching(/segment_typo.*not found/) });
    await cancelBackfill(h);
    expect(((await h.result()) as BackfillSummary).outcome).toBe('cancelled');
    worker.shutdown();
    await running;
  }, 120_000);

  it('past the 6-day re-send guard: pauses without sending, stays paused on a plain resume, sends once on resume --allow-late-resend', async () => {
    const w = await makeWorld();
    const want = expected();
    const { worker, running } = await startWorker(w);
    // A backfill that continued as new while a step from its first cursor had been failing since a
    // week ago (paused after an outage, resumed a week later): what it carries says so.
    const workflowId = backfillWorkflowId(FROM, TO, [...TABLES]);
    const cursor = { windowStart: `${FROM}T00:00:00.000Z`, table: 0 };
    const carry: BackfillCarry = {
      cursor,
      totals: { rowsRead: 0, sent: 0, written: 0, rejected: 0, pages: 0, activeMs: 0, bigqueryMs: 0, amplitudeMs: 0, warehouseMs: 0, pacedMs: 0 },
      perEventType: {},
      rejectedByReason: {},
      rejectedSamples: [],
      paused: false,
      rate: null,
      lastError: null,
      cursorFirstAttemptAt: Date.now() - 7 * 86_400_000,
      generation: 1,
    };
    const input: BackfillInput = { from: FROM, to: TO, tables: [...TABLES], dryRun: false, rate: null, options: FAST, carry };
    const started = await w.client.workflow.start(BACKFILL_WORKFLOW_TYPE, { taskQueue: w.taskQueue, workflowId, args: [input] });
    const h = handleOf(w, workflowId);
    // Counted over every run from the first one: the backfill continues as new every few steps.
    const refusals = async () => {
      let n = 0;
      for (let runId: string | undefined = started.firstExecutionRunId; runId; ) {
        const history: temporal.api.history.v1.IHistory = await w.client.workflow.getHandle(workflowId, runId).fetchHistory();
        const events = history.events ?? [];
        n += events.filter((e) => e.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.type === 'DedupWindowExpired').length;
        runId = events.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      }
      return n;
    };

    const p = await waitFor('paused by the guard', () => backfillProgress(h), (x) => x.state === 'paused' && x.lastError !== null);
    expect(p.lastError).toMatch(/first attempted 7\.0 days ago and may have been partly sent; Amplitude deduplicates insert_ids for 7 days only/);
    expect(p.lastError).toContain('--allow-late-resend');
    expect({ cursor: p.cursor, sent: p.sent, events: w.amp.store.count() }).toEqual({ cursor, sent: 0, events: 0 });
    expect(await refusals()).toBe(1);

    // A plain resume does not override it: the same step is refused again, still nothing sent.
    await resumeBackfill(h);
    await waitFor('a second refusal', refusals, (n) => n === 2);
    const again = await waitFor('paused again', () => backfillProgress(h), (x) => x.state === 'paused' && x.lastError !== null);
    expect({ cursor: again.cursor, events: w.amp.store.count() }).toEqual({ cursor, events: 0 });

    // The operator checked Amplitude and allows it through the CLI: the rest is sent exactly once.
    const out = new Capture();
    expect(await withTemporalAddress(() => runCli(['backfill', 'resume', '--id', workflowId, '--allow-late-resend'], new CliContext(out)))).toBe(0);
    const summary = (await h.result()) as BackfillSummary;
    worker.shutdown();
    await running;
    expect(await refusals()).toBe(2);
    expectTotals(summary.progress, want);
    await expectExactlyOnce(w, want);
  }, 240_000);

  it('cancel stops cleanly at a page boundary, keeping what was acknowledged', async () => {
    const w = await makeWorld();
    w.amp.faults.set({ 'POST /batch': { latencyMs: 100 } });
    const { worker, running } = await startWorker(w);
    const { workflowId } = await startBackfill(w.client, w.config, { from: FROM, to: TO, options: FAST });
    const h = handleOf(w, workflowId);
    await waitFor('some progress', () => backfillProgress(h), (p) => p.pages >= 3);
    await cancelBackfill(h);
    const summary = (await h.result()) as BackfillSummary;
    worker.shutdown();
    await running;
    expect(summary.outcome).toBe('cancelled');
    expect(summary.progress.state).toBe('completed');
    expect(summary.progress.fraction).toBeLessThan(1);
    // Exactly what the totals say was sent is in Amplitude: the page in flight finished before stopping.
    expect(w.amp.store.count()).toBe(summary.progress.sent);
    const wh = await openDuckDBWarehouse({ path: path.join(w.dir, 'warehouse.duckdb') });
    try {
      expect(await wh.listRuns({ flow: 'segment' })).toEqual([expect.objectContaining({ runId: workflowId, status: 'stopped', sent: summary.progress.sent })]);
    } finally {
      await wh.close();
    }
  }, 240_000);

  it('survives its worker being killed mid-page: another worker finishes with the same totals and no duplicate insert_ids', async () => {
    const w = await makeWorld();
    const want = expected();
    w.amp.faults.set({ 'POST /batch': { latencyMs: 200 } });
    const spawnActivityWorker = await startSplitBackfillWorkers(
      { connection: env.nativeConnection, bundle, targets: { temporalAddress: env.address, taskQueue: w.taskQueue, dataDir: w.dir, bigquery: bq, amplitudeUrl: w.amp.url } },
      (fn) => extraCleanup.push(fn),
    );
    const first = await spawnActivityWorker();
    const { workflowId } = await startBackfill(w.client, w.config, { from: FROM, to: TO, options: FAST });
    const h = handleOf(w, workflowId);
    await waitFor('a few pages', () => backfillProgress(h), (p) => p.pages >= 8, 120_000);
    // Mid-page: a batch request is in flight (each takes 200 ms).
    const requestsBefore = w.amp.store.requests().length;
    await waitFor('a request in flight', async () => w.amp.store.requests().length, (n) => n > requestsBefore);
    await stopChild(first, 'SIGKILL');
    const second = await spawnActivityWorker();
    const summary = (await h.result()) as BackfillSummary;
    // The killed attempt's page was sent again (within seconds, inside Amplitude's 7-day window) and deduplicated there.
    await stopChild(second, 'SIGTERM');
    expectTotals(summary.progress, want);
    await expectExactlyOnce(w, want);
  }, 300_000);

  it('completes across a restart of a file-backed Temporal dev server mid-run', async () => {
    const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seg-backfill-temporal-'));
    const port = await freePort();
    const serverOpts = { binary: TEMPORAL_CLI, dbFile: path.join(dbDir, 'temporal.db'), port, uiPort: await freePort(), namespace: 'default', headless: true, log };
    let server: DevServer = await startFileDevServer(serverOpts);
    extraCleanup.push(async () => {
      await server.stop();
      fs.rmSync(dbDir, { recursive: true, force: true });
    });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const native = await NativeConnection.connect({ address: server.address });
    const w = await makeWorld({ temporalAddress: server.address, client });
    const want = expected();
    w.amp.faults.set({ 'POST /batch': { latencyMs: 50 } });
    const { worker, running } = await startWorker(w, native);
    extraCleanup.push(async () => {
      worker.shutdown();
      await running.catch(() => undefined);
      await native.close();
      await connection.close();
    });
    const { workflowId } = await startBackfill(client, w.config, { from: FROM, to: TO, options: FAST });
    await waitFor('some progress', () => backfillProgress(client.workflow.getHandle(workflowId)), (p) => p.pages >= 5, 120_000);
    await server.stop();
    await new Promise((r) => setTimeout(r, 1_000));
    server = await startFileDevServer(serverOpts);
    w.amp.faults.clear();
    const summary = (await waitFor('the result after the restart', () => client.workflow.getHandle(workflowId).result() as Promise<BackfillSummary>, () => true, 180_000)) as BackfillSummary;
    expectTotals(summary.progress, want);
    await expectExactlyOnce(w, want);
  }, 300_000);

  it('rides out Amplitude 429 and 5xx storms and BigQuery errors: slower, never lossy', async () => {
    const proxy: FaultProxy = await startFaultProxy(bq.url, 3);
    extraCleanup.push(() => proxy.close());
    const w = await makeWorld({ bigqueryUrl: proxy.url });
    const want = expected();
    w.amp.faults.set({ 'POST /batch': { errorRate: 0.25, statuses: [429, 500, 502, 503, 504], retryAfterSeconds: 0.05 } });
    w.amp.failAfterIngest('POST /batch', 5, 502); // ingested, yet answered 502: the resend must not duplicate
    proxy.set({ errorRate: 0.1, status: 503 });
    const { worker, running } = await startWorker(w);
    const { workflowId } = await startBackfill(w.client, w.config, { from: FROM, to: TO, options: FAST });
    const summary = (await handleOf(w, workflowId).result()) as BackfillSummary;
    worker.shutdown();
    await running;
    expect(proxy.injected()).toBeGreaterThan(5);
    expect(w.amp.faults.injected.get('POST /batch') ?? 0).toBeGreaterThan(5);
    expectTotals(summary.progress, want);
    await expectExactlyOnce(w, want);
  }, 300_000);
});

/** Runs a CLI command against this file's dev server (the CLI reads TEMPORAL_ADDRESS). */
async function withTemporalAddress<T>(fn: () => Promise<T>): Promise<T> {
  process.env.TEMPORAL_ADDRESS = env.address;
  try {
    return await fn();
  } finally {
    delete process.env.TEMPORAL_ADDRESS;
  }
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

