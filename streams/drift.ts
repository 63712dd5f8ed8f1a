import type { z } from 'zod';
import type { Row } from '../connectors/warehouse/types';
import {
  DRIFT_EVENT,
  DRIFT_SILVER,
  contactEvents,
  contactRow,
  conversationEvents,
  conversationRow,
  meetingEvents,
  meetingRow,
  messageEvents,
  messageRow,
  playbookGoalEvents,
  playbookGoalRow,
} from '../mappings/drift';
import {
  conversationSchema,
  meetingSchema,
  messageSchema,
  playbookGoalSchema,
  syncedContactSchema,
  type DriftConversationRecord,
  type DriftMeetingRecord,
  type DriftMessageRecord,
  type PlaybookGoalRecord,
  type SyncedContactRecord,
} from '../mappings/drift-records';
import type { Lookup, StreamDeclaration } from './types';
import { DRIFT_STREAM_EVENTS, type DriftEventKey, type DriftSection, type DriftStreamName } from './config/schema';
import type { MappedEvents, MappingContext, RelatedRows } from '../mappings/types';

/**
 * The Drift streams. Contacts sync first in a run (streams/names.ts), so the other streams find the
 * visitor's email in silver for their events' user_id; messages and goals also read their conversation
 * (inbox, playbook, agent). `drift_playbook_goals` has no REST source: only webhooks feed it.
 */

type Key = 'conversations' | 'messages' | 'contacts' | 'meetings' | 'playbook_goals';

function declaration<R>(spec: {
  object: Key;
  primaryKey: string;
  cursorField: string;
  schema: z.ZodType<R>;
  toRow: (record: R) => Row;
  toEvents: (record: R, previous: Row | undefined, ctx: MappingContext, related?: RelatedRows) => MappedEvents;
  lookups?: Lookup<R>[];
}): StreamDeclaration<R> {
  const silver = DRIFT_SILVER[spec.object];
  return {
    name: silver.name,
    source: 'drift',
    object: spec.object,
    primaryKey: spec.primaryKey,
    cursorField: spec.cursorField,
    fields: [],
    schema: spec.schema,
    // Named as silver's key so that organize and the reconciliation check can join the two layers.
    bronze: { name: silver.name, keyColumns: [{ name: silver.primaryKey[0], type: 'varchar' }] },
    silver,
    toRow: spec.toRow,
    isDeleted: () => false,
    toEvents: spec.toEvents,
    lookups: spec.lookups,
  };
}

const contactLookup = <R>(key: (r: R) => number | null | undefined): Lookup<R> => ({
  name: 'contact',
  table: DRIFT_SILVER.contacts,
  key: (r) => {
    const k = key(r);
    return k === null || k === undefined ? null : String(k);
  },
});
const conversationLookup = <R>(key: (r: R) => number): Lookup<R> => ({ name: 'conversation', table: DRIFT_SILVER.conversations, key: (r) => String(key(r)) });

/** Event key of the streams file → the name each mapping sends by default. */
export const DEFAULT_EVENT_NAMES: Record<DriftEventKey, string> = {
  email_captured: DRIFT_EVENT.emailCaptured,
  conversation_started: DRIFT_EVENT.conversationStarted,
  message_received: DRIFT_EVENT.messageReceived,
  meeting_booked: DRIFT_EVENT.meetingBooked,
  playbook_goal_met: DRIFT_EVENT.playbookGoalMet,
};

/** The stream's events under the names the file gives them (the defaults otherwise). */
function renamed(decl: StreamDeclaration, names: Readonly<Record<string, string>> | undefined): StreamDeclaration {
  const map = new Map<string, string>();
  for (const key of DRIFT_STREAM_EVENTS[decl.name as DriftStreamName] ?? []) {
    const name = names?.[key];
    if (name !== undefined && name !== DEFAULT_EVENT_NAMES[key]) map.set(DEFAULT_EVENT_NAMES[key], name);
  }
  if (map.size === 0) return decl;
  return {
    ...decl,
    toEvents: (record, previous, ctx, related) => {
      const out = decl.toEvents(record, previous, ctx, related);
      return { ...out, events: out.events.map((e) => (map.has(e.event_type) ? { ...e, event_type: map.get(e.event_type) as string } : e)) };
    },
  };
}

/** Whether the streams file leaves a Drift stream on (every stream is, unless `enabled: false`). */
export function driftStreamEnabled(section: DriftSection | undefined, stream: string): boolean {
  return section?.streams[stream as DriftStreamName]?.enabled !== false;
}

/**
 * The Drift streams with the file's event names. A stream the file turns off keeps its declaration
 * (a Drift webhook naming its records is still read) but is left out of the scheduled runs
 * (`syncStreamsOf` in streams/sources.ts).
 */
export function driftDeclarations(section?: DriftSection): StreamDeclaration[] {
  return builtinDriftDeclarations().map((d) => renamed(d, section?.streams[d.name as DriftStreamName]?.events));
}

function builtinDriftDeclarations(): StreamDeclaration[] {
  return [
    declaration<SyncedContactRecord>({ object: 'contacts', primaryKey: 'id', cursorField: '_observedAt', schema: syncedContactSchema, toRow: contactRow, toEvents: contactEvents }),
    declaration<DriftConversationRecord>({
      object: 'conversations',
      primaryKey: 'id',
      cursorField: 'updatedAt',
      schema: conversationSchema,
      toRow: conversationRow,
      toEvents: conversationEvents,
      lookups: [contactLookup((c) => c.contactId)],
    }),
    declaration<DriftMessageRecord>({
      object: 'messages',
      primaryKey: 'id',
      cursorField: 'createdAt',
      schema: messageSchema,
      toRow: messageRow,
      toEvents: messageEvents,
      // A visitor's message is written by the conversation's contact: the author id is that contact.
      lookups: [conversationLookup((m) => m.conversationId), contactLookup((m) => (m.author.type === 'contact' ? m.author.id : null))],
    }),
    declaration<DriftMeetingRecord>({ object: 'meetings', primaryKey: 'eventId', cursorField: 'updatedAt', schema: meetingSchema, toRow: meetingRow, toEvents: meetingEvents, lookups: [contactLookup((m) => m.schedulerId)] }),
    declaration<PlaybookGoalRecord>({
      object: 'playbook_goals',
      primaryKey: 'id',
      cursorField: 'receivedAt',
      schema: playbookGoalSchema,
      toRow: playbookGoalRow,
      toEvents: playbookGoalEvents,
      lookups: [conversationLookup((g) => g.conversationId), contactLookup((g) => g.contactId)],
    }),
  ] as unknown as StreamDeclaration[];
}
