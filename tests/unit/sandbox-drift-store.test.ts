import { describe, expect, it } from 'vitest';
import { PerMinuteLimiter } from '../../sandbox/drift/rate-limit';
import { DriftStore, type DriftEventType } from '../../sandbox/drift/store';
import { generateDriftWorld } from '../../sandbox/seed/drift';

const ANCHOR = Date.UTC(2026, 10, 1, 0, 0, 0);

function setup() {
  let clock = ANCHOR;
  const events: Array<{ type: DriftEventType; data: unknown }> = [];
  const store = new DriftStore(generateDriftWorld({ seed: 5, scale: 0.1, anchorMs: ANCHOR }), () => new Date(clock), (type, data) => events.push({ type, data }));
  return { store, events, tick: (ms = 1_000) => (clock += ms) };
}

function allPages(store: DriftStore, limit: number) {
  const seen: Array<{ id: number; updatedAt: number }> = [];
  let after: { updatedAt: number; id: number } | undefined;
  for (;;) {
    const { page, more } = store.listConversations({ limit, after });
    seen.push(...page);
    if (!more) return seen;
    after = page[page.length - 1];
  }
}

describe('Drift store', () => {
  it('lists conversations newest updatedAt first and pages through all of them without gaps or repeats', () => {
    const { store } = setup();
    const seen = allPages(store, 7);
    expect(seen).toHaveLength(store.conversationCount());
    expect(new Set(seen.map((c) => c.id)).size).toBe(seen.length);
    for (let i = 1; i < seen.length; i++) expect(seen[i - 1].updatedAt).toBeGreaterThanOrEqual(seen[i].updatedAt);
  });

  it('filters by status', () => {
    const { store } = setup();
    const { page } = store.listConversations({ limit: 1_000, statusIds: ['open', 'pending'] });
    expect(page.length).toBeGreaterThan(0);
    expect(page.every((c) => c.status === 'open' || c.status === 'pending')).toBe(true);
  });

  it('a new message bumps updatedAt, moves the conversation to the top, reopens it and emits new_message', () => {
    const { store, events, tick } = setup();
    const oldest = allPages(store, 50).at(-1) as { id: number };
    const closed = store.conversation(oldest.id);
    store.setConversationStatus(oldest.id, 'closed');
    tick();
    const message = store.addMessage(oldest.id, { body: 'Any news?' });
    expect(store.listConversations({ limit: 1 }).page[0].id).toBe(oldest.id);
    expect(closed?.status).toBe('open');
    expect(closed?.updatedAt).toBe(ANCHOR + 1_000);
    expect(message).toMatchObject({ conversationId: oldest.id, author: { type: 'contact', id: closed?.contactId, bot: false }, type: 'chat', createdAt: ANCHOR + 1_000 });
    expect(store.messagesOf(oldest.id)?.at(-1)).toBe(message);
    expect(events.at(-1)).toEqual({ type: 'new_message', data: message });
    expect(allPages(store, 9)).toHaveLength(store.conversationCount());
  });

  it('an agent reply joins the participants; private notes are users only', () => {
    const { store } = setup();
    const c = store.listConversations({ limit: 1 }).page[0];
    store.addMessage(c.id, { author: { type: 'user', id: 501_010 }, body: 'On it', type: 'private_note' });
    expect(c.participants).toContain(501_010);
    expect(() => store.addMessage(c.id, { author: { type: 'contact' }, type: 'private_note' })).toThrow();
  });

  it('finds contacts by email ignoring case and padding, returning every contact that shares it', () => {
    const { store } = setup();
    const a = store.createContact({ email: 'Dup.Person@Example.com ' });
    const b = store.createContact({ email: 'dup.person@example.com' });
    expect(store.contactsByEmail('DUP.PERSON@example.com').map((c) => c.id)).toEqual([a.id, b.id]);
    expect(store.contactsByEmail('dup.person@example.com', 1)).toHaveLength(1);
    expect(store.contactsByEmail('nobody@example.com')).toEqual([]);
  });

  it('identifying a visitor indexes the email and emits contact_identified; updating emits contact_updated with a diff', () => {
    const { store, events } = setup();
    const visitor = store.createContact();
    store.identifyContact(visitor.id, { email: 'new.lead@straits.com', name: 'New Lead' });
    expect(store.contactsByEmail('new.lead@straits.com')[0].id).toBe(visitor.id);
    expect(events.at(-1)).toMatchObject({ type: 'contact_identified', data: { id: visitor.id, attributes: { email: 'new.lead@straits.com' } } });
    store.updateContact(visitor.id, { phone: '+65 6000 0000' });
    expect(events.at(-1)).toMatchObject({ type: 'contact_updated', data: { endUserId: visitor.id, diff: [{ name: 'attributes.phone', previous: null, updated: '+65 6000 0000' }] } });
  });

  it('creates conversations (by email), books meetings and meets playbook goals, emitting their events', () => {
    const { store, events } = setup();
    const { conversation, messages } = store.createConversation({ email: 'someone@new.com', playbookId: 120_001, body: 'Demo please' });
    expect(messages.map((m) => m.author.type)).toEqual(['user', 'contact']);
    expect(store.listConversations({ limit: 1 }).page[0].id).toBe(conversation.id);
    const meeting = store.bookMeeting({ conversationId: conversation.id });
    expect(meeting).toMatchObject({ schedulerId: conversation.contactId, conversationId: conversation.id, status: 'ACTIVE' });
    const goal = store.playbookGoalMet(conversation.id);
    expect(goal).toMatchObject({ playbookId: 120_001, conversationId: conversation.id, goalId: '120001-email-captured' });
    expect(events.map((e) => e.type)).toEqual(['new_conversation', 'new_message', 'new_message', 'new_meeting', 'playbook_goal_met']);
  });

  it('returns meetings whose slot starts in the window, no further back than 30 days', () => {
    const { store } = setup();
    const contact = store.createContact({ email: 'm@x.com' });
    const old = store.bookMeeting({ contactId: contact.id, slotStart: ANCHOR - 40 * 86_400_000 });
    const recent = store.bookMeeting({ contactId: contact.id, slotStart: ANCHOR - 2 * 86_400_000 });
    const found = store.meetingsBetween(0, ANCHOR);
    expect(found).toContain(recent);
    expect(found).not.toContain(old);
    expect(found.every((m) => m.slotStart >= ANCHOR - 30 * 86_400_000)).toBe(true);
  });
});

describe('Drift per-minute rate limit', () => {
  it('allows N calls per sliding minute and says how long to wait', () => {
    const limiter = new PerMinuteLimiter(2);
    expect(limiter.take('t', 0)).toBeUndefined();
    expect(limiter.take('t', 10_000)).toBeUndefined();
    expect(limiter.take('t', 20_000)).toBe(40);
    expect(limiter.take('t', 60_001)).toBeUndefined();
    limiter.set(undefined);
    for (let i = 0; i < 100; i++) expect(limiter.take('t', 60_002)).toBeUndefined();
  });
});
