import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWarehouse } from '../../connectors/warehouse';
import type { DuckDBWarehouse } from '../../connectors/warehouse/duckdb/duckdb-warehouse';
import { openDuckDBWarehouse, WarehouseInUseError } from '../../connectors/warehouse/duckdb/duckdb-warehouse';
import type { WarehouseHooks } from '../../connectors/warehouse/hooks';
import type { SilverTableDef } from '../../connectors/warehouse/types';
import { PermanentError } from '../../lib/errors';
import { warehouseContract } from './warehouse-contract';
import { warehouseOpsContract } from './warehouse-ops-contract';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-wh-duckdb-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

warehouseContract({
  name: 'DuckDB',
  largeRows: 5000,
  setup: async () => {
    const file = path.join(tmp, 'contract', 'warehouse.duckdb');
    const hooks: WarehouseHooks = {};
    const target = {
      warehouse: await openDuckDBWarehouse({ path: file, hooks }),
      hooks,
      reopen: async () => {
        await target.warehouse.close();
        target.warehouse = await openDuckDBWarehouse({ path: file, hooks });
      },
      exec: (sql: string) => target.warehouse.query(sql),
      table: (layer: string, name: string) => `"${layer}"."${name}"`,
      close: () => target.warehouse.close(),
    };
    return target;
  },
});

warehouseOpsContract({
  name: 'DuckDB',
  setup: async () => {
    const file = path.join(tmp, 'ops-contract', 'warehouse.duckdb');
    const hooks: WarehouseHooks = {};
    const target = {
      warehouse: await openDuckDBWarehouse({ path: file, hooks }),
      hooks,
      reopen: async () => undefined,
      exec: (sql: string) => target.warehouse.query(sql),
      table: (layer: string, name: string) => `"${layer}"."${name}"`,
      close: () => target.warehouse.close(),
    };
    return target;
  },
});

describe('DuckDB adapter specifics', () => {
  let wh: DuckDBWarehouse;
  const silver: SilverTableDef = {
    name: 'conc',
    columns: [
      { name: 'id', type: 'varchar' },
      { name: 'v', type: 'bigint' },
      { name: 'at', type: 'timestamp' },
    ],
    primaryKey: ['id'],
    versionColumn: 'v',
  };

  beforeAll(async () => {
    wh = await openDuckDBWarehouse({ path: path.join(tmp, 'specifics.duckdb'), threads: 1, memoryLimit: '256MB' });
  });
  afterAll(async () => {
    await wh.close();
  });

  it('creates the directory of the database file through createWarehouse', async () => {
    const file = path.join(tmp, 'deep', 'er', 'warehouse.duckdb');
    const w = await createWarehouse({ kind: 'duckdb', path: file });
    expect(w.kind).toBe('duckdb');
    await w.ensureSchema();
    await w.close();
    await w.close();
    expect(fs.existsSync(file)).toBe(true);
    await expect(w.getSyncState('x')).rejects.toThrow(/closed/);
  });

  it('serializes concurrent writes from several callers without mixing transactions', async () => {
    const calls = Array.from({ length: 12 }, (_, k) =>
      k % 3 === 0
        ? wh.appendBronze({ name: 'conc', keyColumns: [{ name: 'id', type: 'varchar' }] }, { batchId: `b${k}`, records: [{ keys: { id: `k${k}` }, payload: { k } }] })
        : wh.mergeSilver(silver, Array.from({ length: 50 }, (_, i) => ({ id: `id${i}`, v: k, at: new Date(k * 1000) }))),
    );
    await Promise.all(calls);
    const rows = await wh.query<{ n: number; m: number }>('SELECT COUNT(*) AS n, MAX(v) AS m FROM silver.conc');
    expect(rows[0]).toEqual({ n: 50, m: 11 });
    expect((await wh.query('SELECT COUNT(*) AS n FROM bronze.conc'))[0].n).toBe(4);
  });

  it('detects duplicate and null keys planted behind the adapter', async () => {
    // A table created without constraints (as an older version or a hand edit could leave it).
    await wh.query('CREATE SCHEMA IF NOT EXISTS silver');
    await wh.query('CREATE TABLE silver.loose (id VARCHAR, v BIGINT, _deleted BOOLEAN, _merged_at TIMESTAMP)');
    await wh.query("INSERT INTO silver.loose VALUES ('a', 1, false, now()), ('a', 2, false, now()), (NULL, 3, false, now())");
    const loose: SilverTableDef = { name: 'loose', columns: [{ name: 'id', type: 'varchar' }, { name: 'v', type: 'bigint' }], primaryKey: ['id'], versionColumn: 'v' };
    const results = await wh.runChecks([loose]);
    expect(results.find((r) => r.check === 'duplicate_keys')).toMatchObject({ passed: false, observed: 1 });
    expect(results.find((r) => r.check === 'null_keys')).toMatchObject({ passed: false, observed: 1 });
    expect(results.find((r) => r.check === 'bronze_silver_reconciliation')?.detail).toMatch(/no bronze/);
  });

  it('reports a bronze twin that lacks the key columns instead of failing', async () => {
    await wh.ensureSchema({ bronze: [{ name: 'twin', keyColumns: [{ name: 'other', type: 'varchar' }] }] });
    const twin: SilverTableDef = { name: 'twin', columns: [{ name: 'id', type: 'varchar' }, { name: 'v', type: 'bigint' }], primaryKey: ['id'], versionColumn: 'v' };
    await wh.mergeSilver(twin, [{ id: 'x', v: 1 }]);
    const rec = (await wh.runChecks([twin])).find((r) => r.check === 'bronze_silver_reconciliation');
    expect(rec?.detail).toMatch(/lacks key column/);
  });

  it('refuses bad definitions and values with messages that name them', async () => {
    await expect(wh.mergeSilver({ ...silver, name: 'bad name' }, [])).rejects.toThrow(/not a valid warehouse identifier/);
    await expect(wh.mergeSilver({ ...silver, primaryKey: ['nope'] }, [])).rejects.toThrow(/Primary key column "nope"/);
    await expect(wh.mergeSilver({ ...silver, versionColumn: 'nope' }, [])).rejects.toThrow(/Version column/);
    await expect(wh.mergeSilver({ ...silver, primaryKey: [] }, [])).rejects.toThrow(/needs a primary key/);
    await expect(wh.mergeSilver({ ...silver, columns: [...silver.columns, { name: '_deleted', type: 'boolean' }] }, [])).rejects.toThrow(/managed by the warehouse/);
    await expect(wh.mergeSilver({ ...silver, columns: [...silver.columns, { name: 'ID', type: 'varchar' }] }, [])).rejects.toThrow(/appears twice/);
    await expect(wh.mergeSilver(silver, [{ id: null, v: 1 }])).rejects.toThrow(/"id" must not be null/);
    await expect(wh.mergeSilver(silver, [{ id: 'a', v: 1, at: 'yesterday' }])).rejects.toThrow(PermanentError);
    await expect(wh.lookupSilver({ ...silver, primaryKey: ['id', 'v'] }, ['a'])).rejects.toThrow(/single-column key/);
    await expect(wh.appendBronze({ name: 'conc', keyColumns: [{ name: 'id', type: 'varchar' }] }, { batchId: 'circular', records: [{ keys: { id: 'x' }, payload: { big: 1n } }] })).rejects.toThrow(/_payload/);
  });

  it('reads ad hoc SQL with parameters into plain JS values', async () => {
    const rows = await wh.query('SELECT ?::VARCHAR AS s, ?::BIGINT AS b, ?::TIMESTAMP AS t, ?::JSON AS j, 9007199254740993::BIGINT AS big', ['x', 5, new Date(0), { a: 1 }]);
    expect(rows).toEqual([{ s: 'x', b: 5, t: new Date(0), j: '{"a":1}', big: 9007199254740993n }]);
  });

  it('stores a bronze batch of numeric and timestamp keys', async () => {
    const def = { name: 'typed', keyColumns: [{ name: 'n', type: 'bigint' as const }, { name: 'at', type: 'timestamp' as const }, { name: 'ok', type: 'boolean' as const }, { name: 'x', type: 'double' as const }] };
    await wh.appendBronze(def, { batchId: 't1', ingestedAt: new Date(5000), records: [{ keys: { n: 7, at: '2024-01-01T10:00:00+02:00', ok: 'true', x: '1.5' }, payload: 'raw text' }, { keys: {}, payload: undefined }] });
    const rows = await wh.query('SELECT n, "at", ok, x, _payload, _ingested_at FROM bronze.typed ORDER BY _row');
    expect(rows).toEqual([
      { n: 7, at: new Date('2024-01-01T08:00:00Z'), ok: true, x: 1.5, _payload: '"raw text"', _ingested_at: new Date(5000) },
      { n: null, at: null, ok: null, x: null, _payload: 'null', _ingested_at: new Date(5000) },
    ]);
  });


  it('stores JSON payloads compressed with zstd, a few segments instead of hundreds (bench/README.md, backfill memory)', async () => {
    const def = { name: 'payloads', keyColumns: [{ name: 'id', type: 'varchar' as const }] };
    const records = Array.from({ length: 20_000 }, (_, i) => ({
      keys: { id: `id-${i}` },
      payload: { id: `id-${i}`, event: `Event ${i % 40}`, context: { page: { url: `https://app.novade.net/projects/${i}/forms?tab=${i % 7}`, title: 'Forms' }, userAgent: 'Mozilla/5.0 (X11; Linux x86_64)'.repeat(8) }, properties: { n: i, text: 'lorem ipsum '.repeat(40) } },
    }));
    await wh.appendBronze(def, { batchId: 'z1', records });
    await wh.query('CHECKPOINT');
    const segments = await wh.query<{ compression: string; n: number }>("SELECT compression, count(*)::INTEGER AS n FROM pragma_storage_info('bronze.payloads') WHERE column_name = '_payload' GROUP BY ALL ORDER BY n DESC");
    // Left to itself DuckDB picks per segment (DICT_FSST in 12 segments for these repetitive texts;
    // the Segment payloads stayed uncompressed, ~450 segments per 100,000 rows).
    expect(segments[0]).toEqual({ compression: 'ZSTD', n: 1 });
    expect(segments.reduce((n, s) => n + s.n, 0)).toBeLessThanOrEqual(2);
    const [back] = await wh.query<{ p: string }>("SELECT _payload::VARCHAR AS p FROM bronze.payloads WHERE id = 'id-19999'");
    expect(JSON.parse(back.p)).toEqual(records[19_999].payload);
  });
  it('opens a file another process holds with a message that says what to do', async () => {
    const file = path.join(tmp, 'locked.duckdb');
    const first = await openDuckDBWarehouse({ path: file });
    await first.ensureSchema();
    await first.close();
    const holder = spawn(process.execPath, ['-e', `const { DuckDBInstance } = require('@duckdb/node-api'); DuckDBInstance.create(${JSON.stringify(file)}).then(() => { console.log('held'); setInterval(() => {}, 1000); });`], { cwd: process.cwd() });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
        holder.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
      });
      await expect(openDuckDBWarehouse({ path: file })).rejects.toThrow(/in use by another process.*Only the worker writes it/s);
      // Its own type: a standby worker waits on exactly this error (workers/warehouse-lease.ts).
      await expect(openDuckDBWarehouse({ path: file })).rejects.toBeInstanceOf(WarehouseInUseError);
    } finally {
      holder.kill('SIGKILL');
    }
    await new Promise((r) => setTimeout(r, 200));
    const ro = await openDuckDBWarehouse({ path: file, readOnly: true });
    expect(await ro.getSyncState('nothing')).toBeUndefined();
    await expect(ro.setSyncState('s', 1)).rejects.toThrow(/read-only/);
    await ro.close();
    await expect(openDuckDBWarehouse({ path: path.join(tmp, 'missing-dir', 'x.duckdb'), readOnly: true })).rejects.toThrow(/Cannot open the DuckDB warehouse/);
  });
});
