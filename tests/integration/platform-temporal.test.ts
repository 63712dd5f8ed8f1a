import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServer } from '../helpers/temporal';
import { buildConfig } from '../../config/config';
import { describeSchedules, ensureSchedules, pauseSchedule, resolveSchedule, resumeSchedule, scheduleDefs, triggerSchedule } from '../../client/schedules';
import { createActivities } from '../../activities';
import type { ActivityDeps } from '../../activities/deps';
import { createLogger } from '../../config/logger';
import { createWarehouse } from '../../connectors/warehouse';
import { WORKFLOWS_PATH } from '../../workers/workflows-path';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  [env, bundle] = await Promise.all([startDevServer(), bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH })]);
});
afterAll(async () => {
  await env?.teardown();
});

const configFor = (taskQueue: string) => buildConfig({ TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: taskQueue, SYNC_INTERVAL: '1h' }, '/tmp/novade-test');

describe('Temporal platform on the real dev server', () => {
  it('bundles the TypeScript workflows (CommonJS, no .js specifiers, no Node built-ins)', () => {
    expect(bundle.code.length).toBeGreaterThan(10_000);
    expect(bundle.code).toContain('syncSourceWorkflow');
    expect(bundle.code).toContain('syncStreamWorkflow');
  });

  it('runs a workflow on a worker and reports a bad request as a non-retryable failure', async () => {
    const config = configFor('platform-test');
    const warehouse = await createWarehouse({ kind: 'duckdb', path: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'novade-platform-')), 'w.duckdb') });
    const deps: ActivityDeps = { config, log: createLogger({ level: 'silent' }), warehouse, streamsFile: { version: 1 }, streams: new Map(), readers: {}, sink: { send: async () => ({ sent: 0, rejected: [] }) } };
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'platform-test', workflowBundle: bundle, activities: createActivities(deps) });
    const [err, streamErr] = await worker.runUntil(
      Promise.all([
        env.client.workflow.execute('syncSourceWorkflow', { taskQueue: 'platform-test', workflowId: 'bad-source', args: [{ source: 'hubspot' }] }).catch((e: unknown) => e),
        env.client.workflow
          .execute('syncSourceWorkflow', { taskQueue: 'platform-test', workflowId: 'bad-stream', args: [{ source: 'salesforce', streams: ['salesforce_case'] }] })
          .catch((e: unknown) => e),
      ]),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toBe('Unknown source "hubspot". Known: salesforce, drift.');
    expect((streamErr as WorkflowFailedError).cause?.message).toContain('Unknown salesforce stream(s) salesforce_case');
    await warehouse.close();
  });

  it('creates the schedules idempotently, and pause, resume and trigger them', async () => {
    const config = configFor('schedule-test');
    const defs = scheduleDefs(config);
    const all = ['salesforce-sync', 'drift-sync', 'organize', 'bronze-retention'];
    expect(defs.map((d) => d.scheduleId)).toEqual(all);
    expect(await ensureSchedules(env.client, config)).toEqual({ created: all, updated: [], unchanged: [] });
    expect(await ensureSchedules(env.client, config)).toEqual({ created: [], updated: [], unchanged: all });
    // A changed interval updates only what it changes.
    const faster = buildConfig({ TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: 'schedule-test', SYNC_INTERVAL: '30m' }, '/tmp/novade-test');
    expect(await ensureSchedules(env.client, faster)).toEqual({ created: [], updated: ['salesforce-sync', 'drift-sync'], unchanged: ['organize', 'bronze-retention'] });
    // The server applies an update asynchronously: wait until it shows.
    const every = async () => (await env.client.schedule.getHandle('salesforce-sync').describe()).spec.intervals?.[0]?.every;
    for (let i = 0; i < 100 && (await every()) !== 1_800_000; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await every()).toBe(1_800_000);
    expect(await ensureSchedules(env.client, config)).toEqual({ created: [], updated: ['salesforce-sync', 'drift-sync'], unchanged: ['organize', 'bronze-retention'] });

    const sf = resolveSchedule('salesforce', defs);
    const desc = await env.client.schedule.getHandle(sf.scheduleId).describe();
    expect(desc.policies.overlap).toBe('SKIP');
    expect(desc.policies.catchupWindow).toBe(600_000);
    expect(desc.spec.intervals?.[0]?.every).toBe(3_600_000);
    expect(desc.action).toMatchObject({ type: 'startWorkflow', workflowType: 'syncSourceWorkflow', args: [{ source: 'salesforce' }] });

    // Schedule state changes are applied asynchronously by the server's scheduler: poll until seen.
    const until = async (ok: (rows: Awaited<ReturnType<typeof describeSchedules>>) => boolean) => {
      let rows = await describeSchedules(env.client, defs);
      // Up to 30 s: on a loaded 2-core machine the scheduler can take several seconds to apply a change.
      for (let i = 0; i < 300 && !ok(rows); i++) {
        await new Promise((r) => setTimeout(r, 100));
        rows = await describeSchedules(env.client, defs);
      }
      return rows;
    };
    await pauseSchedule(env.client, sf);
    await until((rs) => rs.find((r) => r.name === 'salesforce')!.paused);
    // Re-running start must not unpause what an operator paused: the schedule is as declared, so it is
    // not updated at all (an update carries the state it read, and the server would apply it after a
    // resume sent right behind it).
    expect(await ensureSchedules(env.client, config)).toMatchObject({ unchanged: all });
    let rows = await describeSchedules(env.client, defs);
    expect(rows.find((r) => r.name === 'salesforce')).toMatchObject({ paused: true, note: 'paused with npx novade schedules pause' });
    expect(rows.find((r) => r.name === 'drift')).toMatchObject({ paused: false, missing: false });

    await resumeSchedule(env.client, sf);
    await triggerSchedule(env.client, sf);
    rows = await until((rs) => !rs.find((r) => r.name === 'salesforce')!.paused && rs.find((r) => r.name === 'salesforce')!.recentActions > 0);
    const after = rows.find((r) => r.name === 'salesforce')!;
    expect(after.paused).toBe(false);
    expect(after.recentActions).toBe(1);
    expect(after.lastRunAt).toBeInstanceOf(Date);
    expect(() => resolveSchedule('hubspot', defs)).toThrow('Unknown schedule "hubspot". Known schedules: salesforce, drift, organize, retention.');
    // Its own waits for the scheduler add up to 70 s on a loaded machine.
  }, 120_000);
});
