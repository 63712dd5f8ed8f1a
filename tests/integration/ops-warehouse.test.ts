import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertCenter, AlertSender } from '../../connectors/alerts';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../../connectors/warehouse';
import { createLogger } from '../../config/logger';
import { STREAM_DECLARATIONS } from '../../streams/registry';
import { catchUpStream } from '../../streams/catch-up';

/**
 * The organize, retention and alert-state methods on a real DuckDB warehouse, and the alert
 * center's deduplication through it to a local webhook receiver.
 */

const log = createLogger({ level: 'silent' });
const contact = STREAM_DECLARATIONS.get('salesforce_contact')!;
let dir: string;
let wh: DuckDBWarehouse;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ops-wh-'));
  wh = await openDuckDBWarehouse({ path: path.join(dir, 'w.duckdb') });
  await wh.ensureSchema({ bronze: [contact.bronze], silver: [contact.silver] });
});
afterAll(async () => {
  await wh?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const sfId = (n: number) => `003${String(n).padStart(12, '0')}AAA`;
const record = (n: number, at = '2026-11-20T10:00:00.000Z') => ({ Id: sfId(n), SystemModstamp: at, LastName: `Name ${n}`, Email: `p${n}@example.com`, IsDeleted: false });

describe('organize on DuckDB', () => {
  it('finds the bronze records missing in silver and the catch-up merges them; invalid ones stay and are counted', async () => {
    const records = [record(1), record(2), record(3), { Id: sfId(4), LastName: 'no modstamp' }];
    await wh.appendBronze(contact.bronze, { batchId: 'b1', records: records.map((r) => ({ keys: { id: r.Id }, payload: r })) });
    // Key 1 reached silver; a newer version of 3 arrives in a second batch.
    await wh.mergeSilver(contact.silver, [contact.toRow(contact.schema.parse(record(1)) as Record<string, unknown>)]);
    const newer = record(3, '2026-11-21T10:00:00.000Z');
    await wh.appendBronze(contact.bronze, { batchId: 'b2', records: [{ keys: { id: newer.Id }, payload: newer }] });

    const missing = await wh.unmergedBronze(contact.bronze, contact.silver, { keys: 10 });
    expect(missing.map((m) => [m.key, (m.payload as { SystemModstamp?: string }).SystemModstamp ?? null])).toEqual([
      [sfId(2), '2026-11-20T10:00:00.000Z'],
      [sfId(3), '2026-11-20T10:00:00.000Z'],
      [sfId(3), '2026-11-21T10:00:00.000Z'],
      [sfId(4), null],
    ]);
    // Pages are whole keys: every version of key 3 comes with it.
    expect((await wh.unmergedBronze(contact.bronze, contact.silver, { afterKey: sfId(2), keys: 1 })).map((m) => m.key)).toEqual([sfId(3), sfId(3)]);

    // One key per page: key 2, then both versions of key 3, then the invalid key 4.
    const result = await catchUpStream(wh, contact, { batchSize: 1 });
    expect(result).toEqual({ stream: 'salesforce_contact', scanned: 4, merged: 2, invalid: 1 });
    const rows = await wh.query<{ id: string; system_modstamp: Date }>('SELECT id, system_modstamp FROM silver.salesforce_contact ORDER BY id');
    expect(rows.map((r) => [r.id, new Date(r.system_modstamp).toISOString()])).toEqual([
      [sfId(1), '2026-11-20T10:00:00.000Z'],
      [sfId(2), '2026-11-20T10:00:00.000Z'],
      [sfId(3), '2026-11-21T10:00:00.000Z'],
    ]);
    // Only the invalid record is left, and the reconciliation check still reports it.
    expect((await wh.unmergedBronze(contact.bronze, contact.silver, { keys: 10 })).map((m) => m.key)).toEqual([sfId(4)]);
    const checks = await wh.runChecks([contact.silver]);
    expect(checks.find((c) => c.check === 'bronze_silver_reconciliation')).toMatchObject({ passed: false, observed: 1 });
  });

  it('purges bronze older than a date and keeps the ledger, so an old batch re-delivered stays a no-op', async () => {
    const old = new Date('2025-01-01T00:00:00.000Z');
    await wh.appendBronze(contact.bronze, { batchId: 'old', ingestedAt: old, records: [{ keys: { id: sfId(9) }, payload: record(9) }] });
    const count = async () => Number((await wh.query<{ n: number }>('SELECT COUNT(*) AS n FROM bronze.salesforce_contact'))[0].n);
    const before = await count();
    expect(await wh.purgeBronze(contact.bronze, new Date('2025-06-01T00:00:00.000Z'))).toBe(1);
    expect(await count()).toBe(before - 1);
    expect(await wh.appendBronze(contact.bronze, { batchId: 'old', ingestedAt: old, records: [{ keys: { id: sfId(9) }, payload: record(9) }] })).toEqual({ inserted: 0, alreadyLoaded: true });
    expect(await wh.purgeBronze(contact.bronze, new Date('2025-06-01T00:00:00.000Z'))).toBe(0);
  });

  it('counts recent dead letters per flow; compaction is a no-op on DuckDB', async () => {
    const since = new Date(Date.now() - 60_000);
    await wh.writeDeadLetters([
      { flow: 'salesforce', stream: 'salesforce_contact', recordKey: 'a', reason: 'r', payload: {} },
      { flow: 'salesforce', stream: 'salesforce_lead', recordKey: 'b', reason: 'r', payload: {} },
      { flow: 'drift', stream: 'drift_contacts', recordKey: 'c', reason: 'r', payload: {} },
    ]);
    expect(await wh.countDeadLettersSince(since)).toEqual({ salesforce: 2, drift: 1 });
    expect(await wh.countDeadLettersSince(new Date(Date.now() + 60_000))).toEqual({});
    expect(await wh.compact({ silver: [contact.silver] })).toEqual([]);
  });
});

describe('alert deduplication through ops.alert_state', () => {
  let server: http.Server;
  let url: string;
  let answer = 200;
  const received: { text: string }[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        if (answer === 200) received.push(JSON.parse(data) as { text: string });
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('one alert per problem until it recovers, then one recovery; state survives a new center (a restarted worker)', async () => {
    let t = new Date('2026-11-24T08:00:00.000Z');
    const center = () => new AlertCenter({ warehouse: wh, sender: new AlertSender({ url, format: 'slack', log }), log, uiUrl: 'http://ui:8233/', namespace: 'default', now: () => t });
    const problem = { key: 'sync_failed:salesforce', title: 'salesforce sync failed', detail: 'boom', workflowId: 'salesforce-sync', runId: 'r1' };

    expect(await center().reconcile({ scope: 'sync:salesforce', problems: [problem] })).toEqual({ raised: ['sync_failed:salesforce'], recovered: [], ongoing: [] });
    t = new Date('2026-11-24T08:05:00.000Z');
    expect(await center().reconcile({ scope: 'sync:salesforce', problems: [{ ...problem, detail: 'boom again' }] })).toEqual({ raised: [], recovered: [], ongoing: ['sync_failed:salesforce'] });
    // Another scope's reconcile does not touch it.
    await center().reconcile({ scope: 'checks', problems: [] });
    expect(received).toHaveLength(1);
    expect(received[0].text).toContain('Failing since 2026-11-24T08:00:00.000Z');
    expect(received[0].text).toContain('http://ui:8233/namespaces/default/workflows/salesforce-sync/r1/history');

    t = new Date('2026-11-24T08:20:00.000Z');
    expect((await center().reconcile({ scope: 'sync:salesforce', problems: [] })).recovered).toEqual(['sync_failed:salesforce']);
    expect(await center().reconcile({ scope: 'sync:salesforce', problems: [] })).toEqual({ raised: [], recovered: [], ongoing: [] });
    expect(received).toHaveLength(2);
    expect(received[1].text).toContain('Recovered: salesforce sync failed: Was failing from 2026-11-24T08:00:00.000Z to 2026-11-24T08:20:00.000Z (20 min)');
    const [state] = await wh.listAlertStates('sync:salesforce');
    expect(state).toMatchObject({ status: 'resolved', detail: 'boom again', since: new Date('2026-11-24T08:00:00.000Z'), resolvedAt: new Date('2026-11-24T08:20:00.000Z') });
  });

  it('a webhook that fails leaves the problem un-notified, and the next reconcile sends it (once)', async () => {
    const c = new AlertCenter({ warehouse: wh, sender: new AlertSender({ url, format: 'teams', log }), log, uiUrl: 'http://ui', namespace: 'default' });
    const before = received.length;
    answer = 503;
    await expect(c.reconcile({ scope: 'checks', problems: [{ key: 'check:duplicate_keys:silver.x', title: 'dup' }] })).rejects.toThrow(/HTTP 503/);
    answer = 200;
    expect((await c.reconcile({ scope: 'checks', problems: [{ key: 'check:duplicate_keys:silver.x', title: 'dup' }] })).raised).toEqual(['check:duplicate_keys:silver.x']);
    expect((await c.reconcile({ scope: 'checks', problems: [{ key: 'check:duplicate_keys:silver.x', title: 'dup' }] })).raised).toEqual([]);
    expect(received.length - before).toBe(1);
  });

  it('observe() tells since when a progress reading has not moved', async () => {
    let t = new Date('2026-11-24T10:00:00.000Z');
    const c = new AlertCenter({ warehouse: wh, sender: new AlertSender({ format: 'teams', log }), log, uiUrl: 'http://ui', namespace: 'default', now: () => t });
    expect(await c.observe('backfill_progress:b', '100', 'rows')).toEqual({ unchangedSince: t, changed: true });
    const first = t;
    t = new Date('2026-11-24T10:30:00.000Z');
    expect(await c.observe('backfill_progress:b', '100', 'rows')).toEqual({ unchangedSince: first, changed: false });
    expect(await c.observe('backfill_progress:b', '250', 'rows')).toEqual({ unchangedSince: t, changed: true });
  });
});
