import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { startDevServer } from '../helpers/temporal';
import { closeFlowWorldsAfterEach, startFlowWorld, type FlowWorld } from '../helpers/flow-world';
import { WORKFLOWS_PATH } from '../../workers/workflows-path';
import { createWorker } from '../../workers/worker';
import type { ActivityDeps } from '../../activities/deps';
import { startSalesforceEmulator, SALESFORCE_ROUTES, type SalesforceEmulator } from '../../sandbox/salesforce';
import { SEED_AS_OF } from '../../sandbox/seed/salesforce';
import { STREAM_DECLARATIONS } from '../../streams/registry';
import type { SyncSourceSummary } from '../../workflows/sync-source';
import type { OrganizeSummary } from '../../workflows/organize';
import type { SyncActivityOverrides } from '../../workflows/sync-stream';

/**
 * Alerts and organize end to end: real Temporal dev server and workflow bundle, DuckDB, the
 * Salesforce and Amplitude emulators, and a local HTTP receiver standing in for the Slack/Teams
 * webhook. Every induced failure must produce exactly one alert, and its fix one recovery.
 */

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let stubBundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  [env, bundle, stubBundle] = await Promise.all([
    startDevServer(),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }),
    bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'fixtures/backfill-stub-workflows.ts'), logger: new DefaultLogger('WARN') }),
  ]);
}, 240_000);
afterAll(async () => {
  await env?.teardown();
});

const FAST: SyncActivityOverrides = { retry: { initialInterval: '20ms', backoffCoefficient: 1.5, maximumInterval: '100ms', maximumAttempts: 3 } };

interface Message {
  text: string;
  blocks: unknown[];
}

interface World extends FlowWorld {
  sf: SalesforceEmulator;
  received: Message[];
}

closeFlowWorldsAfterEach();

async function makeWorld(): Promise<World> {
  const received: Message[] = [];
  const receiver = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      received.push(JSON.parse(data) as Message);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const clock = { t: SEED_AS_OF + 10 * 60_000 };
  const sf = await startSalesforceEmulator({ port: 0, scale: 0.005, now: () => new Date(clock.t), bulkJobDurationMs: 20 });
  let stopWorker = async (): Promise<void> => {};
  const base = await startFlowWorld({
    name: 'ops-alerts',
    temporalAddress: env.address,
    env: {
      ALERT_WEBHOOK_URL: hook,
      ALERT_FORMAT: 'slack',
      ALERT_DEAD_LETTERS_THRESHOLD: '100000',
      ALERT_BACKFILL_STALL_MINUTES: '5',
      CHECK_FRESHNESS: 'salesforce_contact=1h',
    },
    configure: (config) => (config.salesforce.loginUrl = sf.url),
    closeFirst: [() => stopWorker(), () => sf.close(), () => new Promise<void>((r) => receiver.close(() => r()))],
  });
  const worker = await createWorker({ config: base.config, deps: base.deps, connection: env.nativeConnection, workflowBundle: bundle, taskQueue: base.taskQueue });
  const running = worker.run();
  stopWorker = async () => {
    worker.shutdown();
    await running;
  };
  return { ...base, sf, received };
}

let runs = 0;
async function sync(w: World): Promise<{ summary?: SyncSourceSummary; error?: string }> {
  try {
    const summary = (await env.client.workflow.execute('syncSourceWorkflow', {
      taskQueue: w.taskQueue,
      workflowId: `salesforce-sync-${w.taskQueue}-${++runs}`,
      args: [{ source: 'salesforce', activityOverrides: FAST }],
    })) as SyncSourceSummary;
    return { summary };
  } catch (err) {
    if (err instanceof WorkflowFailedError) return { error: err.cause?.message ?? err.message };
    throw err;
  }
}

async function organize(w: World, input: Record<string, unknown> = {}): Promise<OrganizeSummary> {
  return (await env.client.workflow.execute('organizeWorkflow', {
    taskQueue: w.taskQueue,
    workflowId: `organize-${w.taskQueue}-${++runs}`,
    args: [{ activityOverrides: FAST, ...input }],
  })) as OrganizeSummary;
}

const headers = (w: World) => w.received.map((m) => m.text.split(':')[0]);

describe('alerts from the sync flow', () => {
  it('broken credentials: one alert however many runs fail, one recovery once fixed, with a link to the run', async () => {
    const w = await makeWorld();
    const secret = w.sf.credentials.clientSecret;
    w.sf.credentials.clientSecret = 'rotated-in-salesforce';
    const first = await sync(w);
    expect(first.error).toMatch(/salesforce sync failed/);
    const second = await sync(w);
    expect(second.error).toMatch(/salesforce sync failed/);
    expect(w.received).toHaveLength(1);
    const alert = w.received[0];
    expect(alert.text).toMatch(/^🔴 salesforce sync failed after its retries \(salesforce_account, salesforce_contact, salesforce_lead, salesforce_opportunity\): Failing since \d{4}-/);
    // What failed, in the connector's words (the root cause, not "Activity task failed").
    expect(JSON.stringify(alert.blocks)).toMatch(/salesforce_contact: [^\\]*SALESFORCE_CLIENT_SECRET/);
    expect(JSON.stringify(alert.blocks)).not.toContain('Activity task failed');
    const link = /http:\/\/localhost:8233\/namespaces\/default\/workflows\/(salesforce-sync-[^/]+)\/([0-9a-f-]+)\/history/.exec(alert.text);
    expect(link, alert.text).not.toBeNull();
    // The link names the first failing run, a real execution.
    const described = await env.client.workflow.getHandle(link![1], link![2]).describe();
    expect(described.type).toBe('syncSourceWorkflow');

    w.sf.credentials.clientSecret = secret;
    const fixed = await sync(w);
    expect(fixed.summary?.failed).toEqual([]);
    expect(headers(w)).toEqual(['🔴 salesforce sync failed after its retries (salesforce_account, salesforce_contact, salesforce_lead, salesforce_opportunity)', '✅ Recovered']);
    expect(w.received[1].text).toMatch(/Was failing from .* to .*\(/);
    await sync(w);
    expect(w.received).toHaveLength(2);
    const states = await w.deps.warehouse.listAlertStates('sync:salesforce');
    expect(states.map((s) => [s.key, s.status])).toEqual([['sync_failed:salesforce', 'resolved']]);
  });

  it('sandbox faults past the retries: one alert, one recovery; the API usage stop alerts once and recovers', async () => {
    const w = await makeWorld();
    // Salesforce's login service answering 503 (jsforce does not retry POSTs; Temporal retries the activity).
    w.sf.faults.set({ [SALESFORCE_ROUTES.token]: { errorRate: 1, statuses: [503] } });
    expect((await sync(w)).error).toBeDefined();
    expect((await sync(w)).error).toBeDefined();
    expect(w.sf.faults.injected.get(SALESFORCE_ROUTES.token)).toBeGreaterThanOrEqual(2 * 3);
    expect(w.received).toHaveLength(1);
    expect(w.received[0].text).toMatch(/^🔴 salesforce sync failed after its retries/);
    expect(JSON.stringify(w.received[0].blocks)).toMatch(/503/);
    w.sf.faults.clear();
    expect((await sync(w)).summary?.failed).toEqual([]);
    expect(w.received).toHaveLength(2);
    expect(w.received[1].text).toMatch(/^✅ Recovered: salesforce sync failed/);

    // The org's daily API allowance nearly used: runs stop early (three pages of new contacts, one page per run) and it is said once.
    w.sf.store.createMany('Contact', 5_000, { at: SEED_AS_OF + 10 * 60_000 + 1_000 });
    w.sf.setApiLimit(10_000, 9_000);
    for (let i = 0; i < 2; i++) expect((await sync(w)).summary?.streams.find((s) => s.stream === 'salesforce_contact')?.status).toBe('stopped');
    expect(w.received).toHaveLength(3);
    expect(w.received[2].text).toMatch(/^🔴 salesforce API usage is near the org's daily limit: syncs are stopping early/);
    expect(JSON.stringify(w.received[2].blocks)).toMatch(/API usage \d+\/10000 reached/);
    w.sf.setApiLimit(10_000, 0);
    expect((await sync(w)).summary?.streams.every((s) => s.status === 'succeeded')).toBe(true);
    expect(w.received).toHaveLength(4);
    expect(w.received[3].text).toMatch(/^✅ Recovered: salesforce API usage/);
  }, 180_000);
});

describe('organize', () => {
  it('merges a row missing in silver, catches a planted duplicate and an unmergeable bronze row, alerts once each and recovers', async () => {
    const w = await makeWorld();
    expect((await sync(w)).summary?.failed).toEqual([]);
    const wh = w.deps.warehouse;
    const contact = STREAM_DECLARATIONS.get('salesforce_contact')!;
    const [a, b] = (await wh.query<{ id: string }>('SELECT id FROM silver.salesforce_contact ORDER BY id LIMIT 2')).map((r) => r.id);

    // Clean state: organize finds nothing to merge and every check passes.
    const clean = await organize(w);
    expect(clean.streams.every((s) => s.merged === 0)).toBe(true);
    expect(clean.checks.failed).toEqual([]);
    expect(w.received).toHaveLength(0);

    // A silver row lost (bronze still has it): organize merges it back, nothing to alert.
    await wh.query('DELETE FROM silver.salesforce_contact WHERE id = ?', [a]);
    // A planted duplicate key in silver, and a bronze record whose key silver cannot get (invalid record).
    await wh.query('INSERT INTO silver.salesforce_contact SELECT * FROM silver.salesforce_contact WHERE id = ?', [b]);
    await wh.appendBronze(contact.bronze, { batchId: 'planted', records: [{ keys: { id: '003PLANTED0000001' }, payload: { Id: '003PLANTED0000001', LastName: 'no SystemModstamp' } }] });

    const found = await organize(w);
    expect(found.streams.find((s) => s.stream === 'salesforce_contact')).toMatchObject({ merged: 1, invalid: 1 });
    expect((await wh.query('SELECT id FROM silver.salesforce_contact WHERE id = ?', [a])).length).toBe(1);
    expect(found.checks.failed.map((c) => [c.check, c.table, c.observed])).toEqual([
      ['duplicate_keys', 'silver.salesforce_contact', 1],
      ['bronze_silver_reconciliation', 'silver.salesforce_contact', 1],
    ]);
    expect(w.received.map((m) => m.text.split(':')[0]).sort()).toEqual(['🔴 Check bronze_silver_reconciliation failed on silver.salesforce_contact', '🔴 Check duplicate_keys failed on silver.salesforce_contact']);
    const recorded = await wh.query<{ n: number }>("SELECT COUNT(*) AS n FROM ops.check_results WHERE passed = false AND table_name = 'silver.salesforce_contact'");
    expect(Number(recorded[0].n)).toBe(2);
    const metrics = await w.deps.metrics!.registry.getSingleMetricAsString('novade_check_passed');
    expect(metrics).toContain('novade_check_passed{check="duplicate_keys",table="silver.salesforce_contact"} 0');
    expect(metrics).toContain('novade_check_passed{check="freshness",table="silver.salesforce_contact"} 1');

    // Still broken an hour later: no new message.
    await organize(w);
    expect(w.received).toHaveLength(2);

    // Fixed: one recovery each.
    await wh.query('DELETE FROM silver.salesforce_contact WHERE id = ? AND rowid = (SELECT MAX(rowid) FROM silver.salesforce_contact WHERE id = ?)', [b, b]);
    await wh.query("DELETE FROM bronze.salesforce_contact WHERE _batch_id = 'planted'");
    const healed = await organize(w);
    expect(healed.checks.failed).toEqual([]);
    expect(w.received.slice(2).map((m) => m.text.split(':')[0]).sort()).toEqual(['✅ Recovered', '✅ Recovered']);
    expect(w.received.slice(2).map((m) => m.text).join('\n')).toMatch(/duplicate_keys[\s\S]*reconciliation|reconciliation[\s\S]*duplicate_keys/);
  });

  it('alerts when dead letters exceed the threshold, and when a running backfill stops reading; recovers from both', async () => {
    const w = await makeWorld();
    expect((await sync(w)).summary?.failed).toEqual([]);
    const letters = await w.deps.warehouse.countDeadLettersSince(new Date(0));
    expect(letters.salesforce).toBeGreaterThan(0);
    w.deps.config.ops.deadLettersThreshold = letters.salesforce - 1;
    const over = await organize(w, { skipBackfillCheck: true });
    expect(over.deadLetters.salesforce).toBe(letters.salesforce);
    expect(w.received).toHaveLength(1);
    expect(w.received[0].text).toMatch(new RegExp(`^🔴 salesforce: ${letters.salesforce} dead letters in the last 24 h \\(threshold ${letters.salesforce - 1}\\)`));
    w.deps.config.ops.deadLettersThreshold = 100_000;
    await organize(w, { skipBackfillCheck: true });
    expect(w.received).toHaveLength(2);
    expect(w.received[1].text).toMatch(/^✅ Recovered: salesforce: \d+ dead letters/);

    // A stand-in backfill (same workflow type and progress query) on its own worker.
    const stubQueue = `${w.taskQueue}-backfill`;
    const stubWorker = await Worker.create({ connection: env.nativeConnection, taskQueue: stubQueue, workflowBundle: stubBundle });
    const stubRunning = stubWorker.run();
    try {
      const backfill = await env.client.workflow.start('segmentBackfillWorkflow', { taskQueue: stubQueue, workflowId: `backfill-${w.taskQueue}`, args: [{ rowsRead: 1200 }] });
      // First look: progress noted, not a stall yet.
      const firstLook = await organize(w);
      expect(firstLook.stalledBackfills).toEqual([]);
      expect(w.received).toHaveLength(2);
      // The reading has not moved for longer than ALERT_BACKFILL_STALL_MINUTES (5): back-date it.
      const [seen] = (await w.deps.warehouse.listAlertStates('progress')).filter((s) => s.key === `backfill_progress:${backfill.workflowId}`);
      expect(seen.detail).toBe('1200');
      await w.deps.warehouse.saveAlertState({ ...seen, since: new Date(Date.now() - 6 * 60_000) });
      const stalled = await organize(w);
      expect(stalled.stalledBackfills).toEqual([backfill.workflowId]);
      await organize(w);
      expect(w.received).toHaveLength(3);
      expect(w.received[2].text).toMatch(new RegExp(`^🔴 Segment backfill ${backfill.workflowId} has not read a row for 6 min`));
      expect(w.received[2].text).toContain(`/workflows/${backfill.workflowId}/${backfill.firstExecutionRunId}/history`);

      await backfill.signal('advance', 500);
      const moving = await organize(w);
      expect(moving.stalledBackfills).toEqual([]);
      expect(w.received).toHaveLength(4);
      expect(w.received[3].text).toMatch(/^✅ Recovered: Segment backfill/);
      await backfill.signal('finish');
      expect(await backfill.result()).toBe(1700);
    } finally {
      stubWorker.shutdown();
      await stubRunning;
    }
  });
});

describe('organize failures', () => {
  it('a step that fails is alerted once, the other steps still run, and the next good run recovers', async () => {
    const w = await makeWorld();
    expect((await sync(w)).summary?.failed).toEqual([]);
    const broken = await organize(w, { streams: ['salesforce_contact', 'hubspot_deals'], skipBackfillCheck: true });
    expect(broken.failedStreams.map((f) => f.stream)).toEqual(['hubspot_deals']);
    expect(broken.failedStreams[0].error).toMatch(/Unknown stream "hubspot_deals"\. Known: salesforce_account/);
    expect(broken.streams.map((s) => s.stream)).toEqual(['salesforce_contact']);
    expect(broken.failedSteps.map((f) => f.step)).toEqual(['checks', 'compaction']);
    // The dead-letter step still ran.
    expect(broken.deadLetters.salesforce).toBeGreaterThan(0);
    expect(w.received.map((m) => m.text.split(':')[0]).sort()).toEqual(['🔴 Organize could not merge bronze into silver for hubspot_deals', '🔴 Organize step checks failed', '🔴 Organize step compaction failed']);
    const healed = await organize(w, { skipBackfillCheck: true });
    expect(healed.failedSteps).toEqual([]);
    expect(w.received.slice(3).map((m) => m.text.split(':')[0])).toEqual(['✅ Recovered', '✅ Recovered', '✅ Recovered']);
  });
});

describe('retention', () => {
  it('keeps everything by default; with BRONZE_RETENTION it deletes only older bronze rows, never silver', async () => {
    const w = await makeWorld();
    expect((await sync(w)).summary?.failed).toEqual([]);
    const wh = w.deps.warehouse;
    const contact = STREAM_DECLARATIONS.get('salesforce_contact')!;
    const count = async (sql: string) => Number((await wh.query<{ n: number }>(sql))[0].n);
    const bronzeBefore = await count('SELECT COUNT(*) AS n FROM bronze.salesforce_contact');
    const silverBefore = await count('SELECT COUNT(*) AS n FROM silver.salesforce_contact');
    const retention = (input: Record<string, unknown> = {}) =>
      env.client.workflow.execute('retentionWorkflow', { taskQueue: w.taskQueue, workflowId: `retention-${w.taskQueue}-${++runs}`, args: [input] }) as Promise<{ before?: string; purged: { table: string; deleted: number }[] }>;

    expect(await retention()).toEqual({ purged: [] });
    expect(await count('SELECT COUNT(*) AS n FROM bronze.salesforce_contact')).toBe(bronzeBefore);

    const old = new Date(Date.now() - 100 * 86_400_000);
    await wh.appendBronze(contact.bronze, { batchId: 'old-batch', ingestedAt: old, records: [{ keys: { id: 'x1' }, payload: { Id: 'x1' } }, { keys: { id: 'x2' }, payload: { Id: 'x2' } }] });
    w.deps.config.ops.bronzeRetentionSeconds = 90 * 86_400;
    const result = await retention({ streams: ['salesforce_contact', 'salesforce_lead'] });
    expect(result.purged).toEqual([
      { table: 'bronze.salesforce_contact', deleted: 2 },
      { table: 'bronze.salesforce_lead', deleted: 0 },
    ]);
    expect(Date.parse(result.before!)).toBeGreaterThan(old.getTime());
    expect(await count('SELECT COUNT(*) AS n FROM bronze.salesforce_contact')).toBe(bronzeBefore);
    expect(await count('SELECT COUNT(*) AS n FROM silver.salesforce_contact')).toBe(silverBefore);
    const metrics = await w.deps.metrics!.registry.getSingleMetricAsString('novade_bronze_purged_rows_total');
    expect(metrics).toContain('novade_bronze_purged_rows_total{table="bronze.salesforce_contact"} 2');
  });
});
