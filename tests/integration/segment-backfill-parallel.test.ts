import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServer } from '../helpers/temporal';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy';
import { WORKFLOWS_PATH } from '../../workers/workflows-path';
import { buildConfig, type AppConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { buildDeps } from '../../workers/deps';
import { createBackfillIoWorker, createWorker } from '../../workers/worker';
import { openDuckDBWarehouse } from '../../connectors/warehouse';
import { startBigQueryEmulator, type BigQueryEmulator } from '../../sandbox/bigquery';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';
import { backfillProgress, cancelBackfill, pauseBackfill, resumeBackfill, startBackfill } from '../../client/backfill';
import { runCli } from '../../client/cli';
import { CliContext } from '../../client/cli-context';
import { BACKFILL_WORKFLOW_TYPE, backfillWorkflowId, type BackfillInput, type BackfillOptions, type BackfillProgress, type BackfillSummary } from '../../ports/backfill';
import type { SegmentSeedRow } from '../../sandbox/seed/segment';

/**
 * `backfill start --parallel N` on the real Temporal dev server, the BigQuery and Amplitude emulators
 * and DuckDB (so the lanes' steps run on the reading and sending queue and the owner replays their
 * journals): the same events and rows as one window at a time, pause / resume / cancel over every
 * lane, and a window that keeps failing pausing the backfill without the others sending twice.
 */

const TABLES = ['tracks', 'identifies', 'pages'] as const;
const TO = '2024-01-31';
const log = createLogger({ level: 'silent' });
const FAST: BackfillOptions = {
  windowHours: 24,
  pageSize: 12,
  pagesPerStep: 4,
  stepBudgetMs: 5_000,
  stepsPerRun: 10,
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
  insertIds: Set<string>;
  silverIds: Record<string, Set<string>>;
  rejected: number;
}

function expected(): Expected {
  const out: Expected = { distinct: 0, insertIds: new Set(), silverIds: {}, rejected: 0 };
  for (const table of TABLES) {
    const rows: SegmentSeedRow[] = bq.expected.rows(table);
    out.distinct += rows.length;
    out.silverIds[table] = new Set(rows.filter((r) => table !== 'tracks' || r.event !== null).map((r) => r.id as string));
    for (const r of rows) {
      if ((table === 'tracks' && r.event === null) || (r.user_id === null && r.anonymous_id === null)) out.rejected++;
      else out.insertIds.add(`seg:${r.id as string}`);
    }
  }
  return out;
}

interface World {
  amp: AmplitudeEmulator;
  config: AppConfig;
  dir: string;
  from: string;
  /** Days from `from` to TO: the backfill's windows. */
  windows: number;
  /** Stops both workers (they hold the DuckDB file), so that the test can read it. */
  stopWorkers(): Promise<void>;
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  cleanup = [];
});

let worlds = 0;
/** A worker (the owner: workflows, warehouse) and its reading and sending worker, on their own queue, DuckDB file and Amplitude. */
async function makeWorld(opts: { bigqueryUrl?: string } = {}): Promise<World> {
  const n = ++worlds;
  // One workflow id per backfill (a range is never started twice): the leading December days hold no data.
  const from = `2023-12-${String(10 + n).padStart(2, '0')}`;
  const amp = await startAmplitudeEmulator({ port: 0 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seg-backfill-par-'));
  const taskQueue = `seg-backfill-par-${process.pid}-${n}`;
  const config = buildConfig({ TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: taskQueue, DATA_DIR: dir, SYNC_INTERVAL: '1h', BACKFILL_LANES_PER_WORKER: '3' }, dir);
  config.bigquery = { projectId: bq.projectId, apiEndpoint: opts.bigqueryUrl ?? bq.url, dataset: bq.dataset, tables: [...TABLES] };
  config.amplitude.serverUrl = amp.url;
  const deps = await buildDeps(config, log);
  const worker = await createWorker({ config, deps, connection: env.nativeConnection, workflowBundle: bundle, taskQueue });
  const ioWorker = await createBackfillIoWorker({ config, log, connection: env.nativeConnection, taskQueue });
  const running = Promise.all([worker.run(), ioWorker.run()]).finally(() => deps.warehouse.close());
  const stopWorkers = async () => {
    for (const w of [worker, ioWorker]) if (w.getState() === 'RUNNING') w.shutdown();
    await running.catch(() => undefined);
  };
  cleanup.push(async () => {
    await stopWorkers();
    await amp.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { amp, config, dir, from, windows: (Date.parse(TO) - Date.parse(from)) / 86_400_000 + 1, stopWorkers };
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
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 800)}`);
}

/** Silver's ids per table, and the backfill's stored cursors, read once the worker has closed the file. */
async function warehouseView(dir: string): Promise<{ silver: Record<string, string[]>; deadLetters: number; runs: { status: string; sent: number }[] }> {
  const wh = await openDuckDBWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
  try {
    const silver: Record<string, string[]> = {};
    for (const t of TABLES) silver[t] = (await wh.query(`SELECT id FROM silver.segment_${t}`)).map((r) => String(r.id));
    const deadLetters = Number((await wh.query(`SELECT count(*) AS n FROM ops.dead_letters WHERE flow = 'segment'`))[0].n);
    const runs = (await wh.listRuns({ flow: 'segment' })).map((r) => ({ status: r.status, sent: r.sent ?? 0 }));
    return { silver, deadLetters, runs };
  } finally {
    await wh.close();
  }
}

function expectExact(p: BackfillProgress, amp: AmplitudeEmulator, want: Expected) {
  expect({ state: p.state, outcome: p.outcome, rowsRead: p.rowsRead, sent: p.sent, rejected: p.rejected }).toEqual({
    state: 'completed',
    outcome: 'finished',
    rowsRead: want.distinct,
    sent: want.insertIds.size,
    rejected: want.rejected,
  });
  const got = amp.store.list().map((e) => e.insertId as string);
  expect(new Set(got).size, 'duplicate insert_ids in Amplitude').toBe(got.length);
  expect(new Set(got)).toEqual(want.insertIds);
}

describe('Segment backfill --parallel on Temporal, the emulators and DuckDB', () => {
  it('parallel 3 sends the same events and writes the same rows as parallel 1, each once, every lane taking windows', async () => {
    const want = expected();
    const one = await makeWorld();
    const three = await makeWorld();
    const started1 = await startBackfill(env.client, one.config, { from: one.from, to: TO, options: FAST });
    const started3 = await startBackfill(env.client, three.config, { from: three.from, to: TO, options: FAST, parallel: 3 });
    expect(started1.input.parallel).toBeUndefined();
    expect(started3.input).toMatchObject({ parallel: 3, ioTaskQueue: `${three.config.temporal.taskQueue}-backfill-io` });

    // The operator's status shows the totals and each lane while it runs.
    const h3 = env.client.workflow.getHandle(started3.workflowId);
    const mid = await waitFor('lanes at work', () => backfillProgress(h3), (p) => (p.lanes ?? []).filter((l) => l.rowsRead > 0).length === 3);
    expect(mid.parallel).toBe(3);
    const out = new Capture();
    expect(await withTemporalAddress(() => runCli(['backfill', 'status', '--id', started3.workflowId], new CliContext(out)))).toBe(0);
    expect(out.text).toMatch(new RegExp(`windows\\s+\\d+ of ${three.windows} done, 3 at once`));
    expect(out.text.match(/^ {2}lane \d/gm)?.length).toBe(3);

    const [s1, s3] = (await Promise.all([env.client.workflow.getHandle(started1.workflowId).result(), h3.result()])) as BackfillSummary[];
    expectExact(s1.progress, one.amp, want);
    expectExact(s3.progress, three.amp, want);
    expect(s3.progress.written).toBe(s1.progress.written);
    expect(s3.progress.generation).toBeGreaterThan(0);
    expect(s3.progress.windowsDone).toBe(three.windows);
    // Every lane read windows; together they read every row once.
    const lanes = s3.progress.lanes ?? [];
    expect(lanes.map((l) => l.windowsDone > 0)).toEqual([true, true, true]);
    expect(lanes.reduce((a, l) => a + l.rowsRead, 0)).toBe(want.distinct);
    expect(lanes.every((l) => l.lastWorker !== null)).toBe(true);

    await one.stopWorkers();
    await three.stopWorkers();
    const [v1, v3] = [await warehouseView(one.dir), await warehouseView(three.dir)];
    for (const t of TABLES) {
      expect(new Set(v3.silver[t]).size, `duplicate ids in silver.segment_${t}`).toBe(v3.silver[t].length);
      expect(new Set(v3.silver[t])).toEqual(want.silverIds[t]);
      expect(new Set(v1.silver[t])).toEqual(want.silverIds[t]);
    }
    expect(v3.deadLetters).toBe(v1.deadLetters);
    expect(v3.deadLetters).toBe(want.rejected);
    expect(v3.runs).toEqual([{ status: 'succeeded', sent: want.insertIds.size }]);
    // Every journal was replayed and removed; only the marks of replayed journals stay (for a retried store).
    const staged = fs.readdirSync(path.join(three.dir, 'backfill-staging'));
    expect(staged.filter((f) => !f.endsWith('.stored'))).toEqual([]);
    expect(staged.length).toBeGreaterThan(0);
  }, 300_000);

  it("where every worker writes the warehouse (Databricks), the lanes' steps do it all on the workflow's queue: same exactly-once totals", async () => {
    const want = expected();
    const w = await makeWorld();
    // What the CLI starts when WAREHOUSE=databricks: no reading and sending queue, no journal.
    const input: BackfillInput = { from: w.from, to: TO, tables: [...TABLES], dryRun: false, rate: null, options: FAST, parallel: 2 };
    const h = await env.client.workflow.start(BACKFILL_WORKFLOW_TYPE, { taskQueue: w.config.temporal.taskQueue, workflowId: backfillWorkflowId(w.from, TO, [...TABLES]), args: [input] });
    const done = (await h.result()) as BackfillSummary;
    expectExact(done.progress, w.amp, want);
    expect(done.progress.lanes?.map((l) => l.windowsDone > 0)).toEqual([true, true]);
    await w.stopWorkers();
    const view = await warehouseView(w.dir);
    for (const t of TABLES) expect(new Set(view.silver[t])).toEqual(want.silverIds[t]);
    expect(fs.existsSync(path.join(w.dir, 'backfill-staging'))).toBe(false);
    const history = await h.fetchHistory();
    const types = new Set((history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean));
    expect(types.has('backfillStep') && !types.has('backfillFetchStep') && !types.has('backfillStoreStep')).toBe(true);
  }, 300_000);

  it('pause holds every lane (no step pending, nothing moves), resume finishes exactly; cancel stops every lane after its page in flight', async () => {
    const want = expected();
    const w = await makeWorld();
    w.amp.faults.set({ 'POST /batch': { latencyMs: 150 } });
    const { workflowId } = await startBackfill(env.client, w.config, { from: w.from, to: TO, options: FAST, parallel: 3 });
    const h = env.client.workflow.getHandle(workflowId);
    await waitFor('lanes at work', () => backfillProgress(h), (p) => (p.lanes ?? []).filter((l) => l.sent > 0).length >= 2);
    await pauseBackfill(h);
    const paused = await waitFor('paused', () => backfillProgress(h), (p) => p.state === 'paused');
    expect(paused.lanes?.every((l) => l.state !== 'running')).toBe(true);
    const events = w.amp.store.count();
    await new Promise((r) => setTimeout(r, 1_500));
    const still = await backfillProgress(h);
    expect({ sent: still.sent, read: still.rowsRead, lanes: still.lanes?.map((l) => l.cursor), events: w.amp.store.count() }).toEqual({
      sent: paused.sent,
      read: paused.rowsRead,
      lanes: paused.lanes?.map((l) => l.cursor),
      events,
    });
    expect((await h.describe()).raw.pendingActivities ?? []).toEqual([]);
    expect(still.sent).toBe(events);
    w.amp.faults.clear();
    await resumeBackfill(h);
    const done = (await h.result()) as BackfillSummary;
    expectExact(done.progress, w.amp, want);

    // Cancel: every lane stops after its page in flight; what the totals say was sent is what Amplitude holds.
    const c = await makeWorld();
    // Each page takes a second from the start, so that the pages left (over a hundred) cannot all go
    // before the cancel lands, however late a loaded machine answers the progress queries below.
    c.amp.faults.set({ 'POST /batch': { latencyMs: 1_000 } });
    const cancelled = await startBackfill(env.client, c.config, { from: c.from, to: TO, options: FAST, parallel: 3 });
    const hc = env.client.workflow.getHandle(cancelled.workflowId);
    await waitFor('lanes at work', () => backfillProgress(hc), (p) => p.pages >= 6);
    await cancelBackfill(hc);
    const summary = (await hc.result()) as BackfillSummary;
    expect(summary.outcome).toBe('cancelled');
    expect(summary.progress.fraction).toBeLessThan(1);
    const got = c.amp.store.list().map((e) => e.insertId as string);
    expect(new Set(got).size).toBe(got.length);
    expect(got.length).toBe(summary.progress.sent);
    expect(c.amp.store.duplicates()).toEqual([]);
    await c.stopWorkers();
    const view = await warehouseView(c.dir);
    expect(view.runs).toEqual([{ status: 'stopped', sent: summary.progress.sent }]);
    expect(Object.values(view.silver).reduce((a, ids) => a + ids.length, 0)).toBe(summary.progress.written);
  }, 300_000);

  it('a window that keeps failing pauses the backfill naming it; the other lanes send nothing twice; resume finishes exactly', async () => {
    const want = expected();
    const proxy: FaultProxy = await startFaultProxy(bq.url, 5);
    cleanup.push(() => proxy.close());
    // Every BigQuery query of the window of 2024-01-15 fails (503, retryable) until the fault is lifted.
    proxy.set({ errorRate: 1, status: 503, match: /"value":"2024-01-15[^"]*"\},"name":"window_start"/ });
    const w = await makeWorld({ bigqueryUrl: proxy.url });
    const { workflowId } = await startBackfill(env.client, w.config, {
      from: w.from,
      to: TO,
      parallel: 3,
      options: { ...FAST, activity: { ...FAST.activity, retry: { ...FAST.activity!.retry, maximumAttempts: 3 } } },
    });
    const h = env.client.workflow.getHandle(workflowId);
    const paused = await waitFor('paused by the failing window', () => backfillProgress(h), (p) => p.state === 'paused' && p.lastError !== null, 120_000);
    expect(paused.lastError).toMatch(/^window 2024-01-15T00:00:00\.000Z \(lane \d\): /);
    expect(proxy.injected()).toBeGreaterThanOrEqual(3);
    // The other lanes stopped after their page in flight: what they acknowledged is in Amplitude, once.
    expect(w.amp.store.duplicates()).toEqual([]);
    expect(w.amp.store.count()).toBe(paused.sent);
    expect(paused.fraction).toBeLessThan(1);

    proxy.set({ errorRate: 0 });
    await resumeBackfill(h);
    const done = (await h.result()) as BackfillSummary;
    expectExact(done.progress, w.amp, want);
    expect(w.amp.store.duplicates()).toEqual([]);
    await w.stopWorkers();
    const view = await warehouseView(w.dir);
    for (const t of TABLES) expect(new Set(view.silver[t])).toEqual(want.silverIds[t]);
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
