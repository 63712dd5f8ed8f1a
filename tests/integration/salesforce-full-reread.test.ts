import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServer } from '../helpers/temporal';
import { closeFlowWorldsAfterEach, runSourceSync, startFlowWorld } from '../helpers/flow-world';
import { WORKFLOWS_PATH } from '../../workers/workflows-path';
import { SEED_AS_OF } from '../../sandbox/seed/salesforce';
import { DEFAULT_STREAMS_FILE } from '../../streams/registry';
import { buildConfig, type AppConfig } from '../../config/config';
import { SalesforceReader } from '../../connectors/salesforce';
import { createSalesforceDescriber } from '../../connectors/salesforce/describe';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../../connectors/warehouse';
import type { AmplitudeEvent } from '../../mappings/amplitude-types';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../sandbox/salesforce';
import { salesforceObjectConfig } from '../../streams/config/schema';
import { fullReadSalt, startFullRereadIfDue } from '../../streams/full-reread';
import { syncPage } from '../../streams/pipeline';
import { salesforceDeclarations } from '../../streams/salesforce';
import { syncStreamSchema } from '../../streams/schema-sync';
import { FULL_READ_SUFFIX } from '../../streams/full-reread';

/**
 * `full_reread` end to end on the Salesforce emulator and DuckDB: Contact.Account_Name__c is a
 * cross-object formula (Account.Name), so renaming the account changes it while the contact's
 * SystemModstamp stays. An incremental run cannot see that; the periodic full re-read does, and
 * refreshes silver without sending an event for the unchanged record.
 */

let emu: SalesforceEmulator;
let cfg: AppConfig['salesforce'];
let dir: string;
let wh: DuckDBWarehouse;
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

const DAY = 86_400_000;
const config = salesforceObjectConfig.parse({
  object: 'Contact',
  fields: ['Id', 'LastName', 'AccountId', 'Account_Name__c'],
  full_reread: '7d',
  identity: { device_id: 'sf-contact:{Id}' },
  events: [{ id: 'account_name', on: 'changed', field: 'Account_Name__c', name: 'Contact Account Renamed' }],
});
const stream = 'salesforce_contact';

beforeAll(async () => {
  emu = await startSalesforceEmulator({ port: 0, scale: 0.02 });
  cfg = { ...buildConfig({}, os.tmpdir()).salesforce, loginUrl: emu.url };
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'full-reread-'));
  wh = await openDuckDBWarehouse({ path: path.join(dir, 'w.duckdb') });
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  [env, bundle] = await Promise.all([startDevServer(), bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') })]);
}, 180_000);
afterAll(async () => {
  await env?.teardown();
  await wh?.close();
  await emu?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** One run as beginStreamRun and syncStreamPage compose it, at a given time. */
async function run(now: Date) {
  const [base] = salesforceDeclarations({ objects: [config] });
  const from = base.fromDescribe;
  let built = base;
  if (from) {
    const describer = createSalesforceDescriber(cfg);
    const schema = await syncStreamSchema({ warehouse: wh, describe: (o) => describer.describe(o) }, { stream, config: from.config, bronze: base.bronze, silver: (s) => from.build(s).silver });
    built = from.build(schema.specs);
  }
  await wh.ensureSchema({ bronze: [built.bronze], silver: [built.silver] });
  const reread = await startFullRereadIfDue(wh, stream, built.fullRereadMs!, now);
  const decl = { ...built, batchSalt: await fullReadSalt(wh, stream) };
  const reader = new SalesforceReader({ config: cfg, prefetch: false });
  let { cursor, mode } = await reader.plan(decl, (await wh.getSyncState(stream)) ?? null, false);
  const sent: AmplitudeEvent[] = [];
  let read = 0;
  let written = 0;
  for (let page = 0; page < 200; page++) {
    const r = await syncPage(
      { warehouse: wh, reader, sink: { send: async (events) => (sent.push(...events), { sent: events.length, rejected: [] }) }, mapping: { minIdLength: 5, userIdField: 'Email' } },
      decl,
      { runId: `run-${now.toISOString()}`, cursor, mode },
      { runId: 'test', progress: () => undefined },
    );
    read += r.read;
    written += r.written;
    cursor = r.nextCursor;
    mode = r.nextMode;
    if (r.done) return { reread, read, written, sent };
  }
  throw new Error('the run did not finish');
}

const accountNameOf = async (id: string) => (await wh.query<{ account_name: string | null }>(`SELECT account_name FROM silver.${stream} WHERE id = ?`, [id]))[0]?.account_name;
const bronzeCopies = async (id: string) => Number((await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM bronze.${stream} WHERE id = ?`, [id]))[0].n);

closeFlowWorldsAfterEach();

describe('full_reread', () => {
  it('refreshes a formula value that changed without SystemModstamp moving, after the interval and not before, with no events', async () => {
    const t0 = new Date();
    const first = await run(t0);
    expect(first.reread).toBe(true);
    expect(first.read).toBeGreaterThan(0);

    // A contact last modified well before any lookback window, whose account gets renamed.
    const contact = emu.store
      .records('Contact')
      .filter((r) => typeof r.AccountId === 'string' && (r.SystemModstamp as number) < Date.now() - DAY)
      .sort((a, b) => String(a.Id).localeCompare(String(b.Id)))[0];
    expect(contact).toBeDefined();
    const id = contact.Id as string;
    const accountId = contact.AccountId as string;
    const oldName = await accountNameOf(id);
    expect(oldName).toBe(emu.store.records('Account').find((a) => a.Id === accountId)?.Name);
    emu.store.update('Account', accountId, { Name: 'Renamed Holdings Ltd' });
    expect(emu.store.records('Contact').find((r) => r.Id === id)?.SystemModstamp).toBe(contact.SystemModstamp);

    // Within the interval: an incremental run, the contact is not read again.
    const early = await run(new Date(t0.getTime() + DAY));
    expect(early.reread).toBe(false);
    expect(await accountNameOf(id)).toBe(oldName);
    expect(await bronzeCopies(id)).toBe(1);

    // After the interval: the whole object is read again and the formula value refreshed.
    const later = new Date(t0.getTime() + 8 * DAY);
    const due = await run(later);
    expect(due.reread).toBe(true);
    expect(due.read).toBeGreaterThanOrEqual(first.read);
    expect(await accountNameOf(id)).toBe('Renamed Holdings Ltd');
    const siblings = emu.store.records('Contact', { includeDeleted: true }).filter((r) => r.AccountId === accountId).length;
    expect(due.written).toBe(siblings);
    // The record did not change: nothing is sent (no rule event, no creation, no identify).
    expect(due.sent).toEqual([]);
    expect(first.sent.some((e) => e.event_type === 'Contact Account Renamed')).toBe(false);
    // Bronze keeps the re-read record as received, with the new value.
    expect(await bronzeCopies(id)).toBe(2);

    // A retried or repeated run at the same time: not due again, nothing changes.
    const again = await run(later);
    expect(again.reread).toBe(false);
    expect(again.written).toBe(0);
    expect(again.sent).toEqual([]);
    expect(await bronzeCopies(id)).toBe(2);
  }, 120_000);

  it('through the sync workflow and activities: the default file with `full_reread: 7d` on Contact', async () => {
    const clock = { t: SEED_AS_OF + 10 * 60_000 };
    const sf = await startSalesforceEmulator({ port: 0, scale: 0.01, now: () => new Date(clock.t) });
    const fileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'full-reread-file-'));
    const file = path.join(fileDir, 'streams.yaml');
    const text = fs.readFileSync(DEFAULT_STREAMS_FILE, 'utf8').replace('    - object: Contact\n', '    - object: Contact\n      full_reread: 7d\n');
    expect(text).toContain('full_reread: 7d');
    fs.writeFileSync(file, text);
    const w = await startFlowWorld({
      name: 'sf-full-reread',
      temporalAddress: env.address,
      env: { STREAMS_FILE: file },
      configure: (config) => (config.salesforce.loginUrl = sf.url),
      closeFirst: [() => sf.close(), () => fs.rmSync(fileDir, { recursive: true, force: true })],
    });
    const run = async () => {
      const summary = await runSourceSync(env, bundle, w, { source: 'salesforce' });
      expect(summary.failed).toEqual([]);
      return summary;
    };
    const whf = w.deps.warehouse;
    const company = async (id: string) => (await whf.query<{ account_name: string | null }>('SELECT account_name FROM silver.salesforce_contact WHERE id = ?', [id]))[0]?.account_name;
    const marker = async () => whf.getSyncState(`salesforce_contact${FULL_READ_SUFFIX}`);

    await run();
    const recorded = (await marker()) as { startedAt: string };
    expect(Date.parse(recorded.startedAt)).not.toBeNaN();
    const contact = sf.store.records('Contact').find((r) => typeof r.AccountId === 'string' && typeof r.Email === 'string')!;
    const before = await company(contact.Id as string);
    expect(before).not.toBeNull();
    sf.store.update('Account', contact.AccountId as string, { Name: 'Renamed Through Temporal Ltd' }, { at: clock.t + 1000 });
    clock.t += 30_000;

    await run();
    expect(await company(contact.Id as string)).toBe(before);
    expect(await marker()).toEqual(recorded);
    const sentBefore = w.amp.store.count();

    // As if the week had passed: the next run re-reads Contact and refreshes the formula, sending nothing.
    await whf.setSyncState(`salesforce_contact${FULL_READ_SUFFIX}`, { startedAt: new Date(Date.parse(recorded.startedAt) - 8 * DAY).toISOString() });
    clock.t += 30_000;
    await run();
    expect(await company(contact.Id as string)).toBe('Renamed Through Temporal Ltd');
    expect(w.amp.store.count()).toBe(sentBefore);
    expect(Date.parse(((await marker()) as { startedAt: string }).startedAt)).toBeGreaterThan(Date.parse(recorded.startedAt) - DAY);
  }, 240_000);
});
