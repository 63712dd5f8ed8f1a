import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode, DefaultLogger, Runtime, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium } from 'playwright-core';
import { startDevServer } from '../helpers/temporal';
import { startFlowWorld, type FlowWorld } from '../helpers/flow-world';
import { TEST_OUTPUT } from '../helpers/paths';
import { WORKFLOWS_PATH } from '../../workers/workflows-path';
import { createWorker } from '../../workers/worker';
import { startBigQueryEmulator, type BigQueryEmulator } from '../../sandbox/bigquery';
import { segmentColumns } from '../../sandbox/seed/segment-columns';
import { amplitudeEventsSilver } from '../../mappings/amplitude-export';
import { segmentSilverDef, segmentSilverRow } from '../../mappings/segment-warehouse';
import { SEGMENT_TABLES, segmentRows } from '../../sandbox/seed/segment';
import { mapSegmentRow } from '../../mappings/segment';
import { paritySilverTables, liveSilverTable } from '../../tracking/parity-sources';
import { addDays } from '../../tracking/parity';
import type { ParityReport } from '../../tracking/parity';
import { PARITY_PROGRESS_KEY } from '../../activities/tracking';
import type { ViolationsReport } from '../../activities/tracking-types';
import type { TrackingViolation } from '../../connectors/warehouse/types';
import type { OrganizeSummary } from '../../workflows/organize';
import { runCli } from '../../client/cli';
import { CliContext } from '../../client/cli-context';

/**
 * The tracking reports end to end: the real Temporal dev server and workflow bundle, a worker on
 * DuckDB, the BigQuery emulator holding Segment's tables, `npx novade tracking ...` through the
 * CLI, organize's alerts posted to a local receiver. Seeded data in the three places: Segment's
 * tables in BigQuery, silver.segment_live_* and silver.amplitude_events in the warehouse.
 */

const CHROMIUM = '/usr/bin/chromium';
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let bq: BigQueryEmulator;
let world: FlowWorld;
let worker: Worker;
let running: Promise<void>;
const received: { text: string }[] = [];
let receiver: http.Server;

type Table = 'tracks' | 'pages' | 'identifies';
interface Call {
  table: Table;
  id: string;
  /** When each side dates it; a side left out does not hold it. */
  segment?: string;
  collected?: string;
  amplitude?: string;
  name?: string;
}

/** A Segment warehouse row of a call, with the columns of the sandbox's tables. */
function segmentRow(c: Call, at: string): Record<string, unknown> {
  const ts = at.replace(/\.(\d{3})Z$/, '.$1000Z');
  const row: Record<string, unknown> = { id: c.id, user_id: 'visitor@example.com', anonymous_id: 'a1b2c3d4-0000-4000-8000-000000000001', timestamp: ts, received_at: ts, sent_at: ts, original_timestamp: ts, uuid_ts: ts, loaded_at: ts, context_library_name: 'analytics.js' };
  if (c.table === 'tracks') Object.assign(row, { event: 'form_submitted', event_text: 'Form Submitted', form_type: 'inspection', project_id: 'prj_1', platform: 'web' });
  if (c.table === 'pages') Object.assign(row, { name: c.name ?? 'Pricing', path: '/pricing', url: 'https://www.novade.net/pricing' });
  if (c.table === 'identifies') Object.assign(row, { email: 'visitor@example.com', plan: 'free' });
  return row;
}

async function insertIntoBigQuery(table: Table, rows: Record<string, unknown>[]): Promise<void> {
  const columns = new Set(segmentColumns(table).map((c) => c.name));
  const res = await fetch(`${bq.url}/bigquery/v2/projects/${bq.projectId}/datasets/${bq.dataset}/tables/${table}/insertAll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rows: rows.map((r) => ({ json: Object.fromEntries(Object.entries(r).filter(([k]) => columns.has(k))) })) }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(((await res.json()) as { insertErrors?: unknown[] }).insertErrors ?? []).toEqual([]);
}

/** Puts each call where its sides say: BigQuery, silver.segment_live_*, silver.amplitude_events. */
async function seed(calls: Call[]): Promise<void> {
  const wh = world.deps.warehouse;
  await wh.ensureSchema({ silver: paritySilverTables() });
  for (const table of ['tracks', 'pages', 'identifies'] as const) {
    const of = calls.filter((c) => c.table === table);
    const inSegment = of.filter((c) => c.segment).map((c) => segmentRow(c, c.segment!));
    if (inSegment.length) await insertIntoBigQuery(table, inSegment);
    const collected = of.filter((c) => c.collected).map((c) => segmentSilverRow(table, segmentRow(c, c.collected!)));
    const def = paritySilverTables().find((d) => d.name === liveSilverTable(table))!;
    if (collected.length) await wh.mergeSilver(def, collected);
    const amplitude = of
      .filter((c) => c.amplitude)
      .map((c) => {
        const mapped = mapSegmentRow(table, segmentRow(c, c.amplitude!), { minIdLength: 5 });
        if (!mapped.ok) throw new Error(mapped.reason);
        const e = mapped.event;
        return { event_key: `ins:${e.insert_id}`, uuid: `uuid-${c.id}`, insert_id: e.insert_id, event_type: e.event_type, user_id: e.user_id ?? null, device_id: e.device_id ?? null, event_time: new Date(e.time), version_time: new Date(e.time) };
      });
    if (amplitude.length) await wh.mergeSilver(amplitudeEventsSilver, amplitude);
  }
}

/** n calls of a table on a day, on every side, at hours spread over the day. */
const onDay = (prefix: string, day: string, n: number, table: Table = 'tracks', name?: string): Call[] =>
  Array.from({ length: n }, (_, i) => {
    const at = `${day}T${String(1 + (i % 22)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00.000Z`;
    return { table, id: `${prefix}-${i}`, segment: at, collected: at, amplitude: at, name };
  });

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  const out = new Capture();
  const code = await runCli(args, new CliContext(out, world.config));
  return { code, out: out.text };
}

/** The alert and recovery messages posted since `from`, each as its title (the Slack text before its details). */
const titles = (from: number) => received.slice(from).map((m) => m.text.replace(/: (Failing since|Was failing from) .*$/s, ''));

let runs = 0;
async function organize(): Promise<OrganizeSummary> {
  return (await env.client.workflow.execute('organizeWorkflow', {
    taskQueue: world.taskQueue,
    workflowId: `organize-tracking-${process.pid}-${++runs}`,
    args: [{ streams: [], skipBackfillCheck: true, activityOverrides: { retry: { initialInterval: '20ms', maximumAttempts: 2 } } }],
  })) as OrganizeSummary;
}

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  receiver = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      received.push(JSON.parse(data) as { text: string });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  [env, bundle, bq] = await Promise.all([
    startDevServer(),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }),
    startBigQueryEmulator({ rowsPerTable: 0, seed: 3, from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' }),
  ]);
  world = await startFlowWorld({
    name: 'tracking-reports',
    temporalAddress: env.address,
    env: {
      ALERT_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      ALERT_FORMAT: 'slack',
      TRACKING_VIOLATIONS_WINDOW: '4s',
      TRACKING_PARITY_DAILY: 'true',
      TRACKING_PARITY_SETTLE: '0s',
      TRACKING_PARITY_TOLERANCE: '2%',
    },
    configure: (config) => {
      config.bigquery = { projectId: bq.projectId, apiEndpoint: bq.url, dataset: bq.dataset, tables: ['tracks', 'identifies', 'pages'] };
    },
  });
  worker = await createWorker({ config: world.config, deps: world.deps, connection: env.nativeConnection, workflowBundle: bundle, taskQueue: world.taskQueue });
  running = worker.run();
}, 240_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await world?.close();
  await bq?.close();
  await env?.teardown();
  await new Promise<void>((r) => receiver?.close(() => r()));
});

describe('npx novade tracking parity', () => {
  it('is exact when nothing is lost (exit 0)', async () => {
    await seed([...onDay('exact-t1', '2024-03-01', 30), ...onDay('exact-t2', '2024-03-02', 25), ...onDay('exact-p', '2024-03-02', 10, 'pages', 'Pricing'), ...onDay('exact-i', '2024-03-01', 5, 'identifies')]);
    const r = await cli('tracking', 'parity', '--from', '2024-03-01', '--to', '2024-03-02', '--json');
    expect(r.code, r.out).toBe(0);
    const report = JSON.parse(r.out) as ParityReport;
    expect(report.rows.map((x) => [x.day, x.eventType, x.segment, x.collected, x.amplitude, x.verdict])).toEqual([
      ['2024-03-01', '$identify', 5, 5, 5, 'ok'],
      ['2024-03-01', 'form_submitted', 30, 30, 30, 'ok'],
      ['2024-03-02', 'form_submitted', 25, 25, 25, 'ok'],
      ['2024-03-02', 'Viewed Pricing', 10, 10, 10, 'ok'],
    ]);
    expect(Object.values(report.missing).map((m) => m.count)).toEqual([0, 0, 0, 0]);
  });

  it('finds what is missing on each side and a call dated across midnight, with the right messageIds (exit 1, HTML in chromium)', async () => {
    const lostBySegment = onDay('seg-lost', '2024-04-01', 50).map((c, i) => (i % 17 === 3 ? { ...c, segment: undefined } : c));
    const lostByAmplitude = onDay('amp-lost', '2024-04-02', 50).map((c, i) => (i === 7 || i === 8 ? { ...c, amplitude: undefined } : c));
    const late: Call = { table: 'tracks', id: 'late-midnight', collected: '2024-04-02T23:59:59.800Z', amplitude: '2024-04-02T23:59:59.800Z', segment: '2024-04-03T00:00:00.900Z' };
    await seed([...lostBySegment, ...lostByAmplitude, late, ...onDay('quiet', '2024-04-03', 40)]);
    const html = path.join(TEST_OUTPUT, 'tracking-parity.html');
    const r = await cli('tracking', 'parity', '--from', '2024-04-01', '--to', '2024-04-03', '--json', '--html', html);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as ParityReport;
    expect(report.missing.segment.samples.map((s) => s.messageId).sort()).toEqual(['seg-lost-3', 'seg-lost-37', 'seg-lost-20'].sort());
    expect(report.missing.segment.samples.every((s) => s.day === '2024-04-01')).toBe(true);
    expect(report.missing.amplitude.samples.map((s) => s.messageId).sort()).toEqual(['amp-lost-7', 'amp-lost-8']);
    expect(report.missing.collected.count).toBe(0);
    expect(report.shifted).toEqual({ count: 1, samples: [{ messageId: 'late-midnight', eventType: 'form_submitted', days: { segment: '2024-04-03', collected: '2024-04-02', amplitude: '2024-04-02' } }] });
    expect(report.rows.map((x) => [x.day, x.segment, x.collected, x.amplitude, x.shifted, x.verdict])).toEqual([
      ['2024-04-01', 47, 50, 50, 0, 'out of tolerance'],
      ['2024-04-02', 51, 51, 49, 1, 'out of tolerance'],
      ['2024-04-03', 40, 40, 40, 0, 'ok'],
    ]);
    // A wider tolerance accepts the same days.
    expect((await cli('tracking', 'parity', '--from', '2024-04-01', '--to', '2024-04-03', '--tolerance', '10%')).code).toBe(0);
    const text = await cli('tracking', 'parity', '--from', '2024-04-01', '--to', '2024-04-03');
    expect(text.out).toContain('2 missing in Amplitude (collected, not blocked): amp-lost-7 (2024-04-02 form_submitted), amp-lost-8 (2024-04-02 form_submitted)');

    expect(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: run \`npm run setup -- --for-tests\``).toBe(true);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      const requests: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      await page.goto(`file://${html}`);
      expect(await page.locator('svg polyline').count()).toBe(3);
      // The two out-of-tolerance days, shaded in both charts (counts, and calls missing).
      expect(await page.locator('svg rect.out').count()).toBe(4);
      expect(await page.locator('tr.bad').count()).toBe(2);
      expect(await page.textContent('body')).toContain('seg-lost-37');
      const box = await page.locator('svg').first().boundingBox();
      expect(box?.width).toBeGreaterThan(600);
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
      const shot = path.join(TEST_OUTPUT, 'tracking-parity.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(fs.statSync(shot).size).toBeGreaterThan(20_000);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('refuses a bad range with what to type', async () => {
    const r = await cli('tracking', 'parity', '--from', '2024-04-03', '--to', '2024-04-01');
    expect(r.code).toBe(1);
    expect((await cli('tracking', 'parity', '--from', '2024-4-1', '--to', '2024-04-02')).code).toBe(1);
    expect((await cli('tracking', 'parity', '--from', '2024-04-01', '--to', '2024-04-02', '--tolerance', 'lots')).code).toBe(1);
  });
});

describe('npx novade tracking plan draft', () => {
  it('writes a plan from the Segment history the worker reads, which passes lint; refuses a directory with files', async () => {
    const wh = world.deps.warehouse;
    const seedOpts = { seed: 5, rowsPerTable: 800, from: '2023-01-01T00:00:00Z', to: '2023-02-01T00:00:00Z' };
    for (const table of SEGMENT_TABLES) {
      await wh.ensureSchema({ silver: [segmentSilverDef(table)] });
      await wh.mergeSilver(segmentSilverDef(table), [...segmentRows(seedOpts, table)].map((r) => segmentSilverRow(table, r)));
    }
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-draft-cli-'));
    const r = await cli('tracking', 'plan', 'draft', '--from', '2023-01-01', '--to', '2023-01-31', '--out', out, '--force');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^Wrote \d+ files to .*: \d+ events, 9 page names, identify traits, settings\./);
    const form = parse(fs.readFileSync(path.join(out, 'events/form-submitted.yaml'), 'utf8')) as { name: string; properties: { properties: Record<string, { type: string; enum?: string[] }> } };
    expect(form.name).toBe('Form Submitted');
    expect(form.properties.properties.form_type).toMatchObject({ type: 'string', enum: ['daily-report', 'incident', 'inspection', 'ncr', 'permit-to-work', 'toolbox-meeting'] });
    expect((await cli('tracking', 'plan', 'lint', '--dir', out)).code).toBe(0);
    const refused = await cli('tracking', 'plan', 'draft', '--from', '2023-01-01', '--to', '2023-01-31', '--out', out);
    expect(refused.code).toBe(1);
    expect((await cli('tracking', 'plan', 'draft', '--from', '2023-01-31', '--to', '2023-01-01', '--out', path.join(out, 'x'))).code).toBe(1);
  }, 120_000);
});

describe('npx novade tracking violations, and organize', () => {
  const violation = (id: string, event: string, type: TrackingViolation['type'], receivedAt: Date): TrackingViolation => ({
    id,
    event,
    callType: 'track',
    messageId: `m-${id}`,
    type,
    path: '$.properties.form_type',
    sample: '17',
    detail: 'expected string, got integer',
    outcome: 'allowed',
    planVersion: '1',
    receivedAt,
  });

  it('lists the violations since a time, and alerts once per new (event, type) with one recovery when it stops', async () => {
    const wh = world.deps.warehouse;
    await wh.ensureSchema();
    await wh.writeTrackingViolations([violation('v1', 'Form Submitted', 'wrong_type', new Date()), violation('v2', 'Form Submitted', 'wrong_type', new Date()), violation('v3', 'Old Event', 'unplanned_event', new Date(Date.now() - 3 * 86_400_000))]);
    const json = await cli('tracking', 'violations', '--json');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.out) as ViolationsReport;
    expect(report.rows.map((v) => [v.event, v.type, v.path, v.calls])).toEqual([['Form Submitted', 'wrong_type', '$.properties.form_type', 2]]);
    expect((JSON.parse((await cli('tracking', 'violations', '--since', '7d', '--json')).out) as ViolationsReport).rows).toHaveLength(2);
    const text = await cli('tracking', 'violations');
    expect(text.out).toMatch(/Form Submitted\s+wrong type\s+\$\.properties\.form_type\s+2\s+0/);
    expect((await cli('tracking', 'violations', '--since', 'forever')).code).toBe(1);

    const before = received.length;
    const first = await organize();
    expect(first.trackingViolations).toEqual([{ event: 'Form Submitted', type: 'wrong_type', calls: 2, blocked: 0 }]);
    expect(titles(before)).toEqual(['🔴 Tracking plan violated (wrong type) by Form Submitted']);
    // Still happening: no second alert; a new (event, type) is alerted on its own.
    await wh.writeTrackingViolations([violation('v4', 'Form Submitted', 'wrong_type', new Date()), violation('v5', 'Form Submitted', 'missing_required', new Date())]);
    await organize();
    expect(titles(before)).toEqual(['🔴 Tracking plan violated (wrong type) by Form Submitted', '🔴 Tracking plan violated (missing required property) by Form Submitted']);
    // None within TRACKING_VIOLATIONS_WINDOW (4 s): one recovery each, then quiet.
    await new Promise((r) => setTimeout(r, 4_500));
    await organize();
    await organize();
    const all = titles(before);
    expect(all.slice(0, 2)).toEqual(['🔴 Tracking plan violated (wrong type) by Form Submitted', '🔴 Tracking plan violated (missing required property) by Form Submitted']);
    expect(all.slice(2).sort()).toEqual(['✅ Recovered: Tracking plan violated (missing required property) by Form Submitted', '✅ Recovered: Tracking plan violated (wrong type) by Form Submitted']);
  }, 120_000);

  it("checks each day's parity once, alerting once when out of tolerance and once when back", async () => {
    const wh = world.deps.warehouse;
    const yesterday = addDays(new Date().toISOString().slice(0, 10), -1);
    // The earlier organize runs checked yesterday already (nothing there then): make it due again.
    const reset = async () => {
      const now = new Date();
      await wh.saveAlertState({ key: PARITY_PROGRESS_KEY, scope: 'progress', status: 'observed', title: 'reset by the test', detail: addDays(yesterday, -1), since: now, lastSeen: now });
    };
    await reset();
    const calls = onDay('daily', yesterday, 60);
    await seed(calls.map((c, i) => (i < 5 ? { ...c, amplitude: undefined } : c)));
    const before = received.length;
    const first = await organize();
    expect(first.trackingParity).toMatchObject({ ran: true, from: yesterday, to: yesterday, rowsOutOfTolerance: 1, missing: { amplitude: 5 } });
    expect(titles(before)).toEqual([`🔴 Dual tracking out of tolerance (2.0%) on 1 of 1 rows (day, event type), ${yesterday} to ${yesterday}`]);
    expect(JSON.stringify(received[before])).toContain('daily-0');
    // The same day is not checked again.
    const second = await organize();
    expect(second.trackingParity).toMatchObject({ ran: false });
    expect(received.length).toBe(before + 1);
    // Amplitude catches up; the day is checked again (as if it were the next day's run) and recovers.
    await seed(calls.slice(0, 5).map((c) => ({ ...c, segment: undefined, collected: undefined })));
    await reset();
    const third = await organize();
    expect(third.trackingParity).toMatchObject({ ran: true, rowsOutOfTolerance: 0 });
    expect(titles(before)).toEqual([
      `🔴 Dual tracking out of tolerance (2.0%) on 1 of 1 rows (day, event type), ${yesterday} to ${yesterday}`,
      `✅ Recovered: Dual tracking out of tolerance (2.0%) on 1 of 1 rows (day, event type), ${yesterday} to ${yesterday}`,
    ]);
  }, 120_000);
});
