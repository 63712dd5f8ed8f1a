import { describe, expect, it } from 'vitest';
import type { Row } from '../../connectors/warehouse/types';
import { contactEvents, contactRow, conversationEvents, meetingEvents, messageEvents, messageRow, playbookGoalEvents } from '../../mappings/drift';
import { messageSchema, syncedContactSchema, type DriftMessageRecord, type SyncedContactRecord } from '../../mappings/drift-records';
import type { RelatedRows } from '../../mappings/types';

const ctx = { minIdLength: 5, userIdField: 'email' };
const related = (rows: Record<string, Record<string, Row>>): RelatedRows => ({ get: (lookup, key) => (key ? rows[lookup]?.[key] : undefined) });

const contact = (attributes: Record<string, unknown>, observedAt = 2_000): SyncedContactRecord =>
  syncedContactSchema.parse({ id: 16_000_000_001, createdAt: 1_000, attributes: { tags: [], ...attributes }, _observedAt: observedAt });
const message = (over: Partial<DriftMessageRecord> = {}): DriftMessageRecord =>
  messageSchema.parse({ id: 3_700_000_000_001, conversationId: 3_700_000_000, createdAt: 5_000, type: 'chat', body: 'hi', author: { type: 'contact', id: 16_000_000_001, bot: false }, ...over });

describe('Drift mappings', () => {
  it('Email Captured: first seen with a usable email, or when the email becomes usable or changes; never for the same one again', () => {
    const known = contact({ email: '  Jane.Tan@Example.COM ', last_active: 1_500 });
    const first = contactEvents(known, undefined, ctx).events;
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ event_type: 'Drift Email Captured', user_id: 'jane.tan@example.com', device_id: 'drift-contact:16000000001', time: 1_000 });

    const anonymousRow = contactRow(contact({}));
    const identified = contactEvents(contact({ email: 'jane.tan@example.com', last_active: 1_800 }, 3_000), anonymousRow, ctx).events;
    expect(identified[0]).toMatchObject({ time: 1_800, insert_id: first[0].insert_id });

    expect(contactEvents(contact({ email: 'JANE.TAN@example.com' }, 4_000), contactRow(known), ctx).events).toEqual([]);
    expect(contactEvents(contact({ email: 'siti@straits' }), undefined, ctx).events).toEqual([]);
    const moved = contactEvents(contact({ email: 'jane@new-company.example.com' }, 5_000), contactRow(known), ctx).events;
    expect(moved[0].insert_id).not.toBe(first[0].insert_id);
  });

  it('Message Received: visitor chat messages only, once, with the bot flag and the conversation’s inbox, playbook and agent', () => {
    const conversation = { id: 3_700_000_000, contact_id: 16_000_000_001, inbox_id: 71_001, playbook_id: 9, agent_id: 501_001 } as Row;
    const rel = related({ conversation: { '3700000000': conversation }, contact: { '16000000001': contactRow(contact({ email: 'jane.tan@example.com' })) } });
    const [event] = messageEvents(message(), undefined, ctx, rel).events;
    expect(event).toMatchObject({
      event_type: 'Drift Message Received',
      user_id: 'jane.tan@example.com',
      device_id: 'drift-contact:16000000001',
      time: 5_000,
      insert_id: 'drift:message:3700000000001:received',
      event_properties: { conversation_id: 3_700_000_000, bot: false, inbox_id: 71_001, playbook_id: 9, agent_id: 501_001, channel: 'chat' },
    });
    expect(messageEvents(message(), messageRow(message()), ctx, rel).events).toEqual([]);
    expect(messageEvents(message({ author: { type: 'user', id: 501_001, bot: true } }), undefined, ctx, rel).events).toEqual([]);
    expect(messageEvents(message({ author: { type: 'user', id: 501_001, bot: false }, type: 'private_note' }), undefined, ctx, rel).events).toEqual([]);
    // Before the contact is known the event still goes, to the visitor's device.
    const [anonymous] = messageEvents(message(), undefined, ctx, related({})).events;
    expect(anonymous.user_id).toBeUndefined();
    expect(anonymous.device_id).toBe('drift-contact:16000000001');
  });

  it('Conversation Started, Meeting Booked and Playbook Goal Met are sent once, to the contact', () => {
    const rel = related({ contact: { '16000000001': contactRow(contact({ email: 'jane.tan@example.com' })) } });
    const conversation = { id: 3_700_000_000, contactId: 16_000_000_001, status: 'open', createdAt: 10, updatedAt: 20, inboxId: 71_001, relatedPlaybookId: 4, participants: [501_002] };
    expect(conversationEvents(conversation, undefined, ctx, rel).events[0]).toMatchObject({ insert_id: 'drift:conversation:3700000000:started', time: 10, user_id: 'jane.tan@example.com', event_properties: { playbook_id: 4, agent_id: 501_002, inbox_id: 71_001 } });
    expect(conversationEvents(conversation, { id: 3_700_000_000 }, ctx, rel).events).toEqual([]);
    const meeting = { eventId: 'evt-1', agentId: 501_002, schedulerId: 16_000_000_001, status: 'ACTIVE', slotStart: 86_400_000, updatedAt: 30, scheduledAt: 30, meetingSource: 'CONVERSATION', conversationId: 3_700_000_000 };
    expect(meetingEvents(meeting, undefined, ctx, rel).events[0]).toMatchObject({ event_type: 'Drift Meeting Booked', insert_id: 'drift:meeting:evt-1:booked', time: 30, event_properties: { channel: 'CONVERSATION', slot_start: '1970-01-02T00:00:00.000Z' } });
    const goal = { id: '3700000000:4:g1', conversationId: 3_700_000_000, playbookId: 4, goalId: 'g1', contactId: 16_000_000_001, receivedAt: 40 };
    expect(playbookGoalEvents(goal, undefined, ctx, rel).events[0]).toMatchObject({ event_type: 'Drift Playbook Goal Met', insert_id: 'drift:playbook-goal:3700000000:4:g1', user_id: 'jane.tan@example.com' });
    expect(playbookGoalEvents(goal, { id: goal.id }, ctx, rel).events).toEqual([]);
    expect(playbookGoalEvents({ ...goal, contactId: null }, undefined, ctx, related({})).unsendable).toMatch(/names no Drift contact/);
  });
});
