import { createHash } from 'node:crypto';
import type { Warehouse } from '../../connectors/warehouse/types';
import { resolveUserId } from '../../mappings/identity';
import type { SalesforceEmulator, SObjectName } from '../../sandbox/salesforce';
import type { DriftEmulator } from '../../sandbox/drift';
import type { BigQueryEmulator } from '../../sandbox/bigquery';

/**
 * What silver and Amplitude must hold after the topology scenario, derived from the emulators'
 * state and the flows' documented rules (the same rules the integration suites check), never from
 * the mapping code. Each entry: table -> the primary keys it must hold, each once.
 */
export interface Truth {
  silver: Record<string, Set<string>>;
  insertIds: Set<string>;
}

const iso = (v: unknown) => new Date(typeof v === 'number' ? v : Date.parse(String(v))).toISOString();

const SALESFORCE_OBJECTS: { object: SObjectName; table: string }[] = [
  { object: 'Account', table: 'silver.salesforce_account' },
  { object: 'Contact', table: 'silver.salesforce_contact' },
  { object: 'Lead', table: 'silver.salesforce_lead' },
  { object: 'Opportunity', table: 'silver.salesforce_opportunity' },
];

/** A first sync of the org: every record (deleted ones as soft deletes) in silver; lifecycle events by the rules. */
export function salesforceTruth(sf: SalesforceEmulator): Truth {
  const silver: Record<string, Set<string>> = {};
  for (const { object, table } of SALESFORCE_OBJECTS) silver[table] = new Set(sf.store.records(object, { includeDeleted: true }).map((r) => String(r.Id)));
  const valid = (email: unknown) => resolveUserId(email, { field: 'Email', minIdLength: 5 }).ok;
  const ids = new Set<string>();
  for (const c of sf.store.records('Contact')) {
    if (!valid(c.Email)) continue;
    ids.add(`sf:Contact:${c.Id}:created`);
    ids.add(`sf:Contact:${c.Id}:${iso(c.SystemModstamp)}:identify`);
  }
  for (const l of sf.store.records('Lead')) {
    if (!valid(l.Email)) continue;
    ids.add(`sf:Lead:${l.Id}:created`);
    ids.add(`sf:Lead:${l.Id}:${iso(l.SystemModstamp)}:identify`);
    if (l.IsConverted === true) ids.add(`sf:Lead:${l.Id}:converted`);
  }
  for (const o of sf.store.records('Opportunity')) {
    ids.add(`sf:Opportunity:${o.Id}:created`);
    if (o.IsWon === true) ids.add(`sf:Opportunity:${o.Id}:${iso(o.SystemModstamp)}:won`);
    else if (o.IsClosed === true) ids.add(`sf:Opportunity:${o.Id}:${iso(o.SystemModstamp)}:lost`);
  }
  return { silver, insertIds: ids };
}

const DAY = 86_400_000;

/** A first sync of the Drift account at the emulator's clock `now`. */
export function driftTruth(drift: DriftEmulator, now: number): Truth {
  const { store } = drift;
  const conversations = store.listConversations({ limit: 1_000_000 }).page;
  const meetings = store.allMeetings().filter((m) => m.slotStart >= now - 30 * DAY);
  const messages = conversations.flatMap((c) => store.messagesOf(c.id) ?? []);
  const silver = {
    'silver.drift_conversations': new Set(conversations.map((c) => String(c.id))),
    'silver.drift_messages': new Set(messages.map((m) => String(m.id))),
    'silver.drift_contacts': new Set(conversations.map((c) => String(c.contactId))),
    'silver.drift_meetings': new Set(meetings.map((m) => String(m.eventId))),
  };
  const userIdOf = (email: unknown) => {
    const r = resolveUserId(email, { field: 'email', minIdLength: 5 });
    return r.ok ? r.userId : undefined;
  };
  const ids = new Set<string>();
  for (const c of conversations) {
    ids.add(`drift:conversation:${c.id}:started`);
    for (const m of store.messagesOf(c.id) ?? []) if (m.author.type === 'contact' && m.type === 'chat') ids.add(`drift:message:${m.id}:received`);
    const contact = store.contact(c.contactId)!;
    const userId = userIdOf(contact.attributes.email);
    if (userId) ids.add(`drift:contact:${contact.id}:email:${createHash('sha256').update(userId).digest('hex').slice(0, 16)}`);
  }
  for (const m of meetings) ids.add(`drift:meeting:${m.eventId}:booked`);
  return { silver, insertIds: ids };
}

export const SEGMENT_TABLES = ['tracks', 'identifies', 'pages'] as const;

/** The whole seeded range backfilled: duplicates collapsed; a track needs an event name, every event an id. */
export function segmentTruth(bq: BigQueryEmulator): Truth & { distinct: number; rejected: number } {
  const silver: Record<string, Set<string>> = {};
  const ids = new Set<string>();
  let distinct = 0;
  let rejected = 0;
  for (const table of SEGMENT_TABLES) {
    const rows = bq.expected.rows(table);
    distinct += rows.length;
    silver[`silver.segment_${table}`] = new Set(rows.filter((r) => table !== 'tracks' || r.event !== null).map((r) => String(r.id)));
    for (const r of rows) {
      const named = table !== 'tracks' || r.event !== null;
      if (!named || (r.user_id === null && r.anonymous_id === null)) rejected++;
      else ids.add(`seg:${String(r.id)}`);
    }
  }
  return { silver, insertIds: ids, distinct, rejected };
}

export interface Mismatch {
  table: string;
  rows: number;
  distinct: number;
  missing: string[];
  extra: string[];
  missingCount: number;
  extraCount: number;
}

/** Each table of `silver` against the warehouse: the same keys, none twice. Empty when all match. */
export async function silverMismatches(wh: Warehouse, silver: Record<string, Set<string>>, key: (table: string) => string = () => 'id'): Promise<Mismatch[]> {
  const out: Mismatch[] = [];
  for (const [table, want] of Object.entries(silver)) {
    const got = (await wh.query(`SELECT ${key(table)} AS k FROM ${table}`)).map((r) => String(r.k));
    const gotSet = new Set(got);
    const missing = [...want].filter((k) => !gotSet.has(k));
    const extra = [...gotSet].filter((k) => !want.has(k));
    if (missing.length || extra.length || gotSet.size !== got.length)
      out.push({ table, rows: got.length, distinct: gotSet.size, missing: missing.slice(0, 5), extra: extra.slice(0, 5), missingCount: missing.length, extraCount: extra.length });
  }
  return out;
}

/** Amplitude's events against the expected insert_ids: none missing, none extra, none twice. */
export function amplitudeMismatch(insertIds: string[], want: Set<string>): { count: number; distinct: number; missing: string[]; extra: string[]; missingCount: number; extraCount: number } {
  const got = new Set(insertIds);
  const missing = [...want].filter((id) => !got.has(id));
  const extra = [...got].filter((id) => !want.has(id));
  return { count: insertIds.length, distinct: got.size, missing: missing.slice(0, 5), extra: extra.slice(0, 5), missingCount: missing.length, extraCount: extra.length };
}
