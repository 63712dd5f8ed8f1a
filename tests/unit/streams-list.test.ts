import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../client/cli';
import { CliContext } from '../../client/cli-context';
import { buildConfig } from '../../config/config';
import type { ListedStream } from '../../client/streams/list';
import { ROOT } from '../helpers/paths';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

async function cli(env: Record<string, string>, ...args: string[]) {
  const out = new Capture();
  const err = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    const code = await runCli(args, new CliContext(out, buildConfig(env, ROOT)));
    return { code, out: out.text, stderr };
  } finally {
    process.stderr.write = err;
  }
}

function tempFile(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streams-list-'));
  const file = path.join(dir, 'streams.yaml');
  fs.writeFileSync(file, text);
  return file;
}

describe('npx novade streams list', () => {
  it('prints the default streams with their columns and events', async () => {
    const { code, out } = await cli({}, 'streams', 'list');
    expect(code).toBe(0);
    const table = out.split('\n\n')[1].split('\n');
    expect(table[0].split(/\s{2,}/)).toEqual(['stream', 'source', 'object', 'runs', 'cursor', 'fields', 'events']);
    expect(table.slice(2).map((l) => l.split(/\s{2,}/))).toEqual([
      ['salesforce_account', 'salesforce', 'Account', 'scheduled', 'SystemModstamp', '14', '0'],
      ['salesforce_contact', 'salesforce', 'Contact', 'scheduled', 'SystemModstamp', '18', '1'],
      ['salesforce_lead', 'salesforce', 'Lead', 'scheduled', 'SystemModstamp', '22', '2'],
      ['salesforce_opportunity', 'salesforce', 'Opportunity', 'scheduled', 'SystemModstamp', '19', '4'],
      ['drift_contacts', 'drift', 'contacts', 'scheduled', '_observedAt', '8', '1'],
      ['drift_conversations', 'drift', 'conversations', 'scheduled', 'updatedAt', '10', '1'],
      ['drift_messages', 'drift', 'messages', 'scheduled', 'createdAt', '9', '1'],
      ['drift_meetings', 'drift', 'meetings', 'scheduled', 'updatedAt', '11', '1'],
      ['drift_playbook_goals', 'drift', 'playbook_goals', 'webhooks', 'receivedAt', '7', '1'],
    ]);
    expect(out).toContain('  identity: device_id = sf-account:{AccountId} (else sf-opportunity:{Id}), groups salesforce_account = AccountId');
    expect(out).toContain('    Account_Name__c → account_name varchar');
    expect(out).toMatch(/ {4}lost {5}IsClosed = true and IsWon = false {2}Opportunity Lost {11}sf:Opportunity:<Id>:<SystemModstamp>:lost/);
  });

  it('--json: a custom object with types from describe, renamed Drift events, a disabled stream and the user-id override', async () => {
    const file = tempFile(`version: 1
salesforce:
  objects:
    - object: Contact
      fields: [Id, Email, Work_Email__c, SystemModstamp]
      identity: { user_id: Email }
    - object: Project__c
      fields: [Id, Name, Status__c]
      identity: { device_id: "sf-project:{Id}" }
      events:
        - { id: done, on: changed, field: Status__c, to: Completed, name: Project Completed }
drift:
  streams:
    drift_meetings: { enabled: false }
    drift_conversations: { events: { conversation_started: Chat Started } }
`);
    const { code, out } = await cli({ STREAMS_FILE: file, SALESFORCE_USER_ID_FIELD: 'Work_Email__c' }, 'streams', 'list', '--json');
    expect(code).toBe(0);
    const listed = JSON.parse(out) as ListedStream[];
    const by = new Map(listed.map((s) => [s.stream, s]));
    // The user-id field is read as text whatever the built-in list knows (as SALESFORCE_USER_ID_FIELD always was).
    expect(by.get('salesforce_contact')).toMatchObject({ fieldsFrom: 'file', identity: 'user_id = Work_Email__c (SALESFORCE_USER_ID_FIELD; the file says Email)' });
    expect(by.get('salesforce_contact')?.fields.map((f) => `${f.field}:${f.column}:${f.type}`)).toEqual(['Id:id:varchar', 'Email:email:varchar', 'Work_Email__c:work_email:varchar', 'SystemModstamp:system_modstamp:timestamp', 'IsDeleted:is_deleted:boolean']);
    expect(by.get('salesforce_project')).toMatchObject({
      object: 'Project__c',
      scheduled: true,
      fieldsFrom: 'describe',
      fields: [
        { field: 'Id', column: 'id', type: null },
        { field: 'Name', column: 'name', type: null },
        { field: 'Status__c', column: 'status', type: null },
      ],
      events: [{ id: 'done', when: 'Status__c = "Completed"', name: 'Project Completed', insertId: 'sf:Project__c:<Id>:<SystemModstamp>:done' }],
    });
    expect(by.get('drift_meetings')).toMatchObject({ scheduled: false, selection: 'disabled (enabled: false)' });
    expect(by.get('drift_conversations')?.events).toEqual([{ id: 'conversation_started', when: 'conversation started', name: 'Chat Started', insertId: '' }]);
    expect(by.has('salesforce_account')).toBe(false);
  });

  it('prints every problem of an invalid file and exits 1', async () => {
    const file = tempFile('version: 1\nsalesforce:\n  objects:\n    - { object: Lead, fields: [Id], cursr: SystemModstamp }\n');
    const { code, stderr } = await cli({ STREAMS_FILE: file }, 'streams', 'list');
    expect(code).toBe(1);
    expect(stderr).toContain(`salesforce.objects[0].cursr: unknown key "cursr" (did you mean "cursor"?) [line 4]`);
  });

  it('`sync --stream` names a configured stream by object or stream name, and refuses others before calling Temporal', async () => {
    const { code, stderr } = await cli({ TEMPORAL_ADDRESS: '127.0.0.1:1' }, 'sync', 'salesforce', '--stream', 'Contact', 'Project__c');
    expect(code).toBe(1);
    expect(stderr).toContain('Unknown salesforce stream "Project__c". Configured: salesforce_account, salesforce_contact, salesforce_lead, salesforce_opportunity');
  });
});
