import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { buildConfig, type AppConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { buildDeps } from '../../workers/deps';
import { createWorker } from '../../workers/worker';
import { WORKFLOWS_PATH } from '../../workers/workflows-path';
import type { ActivityDeps } from '../../activities/deps';
import { runCli } from '../../client/cli';
import { CliContext } from '../../client/cli-context';
import { ensureSchedules, pauseSchedule, scheduleDefs } from '../../client/schedules';
import type { StatusReport } from '../../client/status/collect';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../sandbox/salesforce';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';
import { SEED_AS_OF } from '../../sandbox/seed/salesforce';
import { startDevServer } from '../helpers/temporal';

/**
 * `npx novade status` on the real dev server: the warehouse facts come through the worker
 * (statusWorkflow), schedules and backfills from Temporal. Expected numbers come from the emulator.
 */

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let sf: SalesforceEmulator;
let amp: AmplitudeEmulator;
let config: AppConfig;
let deps: ActivityDeps;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-status-'));
const taskQueue = `status-${process.pid}`;
const clock = { t: SEED_AS_OF + 10 * 60_000 };

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  [env, bundle, sf, amp] = await Promise.all([
    startDevServer(),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }),
    startSalesforceEmulator({ port: 0, scale: 0.005, now: () => new Date(clock.t) }),
    startAmplitudeEmulator({ port: 0 }),
  ]);
  config = buildConfig({ TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: taskQueue, DATA_DIR: dir, SYNC_INTERVAL: '1h', SALESFORCE_BULK_THRESHOLD: '100000' }, dir);
  config.salesforce.loginUrl = sf.url;
  config.amplitude.serverUrl = amp.url;
  deps = await buildDeps(config, createLogger({ level: 'silent' }));
}, 180_000);
afterAll(async () => {
  await deps?.warehouse.close();
  await Promise.all([env?.teardown(), sf?.close(), amp?.close()]);
});

async function cli(...args: string[]) {
  const out = new Capture();
  const code = await runCli(args, new CliContext(out, config));
  return { code, out: out.text };
}

describe('npx novade status', () => {
  it('without a worker: says the worker is needed for run facts, still shows schedules and backfills', async () => {
    const { code, out } = await cli('status', '--timeout', '2');
    expect(code).toBe(0);
    expect(out).toContain(`warehouse: no worker answered on task queue ${taskQueue} within 2 s: start it with \`npm start\``);
    expect(out).toMatch(/^salesforce\s+-\s+not created/m);
    expect(out).toContain('backfills: none');
  });

  it('after a sync: per stream last run, counts, lag, dead letters and the paused schedule; --json the same', async () => {
    await ensureSchedules(env.client, config);
    await pauseSchedule(env.client, scheduleDefs(config)[0]);
    const worker = await createWorker({ config, deps, connection: env.nativeConnection, workflowBundle: bundle, taskQueue });
    const report = await worker.runUntil(async () => {
      await env.client.workflow.execute('syncSourceWorkflow', { taskQueue, workflowId: `status-sync-${Date.now()}`, args: [{ source: 'salesforce', streams: ['salesforce_account', 'salesforce_contact'] }] });
      await deps.warehouse.writeDeadLetters([
        { flow: 'salesforce', stream: 'salesforce_contact', recordKey: '003x1', reason: 'test: no user id', payload: {}, id: 'status-test-1' },
        { flow: 'salesforce', stream: 'salesforce_contact', recordKey: '003x2', reason: 'test: no user id', payload: {}, id: 'status-test-2' },
      ]);
      const { code, out } = await cli('status');
      expect(code).toBe(0);
      const json = await cli('status', '--json');
      return { out, json: JSON.parse(json.out) as StatusReport };
    });

    const accounts = sf.store.records('Account', { includeDeleted: true });
    const contactsDead = (await deps.warehouse.countDeadLetters({ flow: 'salesforce' }));
    const maxModstamp = Math.max(...accounts.map((r) => r.SystemModstamp as number));
    const salesforce = report.json.flows.find((f) => f.flow === 'salesforce')!;
    expect(salesforce.schedule).toMatchObject({ scheduleId: 'salesforce-sync', state: 'paused', every: '1h' });
    expect(report.json.flows.find((f) => f.flow === 'drift')!.schedule?.state).toBe('active');
    const account = salesforce.streams.find((s) => s.stream === 'salesforce_account')!;
    expect(account.lastRun).toMatchObject({ status: 'succeeded', read: accounts.length, written: accounts.length });
    expect(account.cursorAt).toBe(new Date(maxModstamp).toISOString());
    const lag = Math.round((Date.parse(report.json.generatedAt) - maxModstamp) / 1000);
    expect(Math.abs(account.lagSeconds! - lag)).toBeLessThanOrEqual(1);
    expect(account.lastSuccessAt).toBe(account.lastRun!.finishedAt);
    const contact = salesforce.streams.find((s) => s.stream === 'salesforce_contact')!;
    expect(contact.deadLetters).toBe(contactsDead - account.deadLetters);
    expect(contact.deadLetters).toBeGreaterThanOrEqual(2);
    expect(salesforce.streams.find((s) => s.stream === 'salesforce_lead')!.lastRun).toBeUndefined();
    expect(report.json.warehouse).toEqual({ kind: 'duckdb' });

    expect(report.out).toMatch(new RegExp(`^salesforce\\s+salesforce_account\\s+paused \\(1h\\)\\s+\\S+ \\S+\\s+succeeded\\s+${accounts.length}\\s+${accounts.length}\\s`, 'm'));
    expect(report.out).toMatch(/^salesforce\s+salesforce_lead\s+paused \(1h\)\s+-\s+never run/m);
    expect(report.out).toMatch(/^drift\s+drift_contacts\s+active \(1h\)\s+-\s+never run/m);
  });

  it('shows a running backfill with its progress, and a finished one by its status', async () => {
    const fixtureQueue = `${taskQueue}-backfill`;
    const fixture = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: fixtureQueue,
      workflowsPath: path.join(__dirname, 'fixtures/backfill-progress-workflow.ts'),
    });
    const progress = { state: 'running', window: 3, from: '2023-01-01', to: '2024-01-01', tables: ['tracks'], rowsRead: 12_345, sent: 12_000, written: 12_345, rejected: 3, ratePerSec: 850, etaSeconds: 7_260, dryRun: false };
    await fixture.runUntil(async () => {
      const done = await env.client.workflow.start('segmentBackfillWorkflow', { taskQueue: fixtureQueue, workflowId: 'segment-backfill-done', args: [{ state: 'done' }] });
      await done.signal('finish');
      await done.result();
      await env.client.workflow.start('segmentBackfillWorkflow', { taskQueue: fixtureQueue, workflowId: 'segment-backfill-2023', args: [progress] });
      // Visibility is eventually consistent: wait until both are listed.
      for (let i = 0; i < 50; i++) {
        const n = (await env.client.workflow.count(`WorkflowType = 'segmentBackfillWorkflow'`)).count;
        if (n >= 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const { out } = await cli('status', '--timeout', '2');
      expect(out).toMatch(/^segment-backfill-2023\s+RUNNING\s+running\s+2023-01-01\s+2024-01-01\s+12,345\s+12,000\s+12,345\s+3\s+850\s+2h 1m\s/m);
      expect(out).toMatch(/^segment-backfill-done\s+COMPLETED\s+-/m);
      const json = JSON.parse((await cli('status', '--json', '--timeout', '2')).out) as StatusReport;
      // The client adds the running step from Temporal's pending activity: none runs in this fixture.
      expect(json.backfills.find((b) => b.workflowId === 'segment-backfill-2023')?.progress).toEqual({ ...progress, step: null });
      await env.client.workflow.getHandle('segment-backfill-2023').signal('finish');
    });
  });
});
