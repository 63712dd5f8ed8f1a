import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import type { Duration } from '@temporalio/common';
import { flowSuite, type FlowWorld, runSourceSync, startFlowWorld } from '../helpers/flow-world';
import { createWorker } from '../../workers/worker';
import { createActivities } from '../../activities';
import type { ActivityDeps } from '../../activities/deps';
import type { AmplitudeEmulator } from '../../sandbox/amplitude';
import { startSalesforceEmulator, SALESFORCE_ROUTES, type SalesforceEmulator, type SObjectName } from '../../sandbox/salesforce';
import { SEED_AS_OF } from '../../sandbox/seed/salesforce';
import { SALESFORCE_FIELDS } from '../../mappings/salesforce-known-fields';
import { columnName } from '../../mappings/salesforce-fields';
import { resolveUserId } from '../../mappings/identity';
import type { SyncSourceSummary } from '../../workflows/sync-source';
import type { SyncActivityOverrides } from '../../workflows/sync-stream';
import type { Row } from '../../connectors/warehouse/types';

/**
 * The Salesforce flow end to end: real Temporal dev server and workflow bundle, DuckDB in a temp
 * dir, the Salesforce and Amplitude emulators at a small scale. Expectations are written from the
 * emulator's state and the rules, not from the mapping code.
 */

const suite = flowSuite();

const OBJECTS: { object: SObjectName; stream: string }[] = [
  { object: 'Account', stream: 'salesforce_account' },
  { object: 'Contact', stream: 'salesforce_contact' },
  { object: 'Lead', stream: 'salesforce_lead' },
  { object: 'Opportunity', stream: 'salesforce_opportunity' },
];

/** Short retry intervals through the workflow's own policy: production defaults are minutes. */
const FAST: SyncActivityOverrides = { retry: { initialInterval: '50ms', backoffCoefficient: 1.5, maximumInterval: '500ms', maximumAttempts: 200 } };

interface World extends FlowWorld {
  sf: SalesforceEmulator;
  clock: { t: number };
}

async function makeWorld(opts: { scale?: number; bulkThreshold?: number } = {}): Promise<World> {
  // A clock the test moves: no opportunity changes stage behind the test's back.
  const clock = { t: SEED_AS_OF + 10 * 60_000 };
  const sf = await startSalesforceEmulator({ port: 0, scale: opts.scale ?? 0.02, now: () => new Date(clock.t), bulkJobDurationMs: 50 });
  const base = await startFlowWorld({
    name: 'sf-sync',
    temporalAddress: suite.env.address,
    env: { SALESFORCE_BULK_THRESHOLD: String(opts.bulkThreshold ?? 500), SYNC_INTERVAL: '1h' },
    configure: (config) => (config.salesforce.loginUrl = sf.url),
    closeFirst: [() => sf.close()],
  });
  return { ...base, sf, clock };
}

function runSync(w: World, input: { full?: boolean; activityOverrides?: SyncActivityOverrides } = {}): Promise<SyncSourceSummary> {
  return runSourceSync(suite.env, suite.bundle, w, { source: 'salesforce', ...input });
}

/** A cell as comparable text: timestamps as ISO, numbers as numbers, null as null. */
function norm(v: unknown): unknown {
  if (v === null || v === undefined || v === '') return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(v)) return new Date(Date.parse(v)).toISOString();
  return v;
}

/** Silver must hold exactly the emulator's records (recycle bin included, as soft deletes), field by field. */
async function expectSilverEqualsEmulator(w: World) {
  for (const { object, stream } of OBJECTS) {
    const rows = await w.deps.warehouse.query(`SELECT * FROM silver.${stream}`);
    const byId = new Map(rows.map((r) => [r.id as string, r]));
    expect(byId.size, `${stream}: duplicate keys in silver`).toBe(rows.length);
    const records = w.sf.store.records(object, { includeDeleted: true });
    expect(rows.length, `${stream}: row count`).toBe(records.length);
    for (const stored of records) {
      const rest = w.sf.store.get(object, stored.Id as string)!;
      const row = byId.get(stored.Id as string);
      expect(row, `${stream}: ${stored.Id} missing`).toBeDefined();
      const want: Record<string, unknown> = {};
      const got: Record<string, unknown> = {};
      for (const spec of SALESFORCE_FIELDS[object as keyof typeof SALESFORCE_FIELDS]) {
        want[columnName(spec.field)] = norm(rest[spec.field]);
        got[columnName(spec.field)] = norm((row as Row)[columnName(spec.field)]);
      }
      expect(got, `${stream} ${stored.Id}`).toEqual(want);
      expect((row as Row)._deleted).toBe(stored.IsDeleted === true);
    }
  }
}

const iso = (v: unknown) => new Date(typeof v === 'number' ? v : Date.parse(String(v))).toISOString();
const validId = (email: unknown) => resolveUserId(email, { field: 'Email', minIdLength: 5 }).ok;

/** The insert_ids a first sync of the current org must produce, from the rules. */
function expectedInitialInsertIds(sf: SalesforceEmulator): Set<string> {
  const ids = new Set<string>();
  for (const c of sf.store.records('Contact')) {
    if (!validId(c.Email)) continue;
    ids.add(`sf:Contact:${c.Id}:created`);
    ids.add(`sf:Contact:${c.Id}:${iso(c.SystemModstamp)}:identify`);
  }
  for (const l of sf.store.records('Lead')) {
    if (!validId(l.Email)) continue;
    ids.add(`sf:Lead:${l.Id}:created`);
    ids.add(`sf:Lead:${l.Id}:${iso(l.SystemModstamp)}:identify`);
    if (l.IsConverted === true) ids.add(`sf:Lead:${l.Id}:converted`);
  }
  for (const o of sf.store.records('Opportunity')) {
    ids.add(`sf:Opportunity:${o.Id}:created`);
    if (o.IsWon === true) ids.add(`sf:Opportunity:${o.Id}:${iso(o.SystemModstamp)}:won`);
    else if (o.IsClosed === true) ids.add(`sf:Opportunity:${o.Id}:${iso(o.SystemModstamp)}:lost`);
  }
  return ids;
}

function amplitudeInsertIds(amp: AmplitudeEmulator): string[] {
  return amp.store.list().map((e) => e.insertId as string);
}

function expectExactlyOnce(amp: AmplitudeEmulator, expected: Set<string>) {
  const got = amplitudeInsertIds(amp);
  expect(new Set(got).size, 'duplicate insert_ids in Amplitude').toBe(got.length);
  const missing = [...expected].filter((id) => !got.includes(id));
  const extra = got.filter((id) => !expected.has(id));
  expect({ missing: missing.slice(0, 10), extra: extra.slice(0, 10), missingCount: missing.length, extraCount: extra.length }).toEqual({ missing: [], extra: [], missingCount: 0, extraCount: 0 });
}

describe('Salesforce sync on Temporal, DuckDB and the emulators', () => {
  it('syncs the seeded org, then reflects inserts, updates and deletes exactly, in silver and in Amplitude', async () => {
    const w = await makeWorld();
    const { sf, amp } = w;
    const first = await runSync(w);
    expect(first.failed).toEqual([]);
    expect(first.streams.map((s) => [s.stream, s.status])).toEqual(OBJECTS.map((o) => [o.stream, 'succeeded']));
    const contactRun = first.streams.find((s) => s.stream === 'salesforce_contact')!;
    expect(contactRun.read).toBe(sf.store.count('Contact', { includeDeleted: true }));
    expect(contactRun.apiCalls).toBeGreaterThan(0);
    expect(contactRun.apiUsage).toEqual({ used: expect.any(Number), limit: 100_000 });
    const noEmail = sf.store.records('Contact').filter((c) => !validId(c.Email)).length;
    expect(noEmail).toBeGreaterThan(0);
    expect(contactRun.rejected).toBe(noEmail);
    await expectSilverEqualsEmulator(w);
    const initial = expectedInitialInsertIds(sf);
    expectExactlyOnce(amp, initial);
    const runs = await w.deps.warehouse.listRuns({ flow: 'salesforce' });
    expect(runs.filter((r) => r.status === 'succeeded').length).toBe(4);
    expect(runs.find((r) => r.stream === 'salesforce_contact')).toMatchObject({ read: contactRun.read, sent: contactRun.sent, apiCallsUsed: contactRun.apiCalls, cursorAfter: contactRun.cursorAfter });

    // Changes between runs, each a few seconds apart.
    const at = (s: number) => ({ at: SEED_AS_OF + 10 * 60_000 + s * 1000 });
    const contacts = sf.store.records('Contact').filter((c) => validId(c.Email));
    const [retitled, moved, removed, touched] = contacts.map((c) => c.Id as string);
    sf.store.update('Contact', retitled, { Title: 'Chief Digital Officer' }, at(1));
    sf.store.update('Contact', moved, { Email: 'new.address@novade-customer.com' }, at(2));
    sf.store.delete('Contact', removed, at(3));
    sf.store.touch('Contact', touched, at(4));
    const created = sf.store.create('Contact', { FirstName: 'Søren', LastName: 'Jørgensen', Email: 'Soren.Jorgensen@Nordbau.de' }, at(5));
    const open = sf.store.records('Opportunity').filter((o) => !o.IsClosed);
    const [advanced, won] = open.map((o) => o.Id as string);
    const advancedFrom = sf.store.get('Opportunity', advanced)!.StageName;
    const advancedTo = advancedFrom === 'Negotiation/Review' ? 'Proposal/Price Quote' : 'Negotiation/Review';
    sf.store.update('Opportunity', advanced, { StageName: advancedTo }, at(6));
    sf.store.update('Opportunity', won, { StageName: 'Closed Won' }, at(7));
    sf.store.update('Opportunity', (open[2].Id as string), { NextStep: 'Call back' }, at(8));
    const newOpp = sf.store.create('Opportunity', { Name: 'Nordbau - Novade Enterprise', StageName: 'Prospecting', CloseDate: '2026-03-31', AccountId: sf.store.records('Account')[0].Id }, at(9));
    w.clock.t += 30_000;

    const second = await runSync(w);
    expect(second.failed).toEqual([]);
    await expectSilverEqualsEmulator(w);
    const stamp = (object: SObjectName, id: string) => iso(sf.store.get(object, id)!.SystemModstamp);
    const expected = new Set([
      ...initial,
      `sf:Contact:${retitled}:${stamp('Contact', retitled)}:identify`,
      `sf:Contact:${moved}:${stamp('Contact', moved)}:identify`,
      `sf:Contact:${created}:created`,
      `sf:Contact:${created}:${stamp('Contact', created)}:identify`,
      `sf:Opportunity:${advanced}:${stamp('Opportunity', advanced)}:stage`,
      `sf:Opportunity:${won}:${stamp('Opportunity', won)}:stage`,
      `sf:Opportunity:${won}:${stamp('Opportunity', won)}:won`,
      `sf:Opportunity:${newOpp}:created`,
    ]);
    expectExactlyOnce(amp, expected);
    expect(amp.store.byInsertId(`sf:Opportunity:${advanced}:${stamp('Opportunity', advanced)}:stage`)?.event.event_properties).toMatchObject({ from_stage: advancedFrom, to_stage: advancedTo });
    expect(amp.store.userProperties('soren.jorgensen@nordbau.de')).toMatchObject({ name: 'Søren Jørgensen', salesforce_contact_id: created });
    expect(amp.store.userProperties(String(sf.store.get('Contact', retitled)!.Email).toLowerCase())).toMatchObject({ title: 'Chief Digital Officer' });
    expect(amp.store.violations()).toEqual([]);

    // A tick with nothing new: the lookback re-reads a window, nothing is sent, cursors stay.
    const before = amp.store.count();
    const quiet = await runSync(w);
    expect(quiet.streams.every((s) => s.sent === 0 && s.written === 0)).toBe(true);
    expect(quiet.streams.map((s) => s.cursorAfter)).toEqual(second.streams.map((s) => s.cursorAfter));
    expect(amp.store.count()).toBe(before);
  });

  it('syncs 5,000 records that share one SystemModstamp across REST page boundaries', async () => {
    const w = await makeWorld({ scale: 0.005 });
    await runSync(w);
    const at = SEED_AS_OF + 10 * 60_000 + 1_000;
    const ids = w.sf.store.createMany('Contact', 5_000, { at });
    w.clock.t += 5_000;
    const summary = await runSync(w);
    const contactRun = summary.streams.find((s) => s.stream === 'salesforce_contact')!;
    expect(contactRun.pages).toBeGreaterThanOrEqual(3);
    const rows = await w.deps.warehouse.query<{ n: number }>(`SELECT COUNT(*) AS n FROM silver.salesforce_contact WHERE system_modstamp = ?`, [new Date(at)]);
    expect(Number(rows[0].n)).toBe(5_000);
    await expectSilverEqualsEmulator(w);
    const sendable = ids.filter((id) => validId(w.sf.store.get('Contact', id)!.Email));
    for (const id of sendable) expect(w.amp.store.byInsertId(`sf:Contact:${id}:created`), id).toBeDefined();
    expectExactlyOnce(w.amp, expectedInitialInsertIds(w.sf));
  });

  it('delivers exactly once under Amplitude 429/5xx/resets at 20%, Salesforce session expiry, and a worker killed mid-run', async () => {
    const w = await makeWorld({ scale: 0.03 });
    w.amp.faults.set({ 'POST /2/httpapi': { errorRate: 0.2, statuses: [429, 500, 502, 503, 'reset'], retryAfterSeconds: 0, latencyMs: 20 } });
    w.amp.failAfterIngest('POST /2/httpapi', 3, 500);
    w.sf.setSessionExpiry(4);
    w.sf.faults.set({ [SALESFORCE_ROUTES.queryAll]: { errorRate: 0.05, statuses: [503] } });

    const overrides: SyncActivityOverrides = { ...FAST, heartbeatTimeout: '3s' as Duration };
    const handle = await suite.env.client.workflow.start('syncSourceWorkflow', {
      taskQueue: w.taskQueue,
      workflowId: `salesforce-faults-${w.taskQueue}`,
      args: [{ source: 'salesforce', activityOverrides: overrides }],
    });
    // The first worker dies with pages in flight: no grace, its activities never report back.
    const doomed = await Worker.create({
      connection: suite.env.nativeConnection,
      taskQueue: w.taskQueue,
      workflowBundle: suite.bundle,
      activities: createActivities(w.deps),
      shutdownGraceTime: '1ms',
      maxConcurrentActivityTaskExecutions: 8,
    });
    const running = doomed.run();
    const deadline = Date.now() + 60_000;
    while (w.amp.store.count() < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    doomed.shutdown();
    await running;
    const sentBeforeKill = w.amp.store.count();
    const expected = expectedInitialInsertIds(w.sf);
    expect(sentBeforeKill).toBeGreaterThan(0);
    expect(sentBeforeKill).toBeLessThan(expected.size);

    const rescuer = await createWorker({ config: w.config, deps: w.deps, connection: suite.env.nativeConnection, workflowBundle: suite.bundle, taskQueue: w.taskQueue });
    const summary = (await rescuer.runUntil(handle.result())) as SyncSourceSummary;
    expect(summary.failed).toEqual([]);
    expect(w.amp.faults.injected.get('POST /2/httpapi') ?? 0).toBeGreaterThan(0);
    expect(w.sf.sessions.rejected).toBeGreaterThan(0);

    await expectSilverEqualsEmulator(w);
    expectExactlyOnce(w.amp, expected);
    // Resends did happen and were absorbed by insert_id.
    expect(w.amp.store.duplicates().length).toBeGreaterThan(0);
  });

  it('stops a stream cleanly once the org’s API usage reaches the configured share, and resumes from its cursor', async () => {
    const w = await makeWorld();
    w.sf.setApiLimit(10_000, 9_000);
    const summary = await runSync(w);
    const contact = summary.streams.find((s) => s.stream === 'salesforce_contact')!;
    // The contact load needs more than one page (Bulk, then REST): it stops after the first.
    expect(contact).toMatchObject({ status: 'stopped', pages: 1, apiUsage: { limit: 10_000 } });
    expect(contact.stopReason).toMatch(/API usage \d+\/10000 reached 9\d% of the daily limit \(stop share 80%\)/);
    expect((await w.deps.warehouse.listRuns({ flow: 'salesforce' })).find((r) => r.stream === 'salesforce_contact')).toMatchObject({ status: 'stopped', error: contact.stopReason });

    w.sf.setApiLimit(10_000, 0);
    const next = await runSync(w);
    // The next run starts a lookback window below where the stopped one ended.
    expect(next.streams.find((s) => s.stream === 'salesforce_contact')).toMatchObject({ status: 'succeeded', cursorBefore: { id: null, hw: contact.cursorAfter } });
    await expectSilverEqualsEmulator(w);
    expectExactlyOnce(w.amp, expectedInitialInsertIds(w.sf));
  });

  it('keeps bad data verbatim in bronze and handles it per the rules', async () => {
    const w = await makeWorld({ scale: 0.005 });
    const { sf } = w;
    const t = { at: SEED_AS_OF + 10 * 60_000 };
    const longLast = 'Sigurðsson-Ólafsdóttir-'.repeat(4).slice(0, 80);
    const notes = `Référence: chantier Île-de-France — 日本語のメモ 🏗️ "quoted", commas, =1+1\n${'ü'.repeat(200)}`.slice(0, 300);
    const badEmail = sf.store.create('Contact', { LastName: 'Tan', Email: 'siti@straits', Title: 'HSE Officer' }, t);
    const unicode = sf.store.create('Contact', { FirstName: null, LastName: longLast, Email: 'ZOË.Müller@Bau.de', Title: null, Description: notes, Phone: null }, t);
    const noEmail = sf.store.create('Lead', { LastName: 'Nguyễn', Company: 'Trần Infrastructure', Email: null }, t);

    const summary = await runSync(w);
    expect(summary.failed).toEqual([]);

    const payload = async (stream: string, id: string) => {
      const rows = await w.deps.warehouse.query<{ p: string }>(`SELECT CAST(_payload AS VARCHAR) AS p FROM bronze.${stream} WHERE id = ?`, [id]);
      expect(rows.length).toBeGreaterThanOrEqual(1);
      return JSON.parse(rows[0].p) as Record<string, unknown>;
    };
    for (const [stream, object, id] of [
      ['salesforce_contact', 'Contact', badEmail],
      ['salesforce_contact', 'Contact', unicode],
      ['salesforce_lead', 'Lead', noEmail],
    ] as const) {
      const received = await payload(stream, id);
      const rest = sf.store.get(object, id)!;
      for (const f of SALESFORCE_FIELDS[object].map((s) => s.field)) expect(received[f], `${id}.${f}`).toEqual(rest[f]);
    }
    const [silverUnicode] = await w.deps.warehouse.query(`SELECT last_name, first_name, description, title FROM silver.salesforce_contact WHERE id = ?`, [unicode]);
    expect(silverUnicode).toEqual({ last_name: longLast, first_name: null, description: notes, title: null });
    expect(w.amp.store.userProperties('zoë.müller@bau.de')).toMatchObject({ last_name: longLast });
    expect(w.amp.store.userProperties('zoë.müller@bau.de')).not.toHaveProperty('title');

    expect(w.amp.store.count({ insertId: `sf:Contact:${badEmail}:created` })).toBe(0);
    expect(w.amp.store.count({ insertId: `sf:Lead:${noEmail}:created` })).toBe(0);
    const letters = await w.deps.warehouse.query<{ record_key: string; reason: string }>(`SELECT record_key, reason FROM ops.dead_letters WHERE record_key IN (?, ?)`, [badEmail, noEmail]);
    expect(letters.map((l) => [l.record_key, l.reason]).sort()).toEqual(
      [
        [badEmail, expect.stringContaining('is not a valid email address')],
        [noEmail, expect.stringContaining('no Email')],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expectExactlyOnce(w.amp, expectedInitialInsertIds(sf));
  });
});
