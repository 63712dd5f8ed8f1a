import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDriftEmulator, type DriftEmulator } from '../../sandbox/drift';

/** Drift webhook delivery from the emulator when its data changes, as our webhook will receive it. */

let emu: DriftEmulator;
let receiver: FastifyInstance;
let receiverUrl: string;
const received: Array<{ headers: Record<string, unknown>; body: { type: string; token: string; orgId: number; data: Record<string, unknown> } }> = [];
let script: number[] = [];

beforeAll(async () => {
  receiver = Fastify();
  receiver.post('/drift', async (req, reply) => {
    received.push({ headers: req.headers, body: req.body as (typeof received)[number]['body'] });
    return reply.code(script.shift() ?? 200).send({});
  });
  await receiver.listen({ port: 0, host: '127.0.0.1' });
  const address = receiver.server.address();
  receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/drift`;
  emu = await startDriftEmulator({ port: 0, seed: 3, scale: 0.05, webhook: { url: receiverUrl, verificationToken: 'sandbox-drift-verification' } });
});
afterAll(async () => {
  await emu.close();
  await receiver.close();
});
afterEach(() => {
  received.length = 0;
  script = [];
  emu.setWebhook({ url: receiverUrl, verificationToken: 'sandbox-drift-verification' });
});

describe('Drift emulator webhooks', () => {
  it('delivers new_message, contact_identified, new_meeting and playbook_goal_met as {type, token, orgId, data} with X-Verification-Token', async () => {
    const conversation = emu.store.listConversations({ limit: 1 }).page[0];
    const visitor = emu.store.createContact();
    emu.store.addMessage(conversation.id, { body: 'Hello again' });
    emu.store.identifyContact(visitor.id, { email: 'identified@visitor.test' });
    emu.store.bookMeeting({ conversationId: conversation.id });
    emu.store.playbookGoalMet(conversation.id);
    await emu.flushWebhooks(5_000);

    expect(received.map((r) => r.body.type)).toEqual(['new_message', 'contact_identified', 'new_meeting', 'playbook_goal_met']);
    for (const r of received) {
      expect(r.body).toMatchObject({ token: 'sandbox-drift-verification', orgId: 21_000 });
      expect(r.headers['x-verification-token']).toBe('sandbox-drift-verification');
      expect(r.headers['content-type']).toMatch(/application\/json/);
    }
    const [message, identified, meeting, goal] = received.map((r) => r.body.data);
    expect(message).toMatchObject({ conversationId: conversation.id, body: 'Hello again', type: 'chat', author: { type: 'contact', id: conversation.contactId } });
    expect(typeof message.createdAt).toBe('number');
    expect(identified).toMatchObject({ id: visitor.id, attributes: { email: 'identified@visitor.test' } });
    expect(meeting).toMatchObject({ conversationId: conversation.id, schedulerId: conversation.contactId, slotStart: expect.any(Number) });
    expect(goal).toMatchObject({ conversationId: conversation.id, goalId: expect.any(String), playbookId: expect.any(Number) });
  });

  it('sends only the subscribed event types', async () => {
    emu.setWebhook({ url: receiverUrl, events: ['new_meeting'] });
    const conversation = emu.store.listConversations({ limit: 1 }).page[0];
    emu.store.addMessage(conversation.id, { body: 'not sent' });
    emu.store.bookMeeting({ conversationId: conversation.id });
    await emu.flushWebhooks(5_000);
    expect(received.map((r) => r.body.type)).toEqual(['new_meeting']);
    expect(emu.emittedEvents('new_message').length).toBeGreaterThan(0);
  });

  it('retries a failed delivery, then gives up after the last attempt', async () => {
    emu.setWebhook({ url: receiverUrl, retryDelaysMs: [10, 10] });
    script = [500, 200];
    const conversation = emu.store.listConversations({ limit: 1 }).page[0];
    emu.store.addMessage(conversation.id, { body: 'retried' });
    await emu.flushWebhooks(5_000);
    expect(received).toHaveLength(2);
    expect(emu.webhookStats()).toMatchObject({ delivered: 1, failed: 0 });

    received.length = 0;
    script = [503, 503, 503];
    emu.store.addMessage(conversation.id, { body: 'lost' });
    await emu.flushWebhooks(5_000);
    expect(received).toHaveLength(3);
    expect(emu.webhookStats()).toMatchObject({ delivered: 1, failed: 1, pending: 0 });
  });

  it('a webhook carries the data as it was when the event happened', async () => {
    const visitor = emu.store.createContact();
    emu.store.identifyContact(visitor.id, { email: 'first@visitor.test' });
    emu.store.updateContact(visitor.id, { email: 'second@visitor.test' });
    await emu.flushWebhooks(5_000);
    expect(received[0].body.data).toMatchObject({ attributes: { email: 'first@visitor.test' } });
    expect(received[1].body).toMatchObject({ type: 'contact_updated', data: { endUserId: visitor.id, diff: [{ name: 'attributes.email', previous: 'first@visitor.test', updated: 'second@visitor.test' }] } });
  });

  it('webhook target can be set at run time over PUT /__sandbox/webhook', async () => {
    const put = (body: unknown) => fetch(`${emu.url}/__sandbox/webhook`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect((await put({ url: 'not a url' })).status).toBe(400);
    expect((await put({})).status).toBe(200);
    emu.store.addMessage(emu.store.listConversations({ limit: 1 }).page[0].id, { body: 'nobody listens' });
    expect((await put({ url: receiverUrl, verificationToken: 'rotated' })).status).toBe(200);
    emu.store.addMessage(emu.store.listConversations({ limit: 1 }).page[0].id, { body: 'heard' });
    await fetch(`${emu.url}/__sandbox/webhook/flush`, { method: 'POST' });
    expect(received.map((r) => [r.body.data.body, r.body.token])).toEqual([['heard', 'rotated']]);
  });
});
