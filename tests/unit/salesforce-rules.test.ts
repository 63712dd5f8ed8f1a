import { describe, expect, it } from 'vitest';
import { parseStreamsFile } from '../../streams/config/load';
import { buildStreamDeclarations } from '../../streams/registry';
import { syncStreamsOf } from '../../streams/sources';
import type { StreamsFile } from '../../streams/config/schema';
import type { Row } from '../../connectors/warehouse/types';
import type { StreamDeclaration } from '../../streams/types';
import { conversationSchema } from '../../mappings/drift-records';

const ctx = { minIdLength: 5, userIdField: 'Email' };

function file(text: string): StreamsFile {
  const r = parseStreamsFile(text, 'test.yaml');
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.file;
}

/** One object's stream from a file snippet; fields typed by the built-in list (Lead's, Opportunity's). */
function stream(yaml: string, opts: { userIdField?: string } = {}): StreamDeclaration {
  const decls = buildStreamDeclarations(file(`version: 1\nsalesforce:\n  objects:\n${yaml}`), { salesforce: opts });
  return [...decls.values()][0];
}

/** Validates, maps, and returns the silver row to feed the next version as `previous`. */
function version(d: StreamDeclaration, raw: Record<string, unknown>, previous?: Row) {
  const record = d.schema.parse(raw) as Record<string, unknown>;
  const row = d.toRow(record);
  return { row, out: d.toEvents(record, previous, ctx) };
}

const lead = (over: Record<string, unknown> = {}) => ({
  Id: '00Q5g00000LeAd1AAA',
  Email: 'Wei.Ming@Straits.com',
  Status: 'Open - Not Contacted',
  Company: 'Straits Pte Ltd',
  IsConverted: false,
  ConvertedDate: null,
  IsDeleted: false,
  CreatedDate: '2024-01-10T02:00:00.000+0000',
  LastModifiedDate: '2024-01-10T02:00:00.000+0000',
  SystemModstamp: '2024-01-10T02:00:00.000+0000',
  ...over,
});

describe('event rules of the streams file', () => {
  it('fires a deleted rule once, when a record silver knew alive is in the recycle bin', () => {
    const d = stream(`    - object: Lead
      fields: [Id, Email, Status, CreatedDate, SystemModstamp, IsDeleted]
      identity: { user_id: Email }
      events:
        - { id: created, on: created, name: Lead Created }
        - { id: gone, on: deleted, name: Lead Deleted, properties: { status: Status, why: { value: recycle bin } } }
`);
    const first = version(d, lead());
    expect(first.out.events.map((e) => e.insert_id)).toEqual(['sf:Lead:00Q5g00000LeAd1AAA:created']);
    const deleted = version(d, lead({ IsDeleted: true, SystemModstamp: '2024-02-01T00:00:00.000+0000' }), first.row);
    expect(deleted.out).toEqual({
      events: [
        {
          event_type: 'Lead Deleted',
          user_id: 'wei.ming@straits.com',
          time: Date.parse('2024-02-01T00:00:00Z'),
          insert_id: 'sf:Lead:00Q5g00000LeAd1AAA:gone',
          event_properties: { status: 'Open - Not Contacted', why: 'recycle bin' },
        },
      ],
    });
    // Seen deleted again (a re-read), or first seen already deleted: nothing.
    expect(version(d, lead({ IsDeleted: true, SystemModstamp: '2024-02-02T00:00:00.000+0000' }), deleted.row).out).toEqual({ events: [] });
    expect(version(d, lead({ IsDeleted: true })).out).toEqual({ events: [] });
  });

  it('a state reached on first sight takes first_seen_time clamped to the record’s life; later, the change’s time; `time` overrides', () => {
    const d = stream(`    - object: Lead
      fields: [Id, Email, IsConverted, ConvertedDate, Status, LastModifiedDate, CreatedDate, SystemModstamp]
      identity: { user_id: Email }
      events:
        - { id: converted, on: changed, to: { IsConverted: true }, once: true, first_seen_time: ConvertedDate, name: Converted }
        - { id: status, on: changed, field: Status, time: LastModifiedDate, name: Status Changed, properties: { from: { previous: Status }, to: Status } }
        - { id: reopened, on: changed, to: { Status: Open - Not Contacted, ConvertedDate: null }, name: Reopened }
`);
    // ConvertedDate before CreatedDate (a data error): clamped to CreatedDate.
    const early = version(d, lead({ IsConverted: true, ConvertedDate: '2023-12-01' }));
    expect(early.out.events.find((e) => e.event_type === 'Converted')).toMatchObject({ time: Date.parse('2024-01-10T02:00:00Z'), insert_id: 'sf:Lead:00Q5g00000LeAd1AAA:converted' });
    const inLife = version(d, lead({ IsConverted: true, ConvertedDate: '2024-01-10', SystemModstamp: '2024-03-01T00:00:00.000+0000' }));
    expect(inLife.out.events.find((e) => e.event_type === 'Converted')?.time).toBe(Date.parse('2024-01-10T02:00:00Z'));
    const late = version(d, lead({ IsConverted: true, ConvertedDate: '2024-02-15', SystemModstamp: '2024-03-01T00:00:00.000+0000' }));
    expect(late.out.events.find((e) => e.event_type === 'Converted')?.time).toBe(Date.parse('2024-02-15T00:00:00Z'));

    const open = version(d, lead());
    expect(open.out.events.map((e) => e.event_type)).toEqual(['Reopened']);
    const moved = version(d, lead({ Status: 'Working - Contacted', LastModifiedDate: '2024-01-11T08:00:00.000+0000', SystemModstamp: '2024-01-11T09:00:00.000+0000' }), open.row);
    expect(moved.out.events).toEqual([
      {
        event_type: 'Status Changed',
        user_id: 'wei.ming@straits.com',
        time: Date.parse('2024-01-11T08:00:00Z'),
        insert_id: 'sf:Lead:00Q5g00000LeAd1AAA:2024-01-11T09:00:00.000Z:status',
        event_properties: { from: 'Open - Not Contacted', to: 'Working - Contacted' },
      },
    ]);
    const converted = version(d, lead({ Status: 'Working - Contacted', IsConverted: true, ConvertedDate: '2024-01-12', SystemModstamp: '2024-01-12T10:00:00.000+0000' }), moved.row);
    expect(converted.out.events).toMatchObject([{ event_type: 'Converted', time: Date.parse('2024-01-12T10:00:00Z') }]);
    // Back to open with no ConvertedDate: both conditions hold again, so Reopened fires.
    expect(version(d, lead({ SystemModstamp: '2024-01-13T10:00:00.000+0000' }), converted.row).out.events.map((e) => e.event_type)).toEqual(['Status Changed', 'Reopened']);
  });

  it('SALESFORCE_USER_ID_FIELD replaces the file’s user_id field; unset, the file’s own field is used', () => {
    const yaml = `    - object: Lead
      fields: [Id, Email, Work_Email__c]
      identity: { user_id: Work_Email__c }
      traits: { company: Company }
`;
    expect(() => stream(yaml)).toThrow(/Company is not in salesforce.objects\[0\].fields/);
    const fixed = yaml.replace('[Id, Email, Work_Email__c]', '[Id, Email, Work_Email__c, Company]');
    const own = stream(fixed);
    expect(version(own, lead({ Work_Email__c: 'W.Ming@Work.example' })).out.identify).toMatchObject({ user_id: 'w.ming@work.example', user_properties: { $set: { company: 'Straits Pte Ltd' } } });
    const overridden = stream(fixed, { userIdField: 'Email' });
    expect(version(overridden, lead({ Work_Email__c: 'W.Ming@Work.example' })).out.identify?.user_id).toBe('wei.ming@straits.com');
    // A person without a usable id: dead-lettered, with the field named.
    expect(version(own, lead({ Work_Email__c: null })).out).toEqual({ events: [], unsendable: 'Lead 00Q5g00000LeAd1AAA not sent to Amplitude: no Work_Email__c: cannot identify the person in Amplitude' });
  });

  it('a device identity falls back, then dead-letters a record whose templates are all empty', () => {
    const d = stream(`    - object: Opportunity
      fields: [Id, AccountId, Name, CreatedDate, SystemModstamp]
      identity: { device_id: "sf-account:{AccountId}", device_id_fallback: "sf-deal:{Name}", groups: { salesforce_account: AccountId } }
      events: [{ id: created, on: created, name: Deal Created }]
`);
    const opp = (over: Record<string, unknown>) => ({ Id: '0065g00000OpP01AAA', AccountId: null, Name: 'Deal', CreatedDate: '2024-02-01T00:00:00.000+0000', SystemModstamp: '2024-02-01T00:00:00.000+0000', ...over });
    expect(version(d, opp({ AccountId: '0015g00000XyZabAAB' })).out.events[0]).toMatchObject({ device_id: 'sf-account:0015g00000XyZabAAB', groups: { salesforce_account: '0015g00000XyZabAAB' } });
    expect(version(d, opp({})).out.events[0]).toMatchObject({ device_id: 'sf-deal:Deal' });
    expect(version(d, opp({})).out.events[0]).not.toHaveProperty('groups');
    expect(version(d, opp({ Name: null })).out).toEqual({ events: [], unsendable: 'Opportunity 0065g00000OpP01AAA not sent to Amplitude: no device id: a field of "sf-account:{AccountId}" is empty' });
  });
});

describe('Drift entries of the streams file', () => {
  it('renames events and leaves a disabled stream out of scheduled runs', () => {
    const f = file(`version: 1
drift:
  streams:
    drift_conversations: { events: { conversation_started: Chat Started } }
    drift_meetings: { enabled: false }
`);
    expect(syncStreamsOf(f, 'drift')).toEqual(['drift_contacts', 'drift_conversations', 'drift_messages']);
    expect(syncStreamsOf(f, 'salesforce')).toEqual([]);
    const decls = buildStreamDeclarations(f);
    // A disabled stream keeps its declaration: a Drift webhook naming its records is still read.
    expect(decls.has('drift_meetings')).toBe(true);
    const d = decls.get('drift_conversations')!;
    const record = conversationSchema.parse({ id: 77, contactId: 5, status: 'open', createdAt: 1_700_000_000_000, updatedAt: 1_700_000_000_000, inboxId: 1 });
    const related = { get: (lookup: string) => (lookup === 'contact' ? { id: 5, email: 'visitor@example.com' } : undefined) };
    const out = d.toEvents(record, undefined, ctx, related);
    expect(out.events.map((e) => e.event_type)).toEqual(['Chat Started']);
  });
});
