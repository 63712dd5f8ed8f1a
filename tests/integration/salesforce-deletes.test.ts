import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildConfig, type AppConfig } from '../../config/config';
import { SalesforceReader } from '../../connectors/salesforce';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../../connectors/warehouse';
import { startSalesforceEmulator, SALESFORCE_ROUTES, type SalesforceEmulator } from '../../sandbox/salesforce';
import { salesforceObjectConfig } from '../../streams/config/schema';
import { syncPage } from '../../streams/pipeline';
import { salesforceDeclarations } from '../../streams/salesforce';

/**
 * `deletes` on the Salesforce emulator and DuckDB: a stream that tracks deletes (the default) reads
 * with queryAll and keeps recycle-bin records as soft deletes; `deletes: false` reads with query,
 * which never answers them, so silver holds live records only. Both REST pages and a Bulk API 2.0
 * first load. queryAll is made to fail for the `deletes: false` runs: they must not call it.
 */

let emu: SalesforceEmulator;
let cfg: AppConfig['salesforce'];
let dir: string;
let wh: DuckDBWarehouse;

beforeAll(async () => {
  emu = await startSalesforceEmulator({ port: 0, scale: 0.02, bulkJobDurationMs: 50 });
  cfg = { ...buildConfig({}, os.tmpdir()).salesforce, loginUrl: emu.url };
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-deletes-'));
  wh = await openDuckDBWarehouse({ path: path.join(dir, 'w.duckdb') });
}, 60_000);
afterAll(async () => {
  await wh?.close();
  await emu?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => emu.faults.clear());

/** Reads a stream from the start to the end, as a first run composes its pages. */
async function firstRun(config: ReturnType<typeof salesforceObjectConfig.parse>, over: Partial<AppConfig['salesforce']>) {
  const [decl] = salesforceDeclarations({ objects: [config] });
  await wh.ensureSchema({ bronze: [decl.bronze], silver: [decl.silver] });
  const reader = new SalesforceReader({ config: { ...cfg, ...over }, prefetch: false, pageSize: 200 });
  let { cursor, mode } = await reader.plan(decl, null, false);
  const modes = new Set([mode]);
  for (let page = 0; page < 200; page++) {
    const r = await syncPage(
      { warehouse: wh, reader, sink: { send: async (events) => ({ sent: events.length, rejected: [] }) }, mapping: { minIdLength: 5, userIdField: 'Email' } },
      decl,
      { runId: `run-${decl.name}`, cursor, mode },
      { runId: 'test', progress: () => undefined },
    );
    cursor = r.nextCursor;
    mode = r.nextMode;
    modes.add(mode);
    if (r.done) return { decl, modes };
  }
  throw new Error('the run did not finish');
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const silverRows = async (table: string) => (await wh.query<{ id: string; _deleted: boolean }>(`SELECT id, _deleted FROM silver.${table}`)).map((r) => ({ id: r.id, deleted: r._deleted })).sort(byId);

const failQueryAll = () =>
  emu.faults.set({
    [SALESFORCE_ROUTES.queryAll]: { errorRate: 1, statuses: [400] },
    [SALESFORCE_ROUTES.queryAllMore]: { errorRate: 1, statuses: [400] },
  });

describe('Salesforce deletes: queryAll or query', () => {
  it('the emulator has records in the recycle bin to tell the two apart', () => {
    const binned = emu.store.records('Contact', { includeDeleted: true }).filter((r) => r.IsDeleted);
    expect(binned.length).toBeGreaterThan(0);
  });

  for (const via of ['rest', 'bulk'] as const) {
    const over = via === 'bulk' ? { bulkThreshold: 10 } : { bulkThreshold: 1_000_000 };

    it(`${via}: deletes tracked (default) reads queryAll and keeps recycle-bin records as soft deletes`, async () => {
      const config = salesforceObjectConfig.parse({ object: 'Contact', stream: `salesforce_contact_all_${via}`, fields: ['Id', 'LastName', 'Email', 'SystemModstamp'] });
      const { decl, modes } = await firstRun(config, over);
      expect(decl.fields).toContain('IsDeleted');
      expect(modes.has(via)).toBe(true);
      const all = emu.store.records('Contact', { includeDeleted: true });
      expect(await silverRows(decl.silver.name)).toEqual(all.map((r) => ({ id: r.Id as string, deleted: r.IsDeleted === true })).sort(byId));
    });

    it(`${via}: deletes: false reads with query (queryAll failing), and silver holds live records only`, async () => {
      failQueryAll();
      const config = salesforceObjectConfig.parse({ object: 'Contact', stream: `salesforce_contact_live_${via}`, fields: ['Id', 'LastName', 'Email', 'SystemModstamp'], deletes: false });
      const { decl, modes } = await firstRun(config, over);
      expect(decl.fields).not.toContain('IsDeleted');
      expect(modes.has(via)).toBe(true);
      const live = emu.store.records('Contact');
      expect(live.length).toBeLessThan(emu.store.records('Contact', { includeDeleted: true }).length);
      expect(await silverRows(decl.silver.name)).toEqual(live.map((r) => ({ id: r.Id as string, deleted: false })).sort(byId));
    });
  }

  it('the failing queryAll is real: a stream that tracks deletes cannot read while it fails', async () => {
    failQueryAll();
    const config = salesforceObjectConfig.parse({ object: 'Contact', stream: 'salesforce_contact_blocked', fields: ['Id', 'LastName', 'SystemModstamp'] });
    await expect(firstRun(config, { bulkThreshold: 1_000_000 })).rejects.toThrow();
  });
});
