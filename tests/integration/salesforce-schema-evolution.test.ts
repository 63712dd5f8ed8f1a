import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig, type AppConfig } from '../../config/config';
import { connectSalesforce, SalesforceReader } from '../../connectors/salesforce';
import { createSalesforceDescriber } from '../../connectors/salesforce/describe';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../../connectors/warehouse';
import { PermanentError } from '../../lib/errors';
import type { ObjectFieldsConfig } from '../../mappings/salesforce-describe';
import type { AmplitudeEvent } from '../../mappings/amplitude-types';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../sandbox/salesforce';
import { syncPage } from '../../streams/pipeline';
import { buildSalesforceDeclaration } from '../../streams/salesforce';
import { syncStreamSchema } from '../../streams/schema-sync';

/**
 * Schema evolution end to end on the Salesforce emulator and DuckDB, with the real reader and
 * pipeline: the emulator's Setup changes a field at run time (added, hidden by field-level
 * security, retyped) and each run shows the documented outcome with nothing lost.
 */

let emu: SalesforceEmulator;
let cfg: AppConfig['salesforce'];
let dir: string;
let wh: DuckDBWarehouse;
const sent: AmplitudeEvent[] = [];

beforeAll(async () => {
  emu = await startSalesforceEmulator({ port: 0, scale: 0.02 });
  cfg = { ...buildConfig({}, os.tmpdir()).salesforce, loginUrl: emu.url };
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'schema-evolution-'));
  wh = await openDuckDBWarehouse({ path: path.join(dir, 'w.duckdb') });
}, 60_000);
afterAll(async () => {
  await wh?.close();
  await emu?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** One run as the sync activities do it: evolve the schema, then read every page to the end. */
async function run(config: ObjectFieldsConfig, stream = `salesforce_${config.object.replace(/__c$/, '').toLowerCase()}`) {
  const describer = createSalesforceDescriber(cfg);
  const build = (specs: Parameters<typeof buildSalesforceDeclaration>[1]) => buildSalesforceDeclaration({ object: config.object, stream, fields: 'all', cursor: config.cursor as 'SystemModstamp' | 'LastModifiedDate' | undefined, deletes: config.deletes }, specs);
  const probe = build([{ field: 'Id', kind: 'id', required: true }]);
  const result = await syncStreamSchema({ warehouse: wh, describe: (o) => describer.describe(o) }, { stream, config, bronze: probe.bronze, silver: (s) => build(s).silver });
  const decl = build(result.specs);
  const reader = new SalesforceReader({ config: cfg, prefetch: false });
  let { cursor, mode } = await reader.plan(decl, (await wh.getSyncState(stream)) ?? null, false);
  let read = 0;
  let written = 0;
  for (let page = 0; page < 200; page++) {
    const r = await syncPage(
      { warehouse: wh, reader, sink: { send: async (events) => (sent.push(...events), { sent: events.length, rejected: [] }) }, mapping: { minIdLength: 5, userIdField: 'Email' } },
      decl,
      { runId: 'test', cursor, mode },
      { runId: 'test', progress: () => undefined },
    );
    read += r.read;
    written += r.written;
    cursor = r.nextCursor;
    mode = r.nextMode;
    if (r.done) return { ...result, read, written };
  }
  throw new Error('the run did not finish');
}

const columnsOf = async (table: string) =>
  (await wh.query<{ column_name: string; data_type: string }>(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'silver' AND table_name = ? ORDER BY ordinal_position`, [table])).map((r) => `${r.column_name}:${r.data_type}`);
const silverRows = async (table: string, columns: string) => wh.query(`SELECT id, ${columns} FROM silver.${table} ORDER BY id`);
const accountIds = () => emu.store.records('Account', { includeDeleted: true }).map((r) => r.Id as string).sort();

describe('the emulator describe through jsforce', () => {
  it("answers Salesforce's documented shape: compounds with their components, formulas, custom fields and objects", async () => {
    const { conn } = await connectSalesforce(cfg);
    const account = await conn.describe('Account');
    const field = (name: string) => account.fields.find((f) => f.name === name);
    expect(field('BillingAddress')).toMatchObject({ type: 'address', soapType: 'urn:address', compoundFieldName: null, createable: false, filterable: false });
    expect(field('BillingCity')).toMatchObject({ type: 'string', soapType: 'xsd:string', compoundFieldName: 'BillingAddress', length: 40 });
    expect(field('BillingLatitude')).toMatchObject({ type: 'double', soapType: 'xsd:double', compoundFieldName: 'BillingAddress', precision: 18, scale: 15 });
    expect(field('Site_Location__c')).toMatchObject({ type: 'location', soapType: 'urn:location', custom: true });
    expect(field('Site_Location__Latitude__s')).toMatchObject({ type: 'double', compoundFieldName: 'Site_Location__c', custom: true, scale: 6 });
    expect(field('Novade_Customer_Id__c')).toMatchObject({ type: 'string', custom: true, externalId: true, unique: true, nillable: true });
    expect(field('CreatedDate')).toMatchObject({ type: 'datetime', soapType: 'xsd:dateTime', nillable: false, calculated: false, calculatedFormula: null });
    expect(field('AnnualRevenue')).toMatchObject({ type: 'currency', soapType: 'xsd:double' });

    const contact = await conn.describe('Contact');
    expect(contact.fields.find((f) => f.name === 'Full_Name__c')).toMatchObject({ calculated: true, calculatedFormula: "FirstName & ' ' & LastName", createable: false });
    expect(contact.fields.find((f) => f.name === 'Job_Role__c')).toMatchObject({ type: 'picklist', custom: true });
    expect(contact.fields.find((f) => f.name === 'Job_Role__c')!.picklistValues!.map((p) => p.value)).toContain('Site Engineer');

    const project = await conn.describe('Project__c');
    expect(project).toMatchObject({ name: 'Project__c', custom: true, keyPrefix: 'a0P', labelPlural: 'Projects' });
    expect(project.fields.find((f) => f.name === 'Account__c')).toMatchObject({ type: 'reference', referenceTo: ['Account'], relationshipName: 'Account__r' });

    // The REST query answers compounds as structures; Bulk refuses them.
    const q = await conn.query<Record<string, unknown>>("SELECT Id, BillingAddress, Site_Location__c FROM Account WHERE BillingCity != null LIMIT 1");
    expect(q.records[0].BillingAddress).toMatchObject({ city: expect.any(String), country: expect.any(String), latitude: null });
    await expect(conn.request({ method: 'POST', url: '/services/data/v62.0/jobs/query', body: JSON.stringify({ operation: 'query', query: 'SELECT Id, BillingAddress FROM Account' }), headers: { 'content-type': 'application/json' } })).rejects.toThrow(/compound/);
    const projects = await conn.query<Record<string, unknown>>('SELECT Id, Name, Account__c, Status__c, Contract_Value__c, Start_Date__c, Is_Active__c FROM Project__c');
    expect(projects.totalSize).toBe(emu.store.count('Project__c'));
  });
});

describe('schema evolution on the sandbox and DuckDB', () => {
  it('a first run of `fields: all` creates typed columns, compounds flattened, and records no change', async () => {
    const first = await run({ object: 'Account', fields: 'all' });
    expect(first.plan.changes).toEqual([]);
    const columns = await columnsOf('salesforce_account');
    expect(columns).toEqual(expect.arrayContaining(['id:VARCHAR', 'billing_city:VARCHAR', 'billing_latitude:DOUBLE', 'site_location_latitude:DOUBLE', 'novade_customer_id:VARCHAR', 'number_of_employees:BIGINT', 'system_modstamp:TIMESTAMP']));
    expect(columns.some((c) => c.startsWith('billing_address') || c.startsWith('site_location:'))).toBe(false);
    const rows = await silverRows('salesforce_account', 'billing_city, site_location_latitude, novade_customer_id');
    expect(rows.map((r) => r.id)).toEqual(accountIds());
    for (const r of rows) {
      const a = emu.store.get('Account', String(r.id))!;
      expect([r.billing_city, r.site_location_latitude, r.novade_customer_id]).toEqual([a.BillingCity, a.Site_Location__Latitude__s, a.Novade_Customer_Id__c]);
    }
    expect((await wh.getStreamSchema('salesforce_account'))?.fields.length).toBe(first.specs.length);
  });

  it('a field added in Salesforce becomes a nullable column, filled for existing rows by a re-read, with no event and no version change', async () => {
    const before = await silverRows('salesforce_account', 'system_modstamp');
    const ids = accountIds().slice(0, 7);
    // Existing data the integration user could not see before: no SystemModstamp moves.
    emu.store.addField('Account', { name: 'Region__c', type: 'picklist', picklistValues: ['APAC', 'EMEA'] }, Object.fromEntries(ids.map((id, i) => [id, i % 2 ? 'EMEA' : 'APAC'])));
    const sentBefore = sent.length;
    const second = await run({ object: 'Account', fields: 'all' });
    expect(second.plan.changes.map((c) => [c.change, c.field, c.column, c.action])).toEqual([['field_added', 'Region__c', 'region', 'column_added']]);
    expect(second.plan.reread).toBe(true);
    expect(second.read).toBe(ids.length + (accountIds().length - ids.length));
    expect(await columnsOf('salesforce_account')).toContain('region:VARCHAR');
    const rows = await silverRows('salesforce_account', 'region, system_modstamp');
    expect(rows.filter((r) => r.region !== null).map((r) => [r.id, r.region])).toEqual(ids.map((id, i) => [id, i % 2 ? 'EMEA' : 'APAC']));
    expect(rows.map((r) => [r.id, String(r.system_modstamp)])).toEqual(before.map((r) => [r.id, String(r.system_modstamp)]));
    expect(sent.length).toBe(sentBefore);
    const recorded = await wh.listSchemaChanges({ stream: 'salesforce_account' });
    expect(recorded.map((c) => [c.change, c.field, c.action, c.toType])).toEqual([['field_added', 'Region__c', 'column_added', 'text/varchar']]);

    // Nothing new: no change, no re-read (only the lookback window is read again).
    const third = await run({ object: 'Account', fields: 'all' });
    expect(third.plan.changes).toEqual([]);
    expect(third.read).toBeLessThan(accountIds().length);
    expect(await wh.listSchemaChanges({ stream: 'salesforce_account' })).toHaveLength(1);
  });

  it('a field hidden by field-level security stops being read; its column keeps every value, also for records changed since', async () => {
    const before = await silverRows('salesforce_account', 'novade_customer_id');
    emu.store.hideField('Account', 'Novade_Customer_Id__c');
    const { conn } = await connectSalesforce(cfg);
    await expect(conn.query('SELECT Id, Novade_Customer_Id__c FROM Account')).rejects.toThrow(/No such column 'Novade_Customer_Id__c'/);
    const customer = emu.store.records('Account').find((r) => r.Novade_Customer_Id__c !== null)!;
    emu.store.update('Account', customer.Id as string, { Website: 'https://changed.example' });

    const after = await run({ object: 'Account', fields: 'all' });
    expect(after.plan.changes.map((c) => [c.change, c.field, c.action])).toEqual([['field_gone', 'Novade_Customer_Id__c', 'column_kept']]);
    expect(after.plan.changes[0].detail).toMatch(/field-level security/);
    expect(after.specs.map((s) => s.field)).not.toContain('Novade_Customer_Id__c');
    expect(await columnsOf('salesforce_account')).toContain('novade_customer_id:VARCHAR');
    const rows = await silverRows('salesforce_account', 'novade_customer_id, website');
    expect(rows.map((r) => [r.id, r.novade_customer_id])).toEqual(before.map((r) => [r.id, r.novade_customer_id]));
    expect(rows.find((r) => r.id === customer.Id)?.website).toBe('https://changed.example');

    // A list naming it: reported unreadable, the rest read.
    const listed = await run({ object: 'Account', fields: ['Id', 'Name', 'Novade_Customer_Id__c', 'SystemModstamp'] }, 'salesforce_account_listed');
    expect(listed.resolved.unreadable).toEqual(['Novade_Customer_Id__c']);
    emu.store.showField('Account', 'Novade_Customer_Id__c');
  });

  it('a type change stops the stream with what changed and how to proceed; both ways on keep every value', async () => {
    emu.store.retypeField('Account', 'NumberOfEmployees', 'string', { length: 40 });
    const cursorBefore = await wh.getSyncState('salesforce_account');
    const before = await silverRows('salesforce_account', 'number_of_employees');
    const stopped = await run({ object: 'Account', fields: 'all' }).catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(PermanentError);
    expect((stopped as PermanentError).kind).toBe('SchemaChange');
    expect((stopped as Error).message).toMatch(/Account\.NumberOfEmployees changed type in Salesforce: it was int \(silver column number_of_employees bigint\), it is now text \(varchar\)/);
    expect((stopped as Error).message).toMatch(/all_except: \[NumberOfEmployees\]/);
    expect(await wh.getSyncState('salesforce_account')).toEqual(cursorBefore);
    const recorded = await wh.listSchemaChanges({ stream: 'salesforce_account' });
    expect(recorded.filter((c) => c.change === 'type_changed').map((c) => [c.field, c.fromType, c.toType, c.action])).toEqual([['NumberOfEmployees', 'int/bigint', 'text/varchar', 'stream_stopped']]);
    // Retried: still stopped, recorded once.
    await expect(run({ object: 'Account', fields: 'all' })).rejects.toThrow(/Schema change stops salesforce_account/);
    expect((await wh.listSchemaChanges({ stream: 'salesforce_account' })).filter((c) => c.change === 'type_changed')).toHaveLength(1);

    // Way 1: leave the field out. The stream resumes; the column keeps its values.
    const without = await run({ object: 'Account', fields: { all_except: ['NumberOfEmployees'] } });
    // (Novade_Customer_Id__c is readable again since the test before: it comes back into its kept column.)
    expect(without.plan.changes.map((c) => [c.change, c.field, c.action])).toEqual([
      ['field_added', 'Novade_Customer_Id__c', 'column_reused'],
      ['field_gone', 'NumberOfEmployees', 'column_kept'],
    ]);
    expect(await silverRows('salesforce_account', 'number_of_employees')).toEqual(before);

    // Way 2: accept the new type by dropping the old column: it comes back as text, re-read.
    await wh.query('ALTER TABLE silver.salesforce_account DROP COLUMN number_of_employees');
    const accepted = await run({ object: 'Account', fields: 'all' });
    expect(accepted.plan.changes.map((c) => [c.change, c.field, c.action])).toEqual([['field_added', 'NumberOfEmployees', 'column_added']]);
    expect(accepted.plan.reread).toBe(true);
    expect(await columnsOf('salesforce_account')).toContain('number_of_employees:VARCHAR');
    const rows = await silverRows('salesforce_account', 'number_of_employees');
    expect(rows.map((r) => [r.id, r.number_of_employees])).toEqual(before.map((r) => [r.id, r.number_of_employees === null ? null : String(r.number_of_employees)]));
  });

  it('a custom object with `fields: all` lands in silver with typed columns', async () => {
    const out = await run({ object: 'Project__c', fields: 'all' });
    expect(out.plan.changes).toEqual([]);
    expect(await columnsOf('salesforce_project')).toEqual(expect.arrayContaining(['account:VARCHAR', 'status:VARCHAR', 'contract_value:DOUBLE', 'site_count:DOUBLE', 'start_date:VARCHAR', 'is_active:BOOLEAN']));
    const rows = await silverRows('salesforce_project', 'status, is_active, contract_value');
    expect(rows).toHaveLength(emu.store.count('Project__c', { includeDeleted: true }));
    for (const r of rows) expect(r.is_active).toBe(r.status === 'Active');
  });
});
