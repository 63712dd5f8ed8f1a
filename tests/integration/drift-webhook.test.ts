import { describe, expect, it } from 'vitest';
import type { Worker } from '@temporalio/worker';
import { WorkflowClient } from '@temporalio/client';
import { flowSuite, type FlowWorld, startFlowWorld } from '../helpers/flow-world';
import { createLogger } from '../../config/logger';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { createWorker } from '../../workers/worker';
import type { ActivityDeps } from '../../activities/deps';
import { startDriftEmulator, type DriftEmulator } from '../../sandbox/drift';
import { handleDriftWebhook, type DriftWebhookDeps } from '../../webhook/drift';
import { driftRoute } from '../../webhook/drift-route';
import { TemporalIngest } from '../../webhook/temporal-ingest';
import type { DriftWebhookSummary } from '../../workflows/drift-webhook';
import type { SyncSourceSummary } from '../../workflows/sync-source';

/**
 * Drift webhooks through the handler (no HTTP: the server mounts it), the real Temporal dev server and
 * worker, DuckDB and the emulators. Webhook bodies are the events the Drift emulator emitted for its
 * own data changes, wrapped as Drift posts them.
 */

const log = createLogger({ level: 'silent' });

const suite = flowSuite();

interface World extends FlowWorld {
  drift: DriftEmulator;
  worker: Worker;
  hook: DriftWebhookDeps;
  clock: { t: number };
}

async function makeWorld(): Promise<World> {
  const clock = { t: Date.now() };
  const drift = await startDriftEmulator({ port: 0, scale: 0.02, now: () => new Date(clock.t) });
  const base = await startFlowWorld({
    name: 'drift-hook',
    temporalAddress: suite.env.address,
    configure: (config) => (config.drift = { ...config.drift, baseUrl: drift.url }),
    closeFirst: [() => drift.close()],
  });
  const worker = await createWorker({ config: base.config, deps: base.deps, connection: suite.env.nativeConnection, workflowBundle: suite.bundle, taskQueue: base.taskQueue });
  const hook: DriftWebhookDeps = { client: suite.env.client.workflow, taskQueue: base.taskQueue, verificationToken: SANDBOX.drift.verificationToken, log };
  return { ...base, drift, worker, hook, clock };
}

/** The last event of this type the emulator emitted, as Drift posts it. */
function delivery(w: World, type: Parameters<DriftEmulator['emittedEvents']>[0]) {
  const e = w.drift.emittedEvents(type).at(-1)!;
  return { type: e.type, token: SANDBOX.drift.verificationToken, orgId: w.drift.store.orgId, data: JSON.parse(JSON.stringify(e.data)) as unknown };
}

async function poll(w: World): Promise<SyncSourceSummary> {
  return suite.env.client.workflow.execute('syncSourceWorkflow', { taskQueue: w.hook.taskQueue, workflowId: `drift-poll-${w.hook.taskQueue}-${Date.now()}`, args: [{ source: 'drift' }] });
}

/** Posts through the handler and waits for the workflow it fed. */
async function post(w: World, body: unknown): Promise<DriftWebhookSummary> {
  const res = await handleDriftWebhook(w.hook, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const { workflowId } = res.body as { workflowId: string };
  return suite.env.client.workflow.getHandle(workflowId).result() as Promise<DriftWebhookSummary>;
}

const count = (w: World, insertId: string) => w.amp.store.list().filter((e) => e.insertId === insertId).length;

describe('Drift webhooks through Temporal', () => {
  it('a webhook event then the poll of the same conversation yields one event; duplicates and goals count once', async () => {
    const w = await makeWorld();
    await w.worker.runUntil(async () => {
      const first = await poll(w);
      expect(first.failed).toEqual([]);
      const sentByPoll = w.amp.store.count();

      // A known visitor writes into an old conversation.
      w.clock.t += 60_000;
      const conversation = w.drift.store.listConversations({ limit: 1_000 }).page.find((c) => typeof w.drift.store.contact(c.contactId)!.attributes.email === 'string' && w.drift.store.contact(c.contactId)!.attributes.email!.includes('@'))!;
      const message = w.drift.store.addMessage(conversation.id, { author: { type: 'contact' }, body: 'Is the inspections module available offline?' });
      const body = delivery(w, 'new_message');
      const fast = await post(w, body);
      expect(fast.sent).toBe(1);
      const insertId = `drift:message:${message.id}:received`;
      expect(count(w, insertId)).toBe(1);
      expect(w.amp.store.byInsertId(insertId)?.event.device_id).toBe(`drift-contact:${conversation.contactId}`);
      const [row] = await w.deps.warehouse.query(`SELECT body FROM silver.drift_messages WHERE id = ?`, [message.id]);
      expect(row?.body).toBe('Is the inspections module available offline?');

      // Drift delivers the same event again: nothing new.
      const again = await post(w, body);
      expect(again.sent).toBe(0);

      // The poll reads the same conversation: still one event, and its cursor moved past it.
      const second = await poll(w);
      expect(second.failed).toEqual([]);
      expect(second.streams.reduce((n, s) => n + s.sent, 0)).toBe(0);
      expect(count(w, insertId)).toBe(1);
      expect(w.amp.store.count()).toBe(sentByPoll + 1);

      // A playbook goal exists only as a webhook: it lands in silver and Amplitude once.
      const goal = w.drift.store.playbookGoalMet(conversation.id);
      const goalBody = delivery(w, 'playbook_goal_met');
      await post(w, goalBody);
      await post(w, goalBody);
      const goalId = `drift:playbook-goal:${goal.conversationId}:${goal.playbookId}:${goal.goalId}`;
      expect(count(w, goalId)).toBe(1);
      expect(w.amp.store.byInsertId(goalId)?.event).toMatchObject({ event_type: 'Drift Playbook Goal Met', device_id: `drift-contact:${conversation.contactId}`, event_properties: { conversation_id: conversation.id, goal_id: goal.goalId } });
      expect(w.amp.store.byInsertId(goalId)?.event.user_id).toBe(w.drift.store.contact(conversation.contactId)!.attributes.email!.trim().toLowerCase());

      // A new conversation by a new visitor who then gives an email, and a meeting: all through webhooks first.
      w.clock.t += 1_000;
      const created = w.drift.store.createConversation({ body: 'Hi, pricing for 200 users?' });
      await post(w, delivery(w, 'new_conversation'));
      w.drift.store.identifyContact(created.conversation.contactId, { email: 'Ops.Lead@Constructa.example.com' });
      await post(w, delivery(w, 'contact_identified'));
      const meeting = w.drift.store.bookMeeting({ conversationId: created.conversation.id });
      await post(w, delivery(w, 'new_meeting'));
      expect(count(w, `drift:conversation:${created.conversation.id}:started`)).toBe(1);
      expect(w.amp.store.list().filter((e) => e.event.event_type === 'Drift Email Captured' && e.event.user_id === 'ops.lead@constructa.example.com')).toHaveLength(1);
      expect(w.amp.store.byInsertId(`drift:meeting:${meeting.eventId}:booked`)?.event).toMatchObject({ user_id: 'ops.lead@constructa.example.com', event_properties: { conversation_id: created.conversation.id } });

      const before = w.amp.store.count();
      const third = await poll(w);
      expect(third.failed).toEqual([]);
      expect(w.amp.store.count()).toBe(before);
      expect(w.amp.store.violations()).toEqual([]);
    });
  });

  it('a request refused with a 400 after its token matched is dead-lettered once, without the token; one with a wrong or no token is not', async () => {
    const w = await makeWorld();
    const deadLetters = new TemporalIngest({ client: suite.env.client, taskQueue: w.hook.taskQueue, source: 'drift', shards: 1, lingerMs: 0, settings: { maxAgeMs: 200 } });
    const hook: DriftWebhookDeps = { ...w.hook, deadLetters };
    const route = driftRoute(hook);
    type Letter = { record_key: string; stream: string; reason: string; payload: string };
    const letters = () => w.deps.warehouse.query<Letter>("SELECT record_key, stream, reason, CAST(payload AS VARCHAR) AS payload FROM ops.dead_letters WHERE flow = 'drift' ORDER BY record_key");
    const token = SANDBOX.drift.verificationToken;
    try {
      await w.worker.runUntil(async () => {
        // Right token, data without the conversation it names: 400, and the answer names its letter.
        const noConversation = { type: 'new_message', token, orgId: 21000, data: { body: 'no conversation' } };
        const refused = await handleDriftWebhook(hook, noConversation);
        expect(refused.status).toBe(400);
        const key = (refused.body as { deadLettered?: string }).deadLettered;
        expect(key).toMatch(/^new_message:[0-9a-f]{32}$/);
        // Drift delivers it again: the same key, no second letter.
        expect(((await handleDriftWebhook(hook, noConversation)).body as { deadLettered?: string }).deadLettered).toBe(key);
        // Right token, bad orgId: the envelope is refused, and recorded.
        const badOrg = await handleDriftWebhook(hook, { type: 'new_conversation', token, orgId: 'not an org!', data: { id: 1 } });
        expect(badOrg.status).toBe(400);
        // Over the depth limit, through the HTTP route: the raw body is kept (bounded), the token cut out of it.
        const deep = `{"type":"new_message","token":${JSON.stringify(token)},"orgId":21000,"data":{"conversationId":1,"x":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}}`;
        const over = await route.handler({ headers: {}, body: Buffer.from(deep) });
        expect(over.status).toBe(400);
        expect(over.body).toMatchObject({ limit: 'WEBHOOK_EVENT_MAX_DEPTH' });
        // Not dead-lettered: a wrong token, no token, a body that is not JSON.
        expect((await handleDriftWebhook(hook, { ...noConversation, token: 'guess' })).status).toBe(401);
        const anonymous = await handleDriftWebhook(hook, { type: 'new_message', orgId: 21000, data: {} });
        expect(anonymous.status).toBe(400);
        expect(anonymous.body).not.toHaveProperty('deadLettered');
        expect((await route.handler({ headers: {}, body: Buffer.from('{not json') })).status).toBe(400);

        const deadline = Date.now() + 30_000;
        let rows: Letter[] = [];
        while (Date.now() < deadline && (await w.deps.warehouse.countDeadLetters({ flow: 'drift' })) < 3) await new Promise((r) => setTimeout(r, 200));
        // A moment more, so that a duplicate or an anonymous letter would have landed too.
        await new Promise((r) => setTimeout(r, 1_000));
        rows = await letters();
        expect(rows).toHaveLength(3);
        expect(new Set(rows.map((r) => r.stream))).toEqual(new Set(['drift_webhook']));
        const byKey = new Map(rows.map((r) => [r.record_key, r]));
        expect(byKey.get(key!)?.reason).toMatch(/conversationId/);
        expect(JSON.parse(byKey.get(key!)!.payload)).toMatchObject({ type: 'new_message', token: '[verification token]', data: { body: 'no conversation' } });
        expect(rows.some((r) => r.record_key.startsWith('new_conversation:') && /orgId/.test(r.reason))).toBe(true);
        const deepLetter = rows.find((r) => /WEBHOOK_EVENT_MAX_DEPTH/.test(r.reason));
        expect(deepLetter?.payload).toContain('{\\"a\\":');
        for (const r of rows) expect(r.payload).not.toContain(token);
      });
    } finally {
      await deadLetters.close();
    }
  });

  it('refuses a wrong token, a malformed body, ignores unused types, and answers 503 when Temporal does not accept the event', async () => {
    const w = await makeWorld();
    // The worker runs so that the accepted-but-unknown conversation's workflow does not outlive the test's queue.
    await w.worker.runUntil(async () => {
      const good = { type: 'new_message', token: SANDBOX.drift.verificationToken, orgId: 21000, data: { conversationId: 1 } };
      expect((await handleDriftWebhook(w.hook, { ...good, token: 'guess' })).status).toBe(401);
      expect((await handleDriftWebhook(w.hook, { ...good, token: `${SANDBOX.drift.verificationToken}x` })).status).toBe(401);
      const malformed = await handleDriftWebhook(w.hook, { type: 'new_message', orgId: 21000 });
      expect(malformed.status).toBe(400);
      expect(JSON.stringify(malformed.body)).toMatch(/token/);
      expect((await handleDriftWebhook(w.hook, { ...good, data: { body: 'no conversation' } })).status).toBe(400);
      expect(await handleDriftWebhook(w.hook, { ...good, type: 'button_action' })).toEqual({ status: 200, body: { ignored: 'button_action' } });
      const unconfigured = await handleDriftWebhook({ ...w.hook, verificationToken: undefined }, good);
      expect(unconfigured.status).toBe(503);
      expect(JSON.stringify(unconfigured.body)).toMatch(/DRIFT_VERIFICATION_TOKEN/);
      const nowhere = new WorkflowClient({ connection: suite.env.client.connection, namespace: 'no-such-namespace' });
      expect((await handleDriftWebhook({ ...w.hook, client: nowhere }, good)).status).toBe(503);
    });
  });
});
