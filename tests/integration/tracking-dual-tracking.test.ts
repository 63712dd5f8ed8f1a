import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Analytics } from '@segment/analytics-node';
import { chromium } from 'playwright-core';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServer } from '../helpers/temporal';
import { TEST_OUTPUT } from '../helpers/paths';
import { makeSegmentStack, startSegmentWorker, WRITE_KEY, type SegmentStack } from '../helpers/segment-collect';
import { writeTestPlan } from '../helpers/tracking-plan';
import { WORKFLOWS_PATH } from '../../workers/workflows-path';
import { startBigQueryEmulator, type BigQueryEmulator } from '../../sandbox/bigquery';
import { pointSandboxStreamAt } from '../../webhook/sandbox-stream';
import { runCli } from '../../client/cli';
import { CliContext } from '../../client/cli-context';
import { addDays, type ParityReport } from '../../tracking/parity';

/**
 * Dual tracking end to end, with the tracking plan enforced: Segment's own client sends the site's
 * calls to our endpoint; novade-sync makes them durable, checks them against a plan that blocks
 * unplanned events and omits unplanned properties, writes bronze and silver, sends Amplitude (the
 * emulator, which streams every event back to our webhook into silver.amplitude_events) and
 * forwards every call unfiltered to Segment (the emulator, which loads its BigQuery warehouse, the
 * BigQuery emulator). The parity report then reconciles the three sides, and finds the calls the
 * Segment emulator was told to lose, by messageId.
 */

const CHROMIUM = '/usr/bin/chromium';
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let bq: BigQueryEmulator;
let stack: SegmentStack;
let worker: Awaited<ReturnType<typeof startSegmentWorker>>;

const PLAN_EVENT = {
  name: 'Demo Requested',
  description: 'A visitor asked for a demo.',
  owner: 'growth',
  properties: { type: 'object', required: ['plan'], properties: { plan: { type: 'string', enum: ['enterprise', 'starter'] }, seats: { type: 'integer' } } },
};

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  [env, bundle, bq] = await Promise.all([
    startDevServer(),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }),
    startBigQueryEmulator({ rowsPerTable: 0, seed: 5, from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' }),
  ]);
  const planDir = writeTestPlan({ outcomes: { unplanned_event: 'block', unplanned_property: 'omit', schema_violation: 'allow' }, files: { 'events/demo-requested.yaml': PLAN_EVENT } });
  stack = await makeSegmentStack(env, {
    env: { TRACKING_PLAN_DIR: planDir, TRACKING_PARITY_TOLERANCE: '2%' },
    segmentEmulator: { warehouse: { url: bq.url, projectId: bq.projectId, dataset: bq.dataset, delayMs: 0, intervalMs: 200 } },
  });
  // The parity report reads Segment's side where the Segment emulator loads it.
  stack.config.bigquery = { projectId: bq.projectId, apiEndpoint: bq.url, dataset: bq.dataset, tables: ['tracks', 'identifies', 'pages'] };
  worker = await startSegmentWorker(env, bundle, stack);
  await pointSandboxStreamAt({ emulatorUrl: stack.amplitude.url, webhookUrl: stack.server.amplitudeUrl, secretHeader: stack.config.webhook.secretHeader, secret: stack.config.webhook.secret });
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
  await bq?.close();
  await env?.teardown();
});

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

describe('dual tracking with the tracking plan, reconciled by the parity report', () => {
  const id = (k: string) => `ajs-${k}-${randomUUID()}`;
  const user = `site-visitor-${randomUUID()}`;
  const ok = Array.from({ length: 40 }, (_, i) => id(`ok${i}`));
  const pages = Array.from({ length: 10 }, (_, i) => id(`page${i}`));
  const identify = id('identify');
  const unplannedEvent = id('banner');
  const extraProperty = id('extra');
  const wrongType = id('wrongtype');
  const lostBySegment = [ok[5], pages[2]];

  beforeAll(async () => {
    stack.segment.loss.set({ messageIds: lostBySegment });
    const analytics = new Analytics({ writeKey: WRITE_KEY, host: stack.server.url, flushAt: 15, flushInterval: 200, maxRetries: 3 });
    const errors: unknown[] = [];
    analytics.on('error', (e) => errors.push(e));
    for (const messageId of ok) analytics.track({ userId: user, event: 'Demo Requested', properties: { plan: 'enterprise', seats: 12 }, messageId });
    for (const messageId of pages) analytics.page({ userId: user, name: 'Pricing', properties: { path: '/pricing' }, messageId });
    analytics.identify({ userId: user, traits: { email: 'jane.doe@example.com', plan: 'pro', shoe_size: 44 }, messageId: identify });
    analytics.track({ userId: user, event: 'Clicked Banner', properties: { banner: 'summer' }, messageId: unplannedEvent });
    analytics.track({ userId: user, event: 'Demo Requested', properties: { plan: 'starter', debug_token: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc' }, messageId: extraProperty });
    analytics.track({ userId: user, event: 'Demo Requested', properties: { plan: 'starter', seats: 'twelve' }, messageId: wrongType });
    await analytics.closeAndFlush({ timeout: 20_000 });
    expect(errors).toEqual([]);
    const total = ok.length + pages.length + 4;
    await stack.settle(total, 90_000);
    // Amplitude streams every event it holds back to our webhook; Segment loads its warehouse.
    await stack.amplitude.flushStream(30_000);
    // Everything but the blocked call reaches Amplitude; its stream sends back events, not the identify.
    const sentToAmplitude = total - 2;
    await until(
      'silver.amplitude_events to hold what Amplitude received',
      async () => Number((await stack.deps.warehouse.query<{ n: number }>("SELECT COUNT(*) AS n FROM silver.amplitude_events WHERE insert_id LIKE 'seg:%'").catch(() => [{ n: 0 }]))[0].n),
      (n) => n >= sentToAmplitude,
      90_000,
    );
    await stack.segment.warehouse!.flush();
  }, 240_000);

  it('enforces the plan: a blocked call in bronze and dead letters, not in silver or Amplitude; an omitted property gone from both; Segment gets every call as sent', async () => {
    const wh = stack.deps.warehouse;
    const silver = await stack.silverIds();
    const amp = (messageId: string) => stack.amplitude.store.byInsertId(`seg:${messageId}`);
    const bronze = async (messageId: string) => (await wh.query<{ _payload: string }>('SELECT _payload FROM bronze.segment_live_events WHERE message_id = ?', [messageId])).map((r) => JSON.parse(r._payload) as Record<string, unknown>);

    // Blocked (unplanned event): kept as received, a dead letter, nothing downstream but Segment.
    expect(await bronze(unplannedEvent)).toHaveLength(1);
    expect(silver).not.toContain(unplannedEvent);
    expect(amp(unplannedEvent)).toBeUndefined();
    expect(stack.segment.store.byMessageId(unplannedEvent)?.call.message).toMatchObject({ event: 'Clicked Banner', properties: { banner: 'summer' } });
    const [letter] = await wh.query<{ stream: string; reason: string }>("SELECT stream, reason FROM ops.dead_letters WHERE flow = 'segment' AND record_key = ?", [unplannedEvent]);
    expect(letter).toEqual({ stream: 'tracking_plan', reason: 'blocked by the tracking plan: unplanned event at $.event' });

    // Omitted (unplanned property): gone from silver and Amplitude, still in bronze and at Segment.
    const [row] = await wh.query<{ properties: string }>('SELECT properties FROM silver.segment_live_tracks WHERE id = ?', [extraProperty]);
    expect(JSON.parse(row.properties)).toEqual({ plan: 'starter' });
    expect(amp(extraProperty)?.event.event_properties).toEqual({ plan: 'starter' });
    expect((await bronze(extraProperty))[0].properties).toMatchObject({ debug_token: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc' });
    expect(stack.segment.store.byMessageId(extraProperty)?.call.message).toMatchObject({ properties: { plan: 'starter', debug_token: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc' } });
    // An identify's unplanned trait is omitted the same way; a wrong type is allowed (schema_violation: allow) and recorded.
    expect(amp(identify)?.event.user_properties).toEqual({ $set: { email: 'jane.doe@example.com', plan: 'pro' } });
    expect(amp(wrongType)?.event.event_properties).toEqual({ plan: 'starter', seats: 'twelve' });

    const violations = await wh.query<{ message_id: string; event: string; violation_type: string; path: string; sample: string | null; outcome: string }>(
      'SELECT message_id, event, violation_type, path, sample, outcome FROM ops.tracking_violations ORDER BY event, path',
    );
    expect(violations.map((v) => [v.message_id, v.event, v.violation_type, v.path, v.sample, v.outcome])).toEqual([
      [unplannedEvent, 'Clicked Banner', 'unplanned_event', '$.event', 'Clicked Banner', 'blocked'],
      [extraProperty, 'Demo Requested', 'unplanned_property', '$.properties.debug_token', '<token>', 'omitted'],
      [wrongType, 'Demo Requested', 'wrong_type', '$.properties.seats', 'twelve', 'allowed'],
      [identify, 'identify', 'unplanned_property', '$.traits.shoe_size', '44', 'omitted'],
    ]);
    const calls = await stack.deps.metrics!.trackingCalls.get();
    const count = (labels: Record<string, string>) => calls.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k as 'outcome'] === x)).reduce((n, v) => n + v.value, 0);
    expect(count({ outcome: 'block' })).toBe(1);
    expect(count({ outcome: 'allow' })).toBe(ok.length + pages.length + 3);

    const out = new Capture();
    expect(await runCli(['tracking', 'violations', '--json'], new CliContext(out, stack.config))).toBe(0);
    expect((JSON.parse(out.text) as { rows: unknown[] }).rows).toHaveLength(4);
  });

  it('reconciles Segment, novade-sync and Amplitude, and names the calls the Segment emulator lost', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const html = path.join(TEST_OUTPUT, 'tracking-parity-dual-tracking.html');
    const out = new Capture();
    // From yesterday: a run just after midnight UTC dates some calls on each day.
    const code = await runCli(['tracking', 'parity', '--from', addDays(today, -1), '--to', today, '--json', '--html', html], new CliContext(out, stack.config));
    const report = JSON.parse(out.text) as ParityReport;
    // The induced loss is 2 calls of 54: out of the 2% tolerance, so the command fails.
    expect(code).toBe(1);
    expect(report.missing.segment.samples.map((s) => s.messageId).sort()).toEqual([...lostBySegment].sort());
    expect(report.missing.segment.count).toBe(2);
    expect([report.missing.collected.count, report.missing.amplitude.count, report.missing.extraInAmplitude.count]).toEqual([0, 0, 0]);
    // Segment got every call but the 2 it lost (the blocked one too: forward is never filtered); novade-sync all 54, 1 of them
    // blocked; Amplitude's stream the 52 events not blocked (identifies are not streamed: that row compares Segment and novade-sync).
    expect(report.totals).toMatchObject({ segment: 52, collected: 54, blocked: 1, amplitude: 52 });
    expect(report.rows.find((r) => r.eventType === '$identify')).toMatchObject({ segment: 1, collected: 1, amplitudeCompared: false, verdict: 'ok' });
    const byType = (t: string) => report.rows.filter((r) => r.eventType === t).reduce((n, r) => n + r.collected, 0);
    expect([byType('demo_requested'), byType('Viewed Pricing'), byType('$identify'), byType('clicked_banner')]).toEqual([42, 10, 1, 1]);

    expect(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: run \`npm run setup -- --for-tests\``).toBe(true);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      await page.goto(`file://${html}`);
      for (const lost of lostBySegment) await page.getByText(lost).waitFor();
      await page.screenshot({ path: path.join(TEST_OUTPUT, 'tracking-parity-dual-tracking.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
