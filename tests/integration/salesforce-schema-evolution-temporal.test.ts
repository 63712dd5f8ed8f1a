import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { flowSuite, runSourceSync, startFlowWorld } from '../helpers/flow-world';
import { startSalesforceEmulator } from '../../sandbox/salesforce';
import { SEED_AS_OF } from '../../sandbox/seed/salesforce';
import { DEFAULT_STREAMS_FILE } from '../../streams/registry';

/**
 * Schema evolution through the real flows (Temporal, the sync workflows and activities, DuckDB):
 * a field added in Salesforce lands in silver on the next scheduled run; a type change stops only
 * that stream, raises the source's alert with what changed and how to proceed, and the stream
 * resumes (alert recovered) once the operator accepted the new type.
 */

const suite = flowSuite();

describe('schema evolution in the Salesforce sync flow', () => {
  it('adds a column for a new field, stops the stream on a type change with an alert, resumes once accepted', async () => {
    const clock = { t: SEED_AS_OF + 10 * 60_000 };
    const sf = await startSalesforceEmulator({ port: 0, scale: 0.01, now: () => new Date(clock.t), bulkJobDurationMs: 50 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-evolution-file-'));
    const file = path.join(dir, 'streams.yaml');
    fs.writeFileSync(file, fs.readFileSync(DEFAULT_STREAMS_FILE, 'utf8').replace('\ndrift:', '\n    - object: Project__c\n      fields: all\n\ndrift:'));
    const w = await startFlowWorld({
      name: 'sf-evolution',
      temporalAddress: suite.env.address,
      env: { STREAMS_FILE: file },
      configure: (config) => (config.salesforce.loginUrl = sf.url),
      closeFirst: [() => sf.close(), () => fs.rmSync(dir, { recursive: true, force: true })],
    });
    const wh = w.deps.warehouse;
    const run = () => runSourceSync(suite.env, suite.bundle, w, { source: 'salesforce' });
    const alert = async () => (await wh.listAlertStates('sync:salesforce')).find((a) => a.key === 'sync_failed:salesforce');

    expect((await run()).failed).toEqual([]);
    const projects = sf.store.records('Project__c', { includeDeleted: true });

    // A field added in Salesforce, with data on existing records: a column, filled by a re-read.
    const tagged = projects.slice(0, 4).map((p) => p.Id as string);
    sf.store.addField('Project__c', { name: 'Region__c', type: 'picklist', picklistValues: ['APAC', 'EMEA'] }, Object.fromEntries(tagged.map((id) => [id, 'APAC'])));
    clock.t += 60_000;
    expect((await run()).failed).toEqual([]);
    const regions = await wh.query<{ id: string; region: string | null }>('SELECT id, region FROM silver.salesforce_project ORDER BY id');
    expect(regions).toHaveLength(projects.length);
    expect(regions.filter((r) => r.region === 'APAC').map((r) => r.id)).toEqual([...tagged].sort());
    expect((await wh.listSchemaChanges({ stream: 'salesforce_project' })).map((c) => [c.change, c.field, c.action])).toEqual([['field_added', 'Region__c', 'column_added']]);
    // Bronze kept the re-read as received too: new batches, every record once more, with the new field.
    const [withRegion] = await wh.query<{ n: number | bigint }>(`SELECT count(*) AS n FROM bronze.salesforce_project WHERE _payload LIKE '%"Region__c"%'`);
    expect(Number(withRegion.n)).toBe(projects.length);
    const [firstRead] = await wh.query<{ n: number | bigint }>(`SELECT count(*) AS n FROM bronze.salesforce_project WHERE _payload NOT LIKE '%"Region__c"%'`);
    expect(Number(firstRead.n)).toBe(projects.length);

    // A type change: that stream stops, the others run; the alert says what changed and how to go on.
    const before = await wh.query('SELECT id, site_count FROM silver.salesforce_project ORDER BY id');
    sf.store.retypeField('Project__c', 'Site_Count__c', 'string', { length: 20 });
    clock.t += 60_000;
    const stopped = await run().catch((e: unknown) => e);
    // The workflow failure wraps the source run's: "salesforce sync failed for <stream> (<why>)".
    expect(String((stopped as Error & { cause?: Error }).cause?.message)).toMatch(/salesforce_project \(Schema change stops salesforce_project: Project__c\.Site_Count__c changed type/);
    const raised = await alert();
    expect(raised?.status).toBe('open');
    expect(raised?.detail).toMatch(/Site_Count__c changed type in Salesforce: it was double \(silver column site_count double\), it is now text \(varchar\)/);
    expect(raised?.detail).toMatch(/all_except: \[Site_Count__c\]/);
    expect(await wh.query('SELECT id, site_count FROM silver.salesforce_project ORDER BY id')).toEqual(before);
    // Only that stream stopped: the others of the run went through.
    expect(String((stopped as Error & { cause?: Error }).cause?.message)).toMatch(/^salesforce sync failed for salesforce_project \(/);
    expect(String((stopped as Error & { cause?: Error }).cause?.message)).not.toMatch(/salesforce_contact|salesforce_account \(/);

    // The operator accepts the new type: the column is dropped, recreated as text and re-read.
    await wh.query('ALTER TABLE silver.salesforce_project DROP COLUMN site_count');
    clock.t += 60_000;
    expect((await run()).failed).toEqual([]);
    const after = await wh.query<{ id: string; site_count: string | null }>('SELECT id, site_count FROM silver.salesforce_project ORDER BY id');
    expect(after).toEqual(before.map((r) => ({ id: r.id, site_count: r.site_count === null ? null : String(r.site_count) })));
    expect((await alert())?.status).toBe('resolved');
  }, 300_000);
});
