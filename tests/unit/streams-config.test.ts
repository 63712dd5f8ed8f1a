import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadStreamsFile, parseStreamsFile, StreamsFileError } from '../../streams/config/load';
import { DEFAULT_STREAMS_FILE } from '../../streams/registry';
import { syncStreamsOf } from '../../streams/sources';

/** The problems of a file's text, one line each, as the worker would print them. */
function problems(text: string): string[] {
  const r = parseStreamsFile(text, 'config/streams.yaml');
  if (r.ok) throw new Error('expected problems, the file was accepted');
  return r.problems;
}

const obj = (body: string) => `version: 1\nsalesforce:\n  objects:\n${body}`;

describe('the streams file: one line per problem, with its YAML path and the fix', () => {
  it('accepts the default file, which declares today\'s streams in order', () => {
    const file = loadStreamsFile(DEFAULT_STREAMS_FILE);
    expect(syncStreamsOf(file, 'salesforce')).toEqual(['salesforce_account', 'salesforce_contact', 'salesforce_lead', 'salesforce_opportunity']);
    expect(syncStreamsOf(file, 'drift')).toEqual(['drift_contacts', 'drift_conversations', 'drift_messages', 'drift_meetings']);
  });

  it('reports YAML syntax errors with line and column, an empty file, and a missing file', () => {
    expect(problems('version: 1\nsalesforce:\n  objects: [\n')).toEqual(['config/streams.yaml:4:1: Flow sequence in block collection must be sufficiently indented and end with a ] (fix the YAML syntax there)']);
    expect(problems('')).toEqual(['config/streams.yaml: the file is empty (start with `version: 1`; docs/streams.md shows a complete file)']);
    const missing = path.join(os.tmpdir(), `no-streams-${process.pid}.yaml`);
    expect(() => loadStreamsFile(missing)).toThrow(StreamsFileError);
    expect(() => loadStreamsFile(missing)).toThrow(/no such file \(create it, or point STREAMS_FILE at yours/);
  });

  it('refuses another version', () => {
    expect(problems('version: 2\n')).toEqual(['config/streams.yaml: version: expected 1 (got 2) [line 1]']);
    expect(problems('salesforce: { objects: [] }\n')).toEqual(['config/streams.yaml: version: missing (add `version: 1` at the top)']);
  });

  it('refuses unknown keys everywhere, suggesting the key meant', () => {
    expect(problems('version: 1\nsalesfroce: {}\n')).toEqual(['config/streams.yaml: salesfroce: unknown key "salesfroce" (did you mean "salesforce"?) [line 2]']);
    expect(problems(obj('    - { object: Lead, fields: [Id], feilds: [Email] }\n'))).toEqual(['config/streams.yaml: salesforce.objects[0].feilds: unknown key "feilds" (did you mean "fields"?) [line 4]']);
    expect(problems(obj('    - { object: Lead, fields: [Id], identity: { user_id: Id }, events: [{ id: c, on: created, name: C, frist_seen_time: CreatedDate }] }\n'))).toEqual([
      'config/streams.yaml: salesforce.objects[0].events[0].frist_seen_time: unknown key "frist_seen_time" (known keys: id, name, time, properties, once, on) [line 4]',
    ]);
    expect(problems('version: 1\ndrift:\n  streams:\n    drift_contact: {}\n    drift_messages: { enabeld: false }\n')).toEqual([
      'config/streams.yaml: drift.streams.drift_messages.enabeld: unknown key "enabeld" (did you mean "enabled"?) [line 5]',
      'config/streams.yaml: drift.streams.drift_contact: unknown key "drift_contact" (did you mean "drift_contacts"?) [line 4]',
    ]);
  });

  it('names the values a key accepts', () => {
    expect(problems(obj('    - { object: Lead, fields: [Id], identity: { user_id: Id }, events: [{ id: c, on: updated, name: C }] }\n'))).toEqual([
      'config/streams.yaml: salesforce.objects[0].events[0].on: expected created, deleted or changed (got "updated") [line 4]',
    ]);
    expect(problems(obj('    - { object: Lead, fields: [Id], cursor: CreatedDate }\n'))).toEqual(['config/streams.yaml: salesforce.objects[0].cursor: expected SystemModstamp or LastModifiedDate (got "CreatedDate") [line 4]']);
    expect(problems(obj('    - { object: Lead, fields: everything }\n'))).toEqual(['config/streams.yaml: salesforce.objects[0].fields: expected all, a list of API names, or { all_except: [...] } (got "everything") [line 4]']);
    expect(problems(obj('    - { object: 3Leads, fields: [Id] }\n'))).toEqual([
      'config/streams.yaml: salesforce.objects[0].object: expected a Salesforce API name (letters, digits and _, e.g. StageName or Region__c) (got "3Leads") [line 4]',
    ]);
    expect(problems(obj('    - { object: Lead, fields: [Id, Email], identity: { user_id: Email }, events: [{ id: c, on: created, name: C, properties: { a: { prev: Email } } }] }\n'))).toEqual([
      "config/streams.yaml: salesforce.objects[0].events[0].properties.a: expected a field's API name, { previous: Field } or { value: <literal> } (got a mapping) [line 4]",
    ]);
    expect(problems(obj('    - { object: Lead }\n'))).toEqual(['config/streams.yaml: salesforce.objects[0].fields: missing (add `fields: [Id, Name, ...]`, `fields: all` or `fields: { all_except: [...] }`) [line 4]']);
    expect(problems(obj('    - { object: Lead, fields: all, full_reread: weekly }\n'))).toEqual(['config/streams.yaml: salesforce.objects[0].full_reread: expected a duration such as 30m, 12h or 7d (got "weekly") [line 4]']);
  });

  it('checks identity, traits and rules against each other', () => {
    expect(problems(obj('    - { object: Lead, fields: [Id], events: [{ id: c, on: created, name: C }] }\n'))).toEqual([
      'config/streams.yaml: salesforce.objects[0].events: events need an identity (add `identity: { user_id: Email }` for a person, or `identity: { device_id: "..." }`) [line 4]',
    ]);
    expect(problems(obj('    - { object: Deal__c, fields: [Id, Name], identity: { device_id: "d:{Id}" }, traits: { name: Name } }\n'))).toEqual([
      'config/streams.yaml: salesforce.objects[0].traits: traits are sent with $identify, which needs a user_id identity (add `identity: { user_id: Email }`, or remove traits) [line 4]',
    ]);
    expect(problems(obj('    - { object: Lead, fields: [Id, Email], identity: { user_id: Email, device_id: "l:{Id}" } }\n'))).toEqual([
      'config/streams.yaml: salesforce.objects[0].identity: both user_id and device_id (keep user_id for a person, device_id for a record that is no person) [line 4]',
    ]);
    expect(problems(obj('    - { object: Lead, fields: [Id], identity: { device_id_fallback: "l:{Id}" } }\n'))).toEqual([
      'config/streams.yaml: salesforce.objects[0].identity: neither user_id nor device_id (add `user_id: Email` for a person, or `device_id: "sf-lead:{Id}"`) [line 4]',
      'config/streams.yaml: salesforce.objects[0].identity.device_id_fallback: only used with device_id (add device_id, or remove it) [line 4]',
    ]);
    const rules = obj(`    - object: Lead
      fields: [Id, Email, Status, IsConverted]
      identity: { user_id: Email }
      events:
        - { id: moved, on: changed, name: Moved }
        - { id: moved, on: changed, name: Converted, to: true }
        - { id: both, on: changed, name: Both, field: Status, to: { IsConverted: true } }
        - { id: gone, on: deleted, name: Gone }
      deletes: false
`);
    expect(problems(rules)).toEqual([
      'config/streams.yaml: salesforce.objects[0].events[0]: a changed rule needs `field: X` (any change of X) or `to: { X: value }` (a state reached) [line 8]',
      'config/streams.yaml: salesforce.objects[0].events[1].id: "moved" is already the id of events[0] (rule ids are insert_id suffixes: make each unique within the object) [line 9]',
      'config/streams.yaml: salesforce.objects[0].events[1].to: a single value needs `field:` (or write `to: { Field: true }`) [line 9]',
      'config/streams.yaml: salesforce.objects[0].events[2]: `field` with `to: { ... }` (use `to: { Status: value, ... }` alone, or `field` with a single `to` value) [line 10]',
      'config/streams.yaml: salesforce.objects[0].events[3]: a deleted rule needs deletes tracked (remove `deletes: false` from salesforce.objects[0]) [line 11]',
    ]);
  });

  it('requires every field the rules read to be in an explicit field list, suggesting the one meant', () => {
    const text = obj(`    - object: Opportunity
      fields: [Id, AccountId, StageName]
      identity: { device_id: "sf-account:{AcountId}", groups: { salesforce_account: AccountId } }
      events:
        - { id: stage, on: changed, field: Stagename, name: Stage, properties: { amount: Amount, from: { previous: StageName } } }
`);
    expect(problems(text)).toEqual([
      'config/streams.yaml: salesforce.objects[0].identity.device_id: AcountId is not in salesforce.objects[0].fields (did you mean AccountId? add AcountId to the list, or read another field) [line 6]',
      'config/streams.yaml: salesforce.objects[0].events[0].properties.amount: Amount is not in salesforce.objects[0].fields (add Amount to the list, or read another field) [line 8]',
      'config/streams.yaml: salesforce.objects[0].events[0].field: Stagename is listed as StageName in salesforce.objects[0].fields (spell it StageName) [line 8]',
    ]);
    expect(problems(obj('    - { object: Lead, fields: [Id, Email, Email] }\n'))).toEqual(['config/streams.yaml: salesforce.objects[0].fields: Email listed twice (list each field once) [line 4]']);
    expect(problems(obj('    - { object: Lead, fields: { all_except: [Id, Description] } }\n'))).toEqual(['config/streams.yaml: salesforce.objects[0].fields.all_except: Id is always read (remove it from the list) [line 4]']);
  });

  it('refuses two streams under one name and Drift events a stream does not send', () => {
    expect(problems(obj('    - { object: Contact, fields: [Id] }\n    - { object: Contact, fields: [Id, Email] }\n'))).toEqual([
      'config/streams.yaml: salesforce.objects[1]: stream name "salesforce_contact" is already used by salesforce.objects[0] (give one of them another `stream:`) [line 5]',
    ]);
    expect(problems('version: 1\ndrift:\n  streams:\n    drift_messages: { events: { email_captured: X, mesage_received: Y } }\n')).toEqual([
      'config/streams.yaml: drift.streams.drift_messages.events.email_captured: drift_messages sends no "email_captured" event (its events: message_received) [line 4]',
      'config/streams.yaml: drift.streams.drift_messages.events.mesage_received: drift_messages sends no "mesage_received" event (did you mean "message_received"?) [line 4]',
    ]);
  });

  it('reports every problem of a file at once, shape and cross-key alike', () => {
    const text = `version: 1
salesforce:
  objects:
    - object: Lead
      feilds: [Id]
    - object: Contact
      fields: [Id, Email]
      events: [{ id: created, on: created, name: A, properties: { title: Title } }]
drift:
  streams:
    drift_messages: { events: { email_captured: X } }
`;
    const lines = problems(text);
    expect(lines).toHaveLength(5);
    expect(lines.map((l) => l.split(': ')[1])).toEqual([
      'salesforce.objects[0].fields',
      'salesforce.objects[0].feilds',
      'salesforce.objects[1].events',
      'salesforce.objects[1].events[0].properties.title',
      'drift.streams.drift_messages.events.email_captured',
    ]);
  });

  it('allows YAML anchors and merge keys', () => {
    const text = obj(`    - object: Deal__c
      fields: [Id, Name, Stage__c]
      identity: { device_id: "sf-deal:{Id}" }
      events:
        - { id: created, on: created, name: Deal Created, properties: &deal { deal: Name, stage: Stage__c } }
        - { id: stage, on: changed, field: Stage__c, name: Deal Moved, properties: { <<: *deal, from: { previous: Stage__c }, kind: { value: deal } } }
`);
    const r = parseStreamsFile(text, 'x.yaml');
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.file.salesforce?.objects[0].events?.[1].properties).toEqual({ deal: 'Name', stage: 'Stage__c', from: { previous: 'Stage__c' }, kind: { value: 'deal' } });
  });

  it('throws StreamsFileError listing every line (what the worker prints before refusing to start)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streams-file-'));
    const file = path.join(dir, 'streams.yaml');
    fs.writeFileSync(file, 'version: 1\nsalesforce:\n  objects:\n    - { object: Lead, fields: nope, cursor: Created }\n');
    try {
      loadStreamsFile(file, { root: dir });
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(StreamsFileError);
      expect((err as Error).message).toBe(
        [
          'streams.yaml has 2 problems:',
          '  streams.yaml: salesforce.objects[0].fields: expected all, a list of API names, or { all_except: [...] } (got "nope") [line 4]',
          '  streams.yaml: salesforce.objects[0].cursor: expected SystemModstamp or LastModifiedDate (got "Created") [line 4]',
        ].join('\n'),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
