import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { flowSuite, runSourceSync, startFlowWorld, type FlowWorld } from '../helpers/flow-world';
import { buildDeps } from '../../workers/deps';
import { createLogger } from '../../config/logger';
import { loadStreamsFile } from '../../streams/config/load';
import { DEFAULT_STREAMS_FILE } from '../../streams/registry';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../sandbox/salesforce';
import { SEED_AS_OF } from '../../sandbox/seed/salesforce';
import type { SyncSourceSummary } from '../../workflows/sync-source';

/**
 * The default file's objects read with built-in field types and no describe. A field retyped in
 * Salesforce at run time (the emulator's Setup) first shows as records failing validation: the run
 * describes the object once and stops that stream alone with the same SchemaChange failure, change
 * row and alert as a described stream, before merging, dead-lettering or moving its cursor. Once the
 * field is taken out of the file, the stream resumes and the records held back arrive. A record
 * invalid for another reason is still a dead letter.
 */

const suite = flowSuite();

/** Counts the worker's describe calls. */
function countDescribes(w: FlowWorld): { n: number } {
  const counter = { n: 0 };
  const real = w.deps.describer!;
  w.deps.describer = { describe: (object) => (counter.n++, real.describe(object)), objects: () => real.objects() };
  return counter;
}

/** Overwrites a stored value the way no Setup change explains (a corrupt value in the source). */
function corrupt(sf: SalesforceEmulator, object: 'Account', id: string, values: Record<string, string | number>): void {
  Object.assign(sf.store.stored(object, id) as Record<string, unknown>, values);
}

describe('a retyped built-in field of a default-file object', () => {
  it('stops that stream alone with SchemaChange at run time; nothing is lost once the field leaves the file; other invalid records stay dead letters', async () => {
    const clock = { t: SEED_AS_OF + 10 * 60_000 };
    const sf = await startSalesforceEmulator({ port: 0, scale: 0.01, now: () => new Date(clock.t) });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-retype-default-'));
    const file = path.join(dir, 'streams.yaml');
    const defaults = fs.readFileSync(DEFAULT_STREAMS_FILE, 'utf8');
    fs.writeFileSync(file, defaults);
    const w = await startFlowWorld({
      name: 'sf-retype-default',
      temporalAddress: suite.env.address,
      env: { STREAMS_FILE: file },
      configure: (config) => (config.salesforce.loginUrl = sf.url),
      closeFirst: [() => sf.close(), () => fs.rmSync(dir, { recursive: true, force: true })],
    });
    const wh = w.deps.warehouse;
    const describes = countDescribes(w);
    const run = (world: FlowWorld = w): Promise<SyncSourceSummary> => runSourceSync(suite.env, suite.bundle, world, { source: 'salesforce' });
    const alert = async () => (await wh.listAlertStates('sync:salesforce')).find((a) => a.key === 'sync_failed:salesforce');
    const account = async (id: string) =>
      (await wh.query<{ website: string | null; number_of_employees: number | bigint | null }>('SELECT website, number_of_employees FROM silver.salesforce_account WHERE id = ?', [id]))[0];
    const deadLetters = async () => wh.query<{ record_key: string; reason: string }>(`SELECT record_key, reason FROM ops.dead_letters WHERE stream = 'salesforce_account' ORDER BY record_key`);

    const first = await run();
    expect(first.failed).toEqual([]);
    expect(describes.n).toBe(0);
    const accounts = sf.store.records('Account').filter((a) => typeof a.NumberOfEmployees === 'number' && typeof a.AnnualRevenue === 'number');
    expect(accounts.length).toBeGreaterThanOrEqual(6);
    const [bad1, bad2, ret1, ret2, ret3, plain] = accounts.map((a) => a.Id as string);

    // Negative case: two records invalid for a reason no type change explains. One describe for the
    // page (not one per record), no type change: dead letters as before, the stream goes on.
    sf.store.update('Account', bad1, { Website: 'https://bad-1.example' }, { at: clock.t + 1000 });
    sf.store.update('Account', bad2, { Website: 'https://bad-2.example' }, { at: clock.t + 2000 });
    corrupt(sf, 'Account', bad1, { AnnualRevenue: 'n/a' });
    corrupt(sf, 'Account', bad2, { AnnualRevenue: 'unknown' });
    clock.t += 30_000;
    const second = await run();
    expect(second.failed).toEqual([]);
    expect(describes.n).toBe(1);
    const dead = await deadLetters();
    expect(dead.map((d) => d.record_key)).toEqual([bad1, bad2].sort());
    for (const d of dead) expect(d.reason).toMatch(/AnnualRevenue: not a number/);
    expect(await wh.query('SELECT * FROM ops.schema_changes')).toEqual([]);
    expect((await alert())?.status ?? 'none').not.toBe('open');
    corrupt(sf, 'Account', bad1, { AnnualRevenue: 1000 });
    corrupt(sf, 'Account', bad2, { AnnualRevenue: 2000 });

    // Setup retypes Account.NumberOfEmployees (int → text); three accounts get text no int check
    // accepts, a fourth changes otherwise in the same page, and a contact changes too.
    sf.store.retypeField('Account', 'NumberOfEmployees', 'string', { length: 40 });
    const employeesBefore = await Promise.all([ret1, ret2, ret3].map(async (id) => (await account(id)).number_of_employees));
    const retyped = [ret1, ret2, ret3];
    for (const [i, value] of ['about 50', '10-20', 'many'].entries())
      sf.store.update('Account', retyped[i], { NumberOfEmployees: value, Website: `https://retyped-${i}.example` }, { at: clock.t + 1000 * (i + 1) });
    sf.store.update('Account', plain, { Website: 'https://plain.example' }, { at: clock.t + 4000 });
    const contact = sf.store.records('Contact')[0].Id as string;
    sf.store.update('Contact', contact, { LastName: 'Retype-Run' }, { at: clock.t + 1000 });
    clock.t += 30_000;
    const cursorBefore = await wh.getSyncState('salesforce_account');
    const describesBefore = describes.n;

    const stopped = await run().catch((e: unknown) => e);
    const failure = String((stopped as Error & { cause?: Error }).cause?.message);
    // Only that stream failed, with what changed (object, field, old and new type) and the way on.
    expect(failure).toMatch(/^salesforce sync failed for salesforce_account \(Schema change stops salesforce_account: Account\.NumberOfEmployees changed type in Salesforce: it was int \(silver column number_of_employees bigint\), it is now text \(varchar\)/);
    expect(failure).not.toMatch(/salesforce_(contact|lead|opportunity) \(/);
    expect(failure).toMatch(/remove NumberOfEmployees from Account's `fields` in config\/streams\.yaml/);
    expect(describes.n - describesBefore).toBe(1);
    const raised = await alert();
    expect(raised?.status).toBe('open');
    expect(raised?.detail).toMatch(/Account\.NumberOfEmployees changed type in Salesforce/);
    const changes = await wh.query('SELECT stream, object_name, change, field, column_name, from_type, to_type, action FROM ops.schema_changes');
    expect(changes).toEqual([
      { stream: 'salesforce_account', object_name: 'Account', change: 'type_changed', field: 'NumberOfEmployees', column_name: 'number_of_employees', from_type: 'int/bigint', to_type: 'text/varchar', action: 'stream_stopped' },
    ]);
    // Held back, not lost: the cursor stayed, nothing of the page was merged or dead-lettered.
    expect(await wh.getSyncState('salesforce_account')).toEqual(cursorBefore);
    expect((await account(plain)).website).not.toBe('https://plain.example');
    for (const [i, id] of retyped.entries()) expect((await account(id)).website).not.toBe(`https://retyped-${i}.example`);
    expect((await deadLetters()).map((d) => d.record_key)).toEqual([bad1, bad2].sort());
    // The other streams of the run went through.
    expect((await wh.query<{ last_name: string }>('SELECT last_name FROM silver.salesforce_contact WHERE id = ?', [contact]))[0].last_name).toBe('Retype-Run');

    // Retried before anything is done: still stopped, recorded once.
    clock.t += 30_000;
    await expect(run()).rejects.toThrow();
    expect(await wh.query('SELECT field FROM ops.schema_changes')).toHaveLength(1);
    expect(await wh.getSyncState('salesforce_account')).toEqual(cursorBefore);

    // The way on the alert gives: NumberOfEmployees leaves Account's list, the worker restarts.
    const fixed = defaults.replace(/(- object: Account\n\s+fields: \[[^\]]*?)NumberOfEmployees, /, '$1');
    expect(fixed).not.toBe(defaults);
    fs.writeFileSync(file, fixed);
    const restarted: FlowWorld = { ...w, deps: await buildDeps(w.config, createLogger({ level: 'silent' }), { warehouse: wh, metrics: w.deps.metrics, streamsFile: loadStreamsFile(file) }) };
    clock.t += 30_000;
    const resumed = await run(restarted);
    expect(resumed.failed).toEqual([]);
    expect((await alert())?.status).toBe('resolved');
    // Every record held back arrived; the column kept the values it had.
    expect((await account(plain)).website).toBe('https://plain.example');
    for (const [i, id] of retyped.entries()) expect(await account(id)).toMatchObject({ website: `https://retyped-${i}.example`, number_of_employees: employeesBefore[i] });
    expect((await deadLetters()).map((d) => d.record_key)).toEqual([bad1, bad2].sort());
    expect(await wh.query('SELECT field FROM ops.schema_changes')).toHaveLength(1);
  }, 300_000);
});
