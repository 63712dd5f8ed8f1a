import { createHash } from 'node:crypto';
import type { Row, SilverTableDef } from '../connectors/warehouse/types';
import type { MappedEvents, MappingContext, RelatedRows } from './types';
import type { AmplitudeEvent } from './amplitude-types';
import { AMPLITUDE_MAX_STRING, resolveUserId } from './identity';
import type { DriftConversationRecord, DriftMeetingRecord, DriftMessageRecord, PlaybookGoalRecord, SyncedContactRecord } from './drift-records';

/**
 * Drift records → silver rows and Amplitude events, as pure functions.
 *
 * Who: every event carries `device_id` `drift-contact:<contact id>`, and a `user_id` when the
 * contact's email passes the identity rule Salesforce uses (mappings/identity.ts), so an anonymous
 * visitor's earlier events join their profile once Amplitude sees both ids on one event (the Email
 * Captured event has both). The contact comes from silver (`related`), synced first in each run; a
 * contact not synced yet only costs the user_id, never the event.
 *
 * Events, each once (deterministic insert_id of the fact, no version in it):
 * - `Drift Conversation Started`: a conversation first seen (time: createdAt).
 * - `Drift Message Received`: a visitor's chat message first seen (author type contact), with `bot`
 *   (Drift's author.bot flag) and whether the conversation has a playbook (the bot's side of it).
 * - `Drift Email Captured`: a contact first seen with a usable email, or whose email became usable or
 *   changed (time: createdAt when first seen, else its last activity: the chat where it was typed).
 * - `Drift Meeting Booked`: a meeting first seen (time: scheduledAt), cancelled ones included with their status.
 * - `Drift Playbook Goal Met`: from the `playbook_goal_met` webhook only (Drift has no REST endpoint for it).
 */

export const DRIFT_EVENT = {
  conversationStarted: 'Drift Conversation Started',
  messageReceived: 'Drift Message Received',
  emailCaptured: 'Drift Email Captured',
  meetingBooked: 'Drift Meeting Booked',
  playbookGoalMet: 'Drift Playbook Goal Met',
} as const;

const ts = (ms: number | null | undefined) => (typeof ms === 'number' ? new Date(ms) : null);
const text = (v: unknown) => (typeof v === 'string' && v !== '' ? (v.length > AMPLITUDE_MAX_STRING ? v.slice(0, AMPLITUDE_MAX_STRING) : v) : null);
const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : null);

// ---- silver tables ------------------------------------------------------------------------------

export const DRIFT_SILVER: Record<'conversations' | 'messages' | 'contacts' | 'meetings' | 'playbook_goals', SilverTableDef> = {
  conversations: {
    name: 'drift_conversations',
    primaryKey: ['id'],
    versionColumn: 'updated_at',
    columns: [
      { name: 'id', type: 'bigint', nullable: false },
      { name: 'contact_id', type: 'bigint' },
      { name: 'status', type: 'varchar' },
      { name: 'inbox_id', type: 'bigint' },
      { name: 'playbook_id', type: 'bigint' },
      { name: 'agent_id', type: 'bigint' },
      { name: 'participants', type: 'json' },
      { name: 'tags', type: 'json' },
      { name: 'created_at', type: 'timestamp' },
      { name: 'updated_at', type: 'timestamp' },
    ],
  },
  messages: {
    name: 'drift_messages',
    primaryKey: ['id'],
    versionColumn: 'created_at',
    columns: [
      { name: 'id', type: 'bigint', nullable: false },
      { name: 'conversation_id', type: 'bigint' },
      { name: 'author_type', type: 'varchar' },
      { name: 'author_id', type: 'bigint' },
      { name: 'author_bot', type: 'boolean' },
      { name: 'type', type: 'varchar' },
      { name: 'body', type: 'varchar' },
      { name: 'playbook_id', type: 'bigint' },
      { name: 'created_at', type: 'timestamp' },
    ],
  },
  contacts: {
    name: 'drift_contacts',
    primaryKey: ['id'],
    versionColumn: 'observed_at',
    columns: [
      { name: 'id', type: 'bigint', nullable: false },
      { name: 'email', type: 'varchar' },
      { name: 'name', type: 'varchar' },
      { name: 'external_id', type: 'varchar' },
      { name: 'attributes', type: 'json' },
      { name: 'created_at', type: 'timestamp' },
      { name: 'last_active', type: 'timestamp' },
      { name: 'observed_at', type: 'timestamp' },
    ],
  },
  meetings: {
    name: 'drift_meetings',
    primaryKey: ['event_id'],
    versionColumn: 'updated_at',
    columns: [
      { name: 'event_id', type: 'varchar', nullable: false },
      { name: 'agent_id', type: 'bigint' },
      { name: 'scheduler_id', type: 'bigint' },
      { name: 'conversation_id', type: 'bigint' },
      { name: 'status', type: 'varchar' },
      { name: 'meeting_source', type: 'varchar' },
      { name: 'meeting_type', type: 'varchar' },
      { name: 'slot_start', type: 'timestamp' },
      { name: 'slot_end', type: 'timestamp' },
      { name: 'scheduled_at', type: 'timestamp' },
      { name: 'updated_at', type: 'timestamp' },
    ],
  },
  playbook_goals: {
    name: 'drift_playbook_goals',
    primaryKey: ['id'],
    versionColumn: 'received_at',
    columns: [
      { name: 'id', type: 'varchar', nullable: false },
      { name: 'conversation_id', type: 'bigint' },
      { name: 'playbook_id', type: 'bigint' },
      { name: 'goal_id', type: 'varchar' },
      { name: 'goal_message', type: 'varchar' },
      { name: 'contact_id', type: 'bigint' },
      { name: 'received_at', type: 'timestamp' },
    ],
  },
};

export function conversationRow(c: DriftConversationRecord): Row {
  return {
    id: c.id,
    contact_id: c.contactId,
    status: c.status,
    inbox_id: c.inboxId ?? null,
    playbook_id: c.relatedPlaybookId ?? null,
    agent_id: c.participants?.[0] ?? null,
    participants: c.participants ?? [],
    tags: (c.conversationTags ?? []).map((t) => t.name),
    created_at: ts(c.createdAt),
    updated_at: ts(c.updatedAt),
  };
}

export function messageRow(m: DriftMessageRecord): Row {
  return {
    id: m.id,
    conversation_id: m.conversationId,
    author_type: m.author.type,
    author_id: m.author.id,
    author_bot: m.author.bot ?? false,
    type: m.type,
    body: m.body ?? null,
    playbook_id: num(m.attributes?.playbookId),
    created_at: ts(m.createdAt),
  };
}

export function contactRow(c: SyncedContactRecord): Row {
  const { email, name, externalId, last_active, ...rest } = c.attributes;
  return {
    id: c.id,
    email: typeof email === 'string' ? email : null,
    name: name ?? null,
    external_id: externalId ?? null,
    attributes: JSON.parse(JSON.stringify(rest)) as Row[string],
    created_at: ts(c.createdAt),
    last_active: ts(last_active),
    observed_at: ts(c._observedAt),
  };
}

export function meetingRow(m: DriftMeetingRecord): Row {
  return {
    event_id: m.eventId,
    agent_id: m.agentId,
    scheduler_id: m.schedulerId,
    conversation_id: m.conversationId ?? null,
    status: m.status,
    meeting_source: m.meetingSource ?? null,
    meeting_type: m.meetingType ?? null,
    slot_start: ts(m.slotStart),
    slot_end: ts(m.slotEnd),
    scheduled_at: ts(m.scheduledAt),
    updated_at: ts(m.updatedAt),
  };
}

export function playbookGoalRow(g: PlaybookGoalRecord): Row {
  return {
    id: g.id,
    conversation_id: g.conversationId,
    playbook_id: g.playbookId,
    goal_id: g.goalId,
    goal_message: g.goalMessage ?? null,
    contact_id: g.contactId ?? null,
    received_at: ts(g.receivedAt),
  };
}

// ---- identity -------------------------------------------------------------------------------------

export const deviceIdOf = (contactId: number | string) => `drift-contact:${contactId}`;

/** The Amplitude user id of an email, or undefined when the identity rule refuses it. */
export function userIdOfEmail(email: unknown, ctx: MappingContext): string | undefined {
  const r = resolveUserId(email, { field: 'email', minIdLength: ctx.minIdLength });
  return r.ok ? r.userId : undefined;
}

function who(contactId: number | null | undefined, related: RelatedRows | undefined, ctx: MappingContext): Pick<AmplitudeEvent, 'user_id' | 'device_id'> | undefined {
  if (contactId === null || contactId === undefined) return undefined;
  const contact = related?.get('contact', String(contactId));
  const userId = contact ? userIdOfEmail(contact.email, ctx) : undefined;
  return userId ? { user_id: userId, device_id: deviceIdOf(contactId) } : { device_id: deviceIdOf(contactId) };
}

/** Drops nulls: Amplitude property values must not be null. */
function props(p: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== null && v !== undefined));
}

const noContact = (what: string) => ({ events: [], unsendable: `${what} names no Drift contact: nobody to attribute the event to` });

// ---- events ---------------------------------------------------------------------------------------

export function conversationEvents(c: DriftConversationRecord, previous: Row | undefined, ctx: MappingContext, related?: RelatedRows): MappedEvents {
  if (previous) return { events: [] };
  const id = who(c.contactId, related, ctx);
  if (!id) return noContact(`conversation ${c.id}`);
  return {
    events: [
      {
        event_type: DRIFT_EVENT.conversationStarted,
        ...id,
        time: c.createdAt,
        insert_id: `drift:conversation:${c.id}:started`,
        event_properties: props({
          conversation_id: c.id,
          inbox_id: c.inboxId,
          playbook_id: c.relatedPlaybookId,
          agent_id: c.participants?.[0],
          status: c.status,
          channel: 'chat',
          drift_contact_id: c.contactId,
          tags: c.conversationTags?.length ? c.conversationTags.map((t) => t.name) : undefined,
        }),
      },
    ],
  };
}

export function messageEvents(m: DriftMessageRecord, previous: Row | undefined, ctx: MappingContext, related?: RelatedRows): MappedEvents {
  // Messages never change: one seen before has had its event. Agents' and bots' messages are not the visitor's activity.
  if (previous || m.author.type !== 'contact' || m.type !== 'chat') return { events: [] };
  const conversation = related?.get('conversation', String(m.conversationId));
  const contactId = num(conversation?.contact_id) ?? m.author.id;
  const id = who(contactId, related, ctx);
  if (!id) return noContact(`message ${m.id}`);
  return {
    events: [
      {
        event_type: DRIFT_EVENT.messageReceived,
        ...id,
        time: m.createdAt,
        insert_id: `drift:message:${m.id}:received`,
        event_properties: props({
          conversation_id: m.conversationId,
          message_id: m.id,
          bot: m.author.bot ?? false,
          inbox_id: num(conversation?.inbox_id),
          playbook_id: num(conversation?.playbook_id),
          agent_id: num(conversation?.agent_id),
          channel: 'chat',
          drift_contact_id: contactId,
        }),
      },
    ],
  };
}

export function contactEvents(c: SyncedContactRecord, previous: Row | undefined, ctx: MappingContext): MappedEvents {
  const userId = userIdOfEmail(c.attributes.email, ctx);
  if (!userId) return { events: [] };
  if (previous && userIdOfEmail(previous.email, ctx) === userId) return { events: [] };
  const emailDigest = createHash('sha256').update(userId).digest('hex').slice(0, 16);
  const time = previous ? (c.attributes.last_active ?? c._observedAt) : c.createdAt;
  return {
    events: [
      {
        event_type: DRIFT_EVENT.emailCaptured,
        user_id: userId,
        device_id: deviceIdOf(c.id),
        time,
        insert_id: `drift:contact:${c.id}:email:${emailDigest}`,
        event_properties: props({ drift_contact_id: c.id, channel: 'chat', first_seen: previous === undefined }),
        user_properties: props({ drift_contact_id: c.id, drift_name: text(c.attributes.name) }),
      },
    ],
  };
}

export function meetingEvents(m: DriftMeetingRecord, previous: Row | undefined, ctx: MappingContext, related?: RelatedRows): MappedEvents {
  if (previous) return { events: [] };
  const id = who(m.schedulerId, related, ctx);
  if (!id) return noContact(`meeting ${m.eventId}`);
  return {
    events: [
      {
        event_type: DRIFT_EVENT.meetingBooked,
        ...id,
        time: m.scheduledAt,
        insert_id: `drift:meeting:${m.eventId}:booked`,
        event_properties: props({
          meeting_id: m.eventId,
          agent_id: m.agentId,
          conversation_id: m.conversationId,
          status: m.status,
          channel: m.meetingSource,
          meeting_type: m.meetingType,
          slot_start: new Date(m.slotStart).toISOString(),
          booked_by_agent: typeof m.bookedBy === 'number',
          drift_contact_id: m.schedulerId,
        }),
      },
    ],
  };
}

export function playbookGoalEvents(g: PlaybookGoalRecord, previous: Row | undefined, ctx: MappingContext, related?: RelatedRows): MappedEvents {
  if (previous) return { events: [] };
  const conversation = related?.get('conversation', String(g.conversationId));
  const contactId = g.contactId ?? num(conversation?.contact_id);
  const id = who(contactId, related, ctx);
  if (!id) return noContact(`playbook goal ${g.id}`);
  return {
    events: [
      {
        event_type: DRIFT_EVENT.playbookGoalMet,
        ...id,
        time: g.receivedAt,
        insert_id: `drift:playbook-goal:${g.id}`,
        event_properties: props({
          conversation_id: g.conversationId,
          playbook_id: g.playbookId,
          goal_id: g.goalId,
          goal_message: text(g.goalMessage),
          inbox_id: num(conversation?.inbox_id),
          agent_id: num(conversation?.agent_id),
          channel: 'chat',
          drift_contact_id: contactId,
        }),
      },
    ],
  };
}
