import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import type { Duration } from '@temporalio/common';
import { createActivities } from '../../activities';
import { flowSuite, type FlowWorld, runSourceSync, startFlowWorld } from '../helpers/flow-world';
import { createLogger } from '../../config/logger';
import { createWorker } from '../../workers/worker';
import type { ActivityDeps } from '../../activities/deps';
import { DriftReader } from '../../connectors/drift';
import { startDriftEmulator, type DriftEmulator } from '../../sandbox/drift';
import type { AmplitudeEmulator } from '../../sandbox/amplitude';
import { resolveUserId } from '../../mappings/identity';
import type { SyncSourceSummary } from '../../workflows/sync-source';
import type { SyncActivityOverrides } from '../../workflows/sync-stream';

/**
 * The Drift flow end to end: real Temporal dev server and workflow bundle, DuckDB in a temp dir, the
 * Drift and Amplitude emulators. Expected silver rows and Amplitude insert_ids are derived from the
 * emulator's store and the rules, not from the mapping code.
 */

const log = createLogger({ level: 'silent' });

const suite = flowSuite();

const FAST: SyncActivityOverrides = { retry: { initialInterval: '50ms', backoffCoefficient: 1.5, maximumInterval: '500ms', maximumAttempts: 200 } };
const STREAMS = ['drift_contacts', 'drift_conversations', 'drift_messages', 'drift_meetings'];
const DAY = 86_400_000;

interface World extends FlowWorld {
  drift: DriftEmulator;
  clock: { t: number };
}

async function makeWorld(opts: { scale?: number } = {}): Promise<World> {
  // The test moves the emulator's clock, so a change between runs has a later updatedAt.
  const clock = { t: Date.now() };
  const drift = await startDriftEmulator({ port: 0, scale: opts.scale ?? 0.05, now: () => new Date(clock.t) });
  const base = await startFlowWorld({
    name: 'drift-sync',
    temporalAddress: suite.env.address,
    env: { SYNC_INTERVAL: '1h' },
    configure: (config) => (config.drift = { ...config.drift, baseUrl: drift.url }),
    closeFirst: [() => drift.close()],
  });
  // Small pipeline pages (one Drift list page each), so every run is a pass over several pages.
  base.deps.readers.drift = new DriftReader({ config: base.config.drift, log, conversationsPerPage: 40 });
  return { ...base, drift, clock };
}

function runSync(w: World, input: { activityOverrides?: SyncActivityOverrides } = {}): Promise<SyncSourceSummary> {
  return runSourceSync(suite.env, suite.bundle, w, { source: 'drift', ...input });
}

const userIdOf = (email: unknown) => {
  const r = resolveUserId(email, { field: 'email', minIdLength: 5 });
  return r.ok ? r.userId : undefined;
};
const emailInsertId = (contactId: number, userId: string) => `drift:contact:${contactId}:email:${createHash('sha256').update(userId).digest('hex').slice(0, 16)}`;

/** Meetings Drift's API can show: slot in the last 30 days or ahead. */
function visibleMeetings(w: World) {
  return w.drift.store.allMeetings().filter((m) => m.slotStart >= w.clock.t - 30 * DAY);
}

function conversationsOf(w: World) {
  return w.drift.store.listConversations({ limit: 1_000_000 }).page;
}

/** The insert_ids a first sync of the current Drift account must produce, from the rules. */
function expectedInsertIds(w: World): Set<string> {
  const ids = new Set<string>();
  const { store } = w.drift;
  for (const c of conversationsOf(w)) {
    ids.add(`drift:conversation:${c.id}:started`);
    for (const m of store.messagesOf(c.id) ?? []) if (m.author.type === 'contact' && m.type === 'chat') ids.add(`drift:message:${m.id}:received`);
    const contact = store.contact(c.contactId)!;
    const userId = userIdOf(contact.attributes.email);
    if (userId) ids.add(emailInsertId(contact.id, userId));
  }
  for (const m of visibleMeetings(w)) ids.add(`drift:meeting:${m.eventId}:booked`);
  return ids;
}

function expectExactlyOnce(amp: AmplitudeEmulator, expected: Set<string>) {
  const got = amp.store.list().map((e) => e.insertId as string);
  expect(new Set(got).size, 'duplicate insert_ids in Amplitude').toBe(got.length);
  const missing = [...expected].filter((id) => !got.includes(id));
  const extra = got.filter((id) => !expected.has(id));
  expect({ missing: missing.slice(0, 10), extra: extra.slice(0, 10), missingCount: missing.length, extraCount: extra.length }).toEqual({ missing: [], extra: [], missingCount: 0, extraCount: 0 });
}

async function count(w: World, table: string): Promise<number> {
  const [row] = await w.deps.warehouse.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number(row.n);
}

/** Silver holds each Drift record once, with the emulator's current values. */
async function expectSilverEqualsEmulator(w: World) {
  const { store } = w.drift;
  const conversations = conversationsOf(w);
  expect(await count(w, 'silver.drift_conversations')).toBe(conversations.length);
  expect(await count(w, 'silver.drift_messages')).toBe(store.messageCount());
  expect(await count(w, 'silver.drift_contacts')).toBe(new Set(conversations.map((c) => c.contactId)).size);
  expect(await count(w, 'silver.drift_meetings')).toBe(visibleMeetings(w).length);
  const rows = await w.deps.warehouse.query(`SELECT id, status, updated_at, contact_id, playbook_id FROM silver.drift_conversations`);
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  for (const c of conversations) {
    const row = byId.get(c.id);
    expect(row, `conversation ${c.id}`).toBeDefined();
    expect({ status: row!.status, updatedAt: new Date(row!.updated_at as string | Date).getTime(), contact: Number(row!.contact_id), playbook: row!.playbook_id === null ? undefined : Number(row!.playbook_id) }).toEqual({
      status: c.status,
      updatedAt: c.updatedAt,
      contact: c.contactId,
      playbook: c.relatedPlaybookId,
    });
  }
  const emails = await w.deps.warehouse.query(`SELECT id, email FROM silver.drift_contacts`);
  for (const r of emails) expect(r.email ?? undefined, `contact ${r.id}`).toEqual(store.contact(Number(r.id))!.attributes.email);
}

describe('Drift sync on Temporal, DuckDB and the emulators', () => {
  it('syncs the seeded account once, picks up new messages of an old conversation and a captured email, and stays quiet after', async () => {
    const w = await makeWorld();
    const { drift, amp } = w;
    const first = await runSync(w);
    expect(first.failed).toEqual([]);
    expect(first.streams.map((s) => [s.stream, s.status])).toEqual(STREAMS.map((s) => [s, 'succeeded']));
    expect(first.streams.find((s) => s.stream === 'drift_messages')!.read).toBe(drift.store.messageCount());
    expect(first.streams.find((s) => s.stream === 'drift_conversations')!.pages).toBeGreaterThanOrEqual(2);
    // One list call per page plus one call per conversation at least.
    expect(first.streams.find((s) => s.stream === 'drift_messages')!.apiCalls).toBeGreaterThan(drift.store.conversationCount());
    await expectSilverEqualsEmulator(w);
    const initial = expectedInsertIds(w);
    expectExactlyOnce(amp, initial);
    expect(amp.store.violations()).toEqual([]);

    // Identity: a known visitor's message carries the email as user_id and the Drift contact as device_id.
    const known = conversationsOf(w).find((c) => userIdOf(drift.store.contact(c.contactId)!.attributes.email))!;
    const visitorMessage = drift.store.messagesOf(known.id)!.find((m) => m.author.type === 'contact')!;
    expect(amp.store.byInsertId(`drift:message:${visitorMessage.id}:received`)?.event).toMatchObject({
      user_id: userIdOf(drift.store.contact(known.contactId)!.attributes.email),
      device_id: `drift-contact:${known.contactId}`,
      event_properties: { conversation_id: known.id, bot: false, inbox_id: known.inboxId, channel: 'chat' },
    });
    const anonymous = conversationsOf(w).find((c) => drift.store.contact(c.contactId)!.attributes.email === undefined)!;
    const started = amp.store.byInsertId(`drift:conversation:${anonymous.id}:started`)?.event;
    expect(started?.device_id).toBe(`drift-contact:${anonymous.contactId}`);
    expect(started?.user_id).toBeUndefined();
    const runs = await w.deps.warehouse.listRuns({ flow: 'drift' });
    expect(runs.filter((r) => r.status === 'succeeded').length).toBe(4);

    // Between runs: the oldest conversation gets a visitor message and an agent answer; an anonymous
    // visitor types their email into the chat; a meeting is booked from a conversation.
    w.clock.t += 60_000;
    const oldest = conversationsOf(w).at(-1)!;
    const newVisitor = drift.store.addMessage(oldest.id, { author: { type: 'contact' }, body: 'Back with another question' });
    drift.store.addMessage(oldest.id, { author: { type: 'user' }, body: 'Happy to help' });
    w.clock.t += 1_000;
    drift.store.identifyContact(anonymous.contactId, { email: 'New.Visitor@Bauwerk.example.com' });
    const identifiedMessage = drift.store.addMessage(anonymous.id, { author: { type: 'contact' }, body: 'my email is New.Visitor@Bauwerk.example.com' });
    const meeting = drift.store.bookMeeting({ conversationId: known.id });
    w.clock.t += 1_000;

    const second = await runSync(w);
    expect(second.failed).toEqual([]);
    await expectSilverEqualsEmulator(w);
    const expected = new Set([
      ...initial,
      `drift:message:${newVisitor.id}:received`,
      `drift:message:${identifiedMessage.id}:received`,
      emailInsertId(anonymous.contactId, 'new.visitor@bauwerk.example.com'),
      `drift:meeting:${meeting.eventId}:booked`,
    ]);
    expectExactlyOnce(amp, expected);
    // Only the two conversations that changed were read again (the meeting does not touch its conversation).
    expect(second.streams.find((s) => s.stream === 'drift_conversations')!.read).toBe(2);
    expect(second.streams.find((s) => s.stream === 'drift_messages')!.read).toBe(drift.store.messagesOf(oldest.id)!.length + drift.store.messagesOf(anonymous.id)!.length);
    expect(amp.store.byInsertId(`drift:message:${identifiedMessage.id}:received`)?.event).toMatchObject({ user_id: 'new.visitor@bauwerk.example.com', device_id: `drift-contact:${anonymous.contactId}` });
    expect(amp.store.byInsertId(`drift:meeting:${meeting.eventId}:booked`)?.event).toMatchObject({ event_properties: { conversation_id: known.id, channel: 'CONVERSATION' } });

    // A tick with nothing new: nothing sent, nothing new in silver.
    const before = amp.store.count();
    const quiet = await runSync(w);
    expect(quiet.failed).toEqual([]);
    expect(quiet.streams.every((s) => s.sent === 0)).toBe(true);
    // What shares the newest updatedAt was read by the last pass and is not read again.
    expect(quiet.streams.filter((s) => s.stream !== 'drift_meetings').map((s) => [s.stream, s.read])).toEqual(STREAMS.filter((s) => s !== 'drift_meetings').map((s) => [s, 0]));
    expect(quiet.streams.every((s) => s.apiCalls > 0)).toBe(true);
    expect(amp.store.count()).toBe(before);
    await expectSilverEqualsEmulator(w);
  });

  it('rides out a 429 storm with Retry-After: slower, nothing lost, nothing duplicated', async () => {
    const w = await makeWorld({ scale: 0.03 });
    w.drift.faults.set({ '*': { errorRate: 0.15, statuses: [429], retryAfterSeconds: 1 } });
    const t0 = Date.now();
    const summary = await runSync(w, { activityOverrides: FAST });
    const seconds = (Date.now() - t0) / 1000;
    expect(summary.failed).toEqual([]);
    const injected = [...w.drift.faults.injected.values()].reduce((a, b) => a + b, 0);
    expect(injected).toBeGreaterThan(5);
    // Each 429 is waited out for the Retry-After second through Temporal's nextRetryDelay, not the 50 ms policy.
    expect(seconds).toBeGreaterThan(3);
    await expectSilverEqualsEmulator(w);
    expectExactlyOnce(w.amp, expectedInsertIds(w));
  });

  it('delivers exactly once with Drift 5xx and resets, Amplitude 5xx, and a worker killed mid-run', async () => {
    const w = await makeWorld();
    w.drift.faults.set({ 'GET /conversations/:id/messages': { errorRate: 0.1, statuses: [500, 502, 'reset'] }, 'GET /contacts/:id': { errorRate: 0.1, statuses: [503] } });
    w.amp.faults.set({ 'POST /2/httpapi': { errorRate: 0.2, statuses: [500, 503], retryAfterSeconds: 0 } });
    const handle = await suite.env.client.workflow.start('syncSourceWorkflow', {
      taskQueue: w.taskQueue,
      workflowId: `drift-kill-${w.taskQueue}`,
      args: [{ source: 'drift', activityOverrides: { ...FAST, heartbeatTimeout: '3s' as Duration } }],
    });
    // The first worker dies with pages in flight: no grace, its activities never report back.
    const doomed = await Worker.create({ connection: suite.env.nativeConnection, taskQueue: w.taskQueue, workflowBundle: suite.bundle, activities: createActivities(w.deps), shutdownGraceTime: '1ms' });
    const running = doomed.run();
    const deadline = Date.now() + 60_000;
    while (w.amp.store.count() < 150 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    doomed.shutdown();
    await running;
    const expected = expectedInsertIds(w);
    expect(w.amp.store.count()).toBeGreaterThan(0);
    expect(w.amp.store.count()).toBeLessThan(expected.size);

    const rescuer = await createWorker({ config: w.config, deps: w.deps, connection: suite.env.nativeConnection, workflowBundle: suite.bundle, taskQueue: w.taskQueue });
    const summary = (await rescuer.runUntil(handle.result())) as SyncSourceSummary;
    expect(summary.failed).toEqual([]);
    expect(w.drift.faults.injected.size).toBeGreaterThan(0);
    await expectSilverEqualsEmulator(w);
    expectExactlyOnce(w.amp, expected);
  });

  it('restarts a pass whose list cursor Drift no longer accepts, and rejects a bad token with a message saying what to fix', async () => {
    const w = await makeWorld({ scale: 0.02 });
    await w.deps.warehouse.setSyncState('drift_conversations', { since: null, pass: { top: null, next: { kind: 'next', token: '999' } } });
    const ok = await runSync(w);
    expect(ok.failed).toEqual([]);
    await expectSilverEqualsEmulator(w);

    const bad = await startFlowWorld({
      name: 'drift-bad',
      temporalAddress: suite.env.address,
      configure: (config) => (config.drift = { ...config.drift, baseUrl: w.drift.url, token: 'wrong' }),
    });
    const failed = await runSourceSync(suite.env, suite.bundle, bad, { source: 'drift', streams: ['drift_conversations'] }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(String((failed as { cause?: { message?: string } })?.cause?.message ?? failed)).toMatch(/Set DRIFT_TOKEN/);
  });
});
