import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { flowSuite, runSourceSync, startFlowWorld } from '../helpers/flow-world';
import { startSalesforceEmulator } from '../../sandbox/salesforce';
import { SEED_AS_OF } from '../../sandbox/seed/salesforce';
import { DEFAULT_STREAMS_FILE } from '../../streams/registry';
import type { SyncSourceSummary } from '../../workflows/sync-source';

/**
 * A custom object and custom fields declared in the streams file, synced end to end on Temporal,
 * DuckDB and the emulators: the file alone adds `Project__c` (its field types from describe) and a
 * custom Contact field as a trait; silver gets typed columns, Amplitude the rules' events.
 */

const suite = flowSuite();

const PROJECT = `
    - object: Project__c
      fields: [Id, Name, Account__c, Status__c, Contract_Value__c, Site_Count__c, Start_Date__c,
               OwnerId, IsDeleted, CreatedDate, LastModifiedDate, SystemModstamp]
      identity:
        device_id: "sf-account:{Account__c}"
        device_id_fallback: "sf-project:{Id}"
        groups: { salesforce_account: Account__c }
      events:
        - id: created
          on: created
          name: Project Created
          properties: &project { salesforce_project_id: Id, project_name: Name, status: Status__c, contract_value: Contract_Value__c, sites: Site_Count__c, start_date: Start_Date__c }
        - id: status
          on: changed
          field: Status__c
          name: Project Status Changed
          properties: { <<: *project, from_status: { previous: Status__c }, source: { value: salesforce } }
        - id: completed
          on: changed
          field: Status__c
          to: Completed
          name: Project Completed
          properties: *project
        - id: deleted
          on: deleted
          name: Project Deleted
          properties: { salesforce_project_id: Id }
`;

/** The default file, with a custom Contact field as a trait and Project__c appended. */
function streamsFile(dir: string): string {
  let text = fs.readFileSync(DEFAULT_STREAMS_FILE, 'utf8');
  text = text.replace('HasOptedOutOfEmail, Description, Account_Name__c,', 'HasOptedOutOfEmail, Description, Account_Name__c, Job_Role__c,');
  text = text.replace('        salesforce_contact_id: Id\n', '        salesforce_contact_id: Id\n        job_role: Job_Role__c\n');
  text = text.replace('\ndrift:', `${PROJECT}\ndrift:`);
  const file = path.join(dir, 'streams.yaml');
  fs.writeFileSync(file, text);
  return file;
}

describe('a custom object declared in the streams file', () => {
  it('syncs Project__c and a custom Contact field into silver and Amplitude, then its changes and deletes', async () => {
    const clock = { t: SEED_AS_OF + 10 * 60_000 };
    const sf = await startSalesforceEmulator({ port: 0, scale: 0.01, now: () => new Date(clock.t), bulkJobDurationMs: 50 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-custom-file-'));
    const w = await startFlowWorld({
      name: 'sf-custom',
      temporalAddress: suite.env.address,
      env: { STREAMS_FILE: streamsFile(dir), SALESFORCE_BULK_THRESHOLD: '500' },
      configure: (config) => (config.salesforce.loginUrl = sf.url),
      closeFirst: [() => sf.close(), () => fs.rmSync(dir, { recursive: true, force: true })],
    });
    const run = (): Promise<SyncSourceSummary> => runSourceSync(suite.env, suite.bundle, w, { source: 'salesforce' });

    const first = await run();
    expect(first.failed).toEqual([]);
    expect(first.streams.map((s) => s.stream)).toEqual(['salesforce_account', 'salesforce_contact', 'salesforce_lead', 'salesforce_opportunity', 'salesforce_project']);

    // Silver: one typed row per record, recycle bin included.
    const projects = sf.store.records('Project__c', { includeDeleted: true });
    expect(projects.length).toBeGreaterThan(10);
    const rows = await w.deps.warehouse.query('SELECT * FROM silver.salesforce_project ORDER BY id');
    expect(rows.length).toBe(projects.length);
    const types = Object.fromEntries((await w.deps.warehouse.query<{ column_name: string; data_type: string }>(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'silver' AND table_name = 'salesforce_project'`)).map((c) => [c.column_name, c.data_type]));
    expect(types).toMatchObject({ id: 'VARCHAR', name: 'VARCHAR', account: 'VARCHAR', status: 'VARCHAR', contract_value: 'DOUBLE', site_count: 'DOUBLE', start_date: 'VARCHAR', system_modstamp: 'TIMESTAMP' });
    const sample = projects.find((p) => p.Contract_Value__c !== null && p.Account__c !== null && p.IsDeleted !== true)!;
    const row = rows.find((r) => r.id === sample.Id)!;
    expect(row).toMatchObject({ name: sample.Name, account: sample.Account__c, status: sample.Status__c, contract_value: sample.Contract_Value__c });

    // Amplitude: a Project Created per live project, on its account's device with the account group.
    const created = w.amp.store.byInsertId(`sf:Project__c:${sample.Id}:created`)?.event;
    expect(created).toMatchObject({
      event_type: 'Project Created',
      device_id: `sf-account:${sample.Account__c}`,
      groups: { salesforce_account: sample.Account__c },
      event_properties: { salesforce_project_id: sample.Id, status: sample.Status__c, contract_value: sample.Contract_Value__c },
    });
    const live = projects.filter((p) => p.IsDeleted !== true);
    for (const p of live) expect(w.amp.store.count({ insertId: `sf:Project__c:${p.Id}:created` }), String(p.Id)).toBe(1);
    const orphan = live.find((p) => p.Account__c === null);
    if (orphan) expect(w.amp.store.byInsertId(`sf:Project__c:${orphan.Id}:created`)?.event.device_id).toBe(`sf-project:${orphan.Id}`);
    // A project already completed on first sight says so.
    const done = live.find((p) => p.Status__c === 'Completed')!;
    expect(w.amp.store.count({ insertId: `sf:Project__c:${done.Id}:${new Date(Number(done.SystemModstamp)).toISOString()}:completed` })).toBe(1);

    // The custom Contact field: a column, and a trait on the person.
    const contact = sf.store.records('Contact').find((c) => typeof c.Email === 'string' && c.Email.includes('@') && c.Job_Role__c !== null && c.Job_Role__c !== undefined)!;
    const [crow] = await w.deps.warehouse.query<{ job_role: string }>('SELECT job_role FROM silver.salesforce_contact WHERE id = ?', [contact.Id]);
    expect(crow.job_role).toBe(contact.Job_Role__c);
    expect(w.amp.store.userProperties(String(contact.Email).toLowerCase())).toMatchObject({ job_role: contact.Job_Role__c });

    // Changes: a status change, a completion, a delete.
    const at = (s: number) => ({ at: clock.t + s * 1000 });
    const open = live.filter((p) => p.Status__c === 'Planning' || p.Status__c === 'Active');
    const [moved, completed, removed] = open.map((p) => p.Id as string);
    const movedFrom = sf.store.get('Project__c', moved)!.Status__c;
    sf.store.update('Project__c', moved, { Status__c: 'On Hold' }, at(1));
    sf.store.update('Project__c', completed, { Status__c: 'Completed' }, at(2));
    sf.store.delete('Project__c', removed, at(3));
    clock.t += 30_000;
    const second = await run();
    expect(second.failed).toEqual([]);
    const stamp = (id: string) => new Date(String(sf.store.get('Project__c', id)!.SystemModstamp)).toISOString();
    expect(w.amp.store.byInsertId(`sf:Project__c:${moved}:${stamp(moved)}:status`)?.event).toMatchObject({
      event_type: 'Project Status Changed',
      event_properties: { from_status: movedFrom, status: 'On Hold', source: 'salesforce' },
    });
    expect(w.amp.store.count({ insertId: `sf:Project__c:${moved}:${stamp(moved)}:completed` })).toBe(0);
    expect(w.amp.store.byInsertId(`sf:Project__c:${completed}:${stamp(completed)}:completed`)?.event.event_type).toBe('Project Completed');
    expect(w.amp.store.byInsertId(`sf:Project__c:${removed}:deleted`)?.event).toMatchObject({ event_type: 'Project Deleted', event_properties: { salesforce_project_id: removed } });
    const [gone] = await w.deps.warehouse.query<{ _deleted: boolean; status: string }>('SELECT _deleted, status FROM silver.salesforce_project WHERE id = ?', [removed]);
    expect(gone._deleted).toBe(true);
    expect(w.amp.store.violations()).toEqual([]);
  }, 240_000);
});
