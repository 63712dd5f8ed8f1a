import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDuckDBWarehouse } from '../../connectors/warehouse/duckdb/duckdb-warehouse';
import type { WarehouseHooks } from '../../connectors/warehouse/hooks';
import type { BronzeTableDef, SilverTableDef } from '../../connectors/warehouse/types';

/** The DuckDB adapter's staging tables live only while a load runs: none after a batch, a failed one, or a restart. */

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-wh-staging-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const silver: SilverTableDef = {
  name: 'stg_contact',
  columns: [
    { name: 'id', type: 'varchar' },
    { name: 'v', type: 'bigint' },
  ],
  primaryKey: ['id'],
  versionColumn: 'v',
};
const bronze: BronzeTableDef = { name: 'stg_contact', keyColumns: [{ name: 'id', type: 'varchar' }] };
const rows = (n: number, v = 1) => Array.from({ length: n }, (_, i) => ({ id: `c${i}`, v }));
const records = (n: number) => Array.from({ length: n }, (_, i) => ({ keys: { id: `c${i}` }, payload: { id: `c${i}`, note: 'line\nbreak' } }));

describe('DuckDB staging tables', () => {
  it('leaves none behind after a batch, after a failed batch, and after a restart', async () => {
    const file = path.join(tmp, 'w.duckdb');
    const hooks: WarehouseHooks = {};
    let wh = await openDuckDBWarehouse({ path: file, hooks });
    try {
      await wh.ensureSchema({ bronze: [bronze], silver: [silver] });
      expect(await wh.mergeSilver(silver, rows(3000))).toEqual({ inserted: 3000, updated: 0, unchanged: 0 });
      expect(await wh.appendBronze(bronze, { batchId: 'b1', records: records(3000) })).toEqual({ inserted: 3000, alreadyLoaded: false });
      expect(await wh.stagingTables()).toEqual([]);

      // Fail both loads after their rows were staged, just before commit.
      hooks.beforeCommit = async (op) => {
        if (op === 'mergeSilver' || op === 'appendBronze') throw new Error('injected failure');
      };
      await expect(wh.mergeSilver(silver, rows(3000, 2))).rejects.toThrow('injected failure');
      await expect(wh.appendBronze(bronze, { batchId: 'b2', records: records(3000) })).rejects.toThrow('injected failure');
      expect(await wh.stagingTables()).toEqual([]);
      // Nothing of the failed batches is visible.
      expect(await wh.query('SELECT COUNT(*) AS n FROM bronze.stg_contact')).toEqual([{ n: 3000 }]);
      expect(await wh.query('SELECT MAX(v) AS v FROM silver.stg_contact')).toEqual([{ v: 1 }]);

      // The next run (a new process) sees no staging tables and loads the batches.
      hooks.beforeCommit = undefined;
      await wh.close();
      wh = await openDuckDBWarehouse({ path: file, hooks });
      expect(await wh.stagingTables()).toEqual([]);
      expect(await wh.mergeSilver(silver, rows(3000, 2))).toEqual({ inserted: 0, updated: 3000, unchanged: 0 });
      expect(await wh.appendBronze(bronze, { batchId: 'b2', records: records(3000) })).toEqual({ inserted: 3000, alreadyLoaded: false });
      expect(await wh.stagingTables()).toEqual([]);
      const persisted = await wh.query("SELECT COUNT(*) AS n FROM duckdb_tables() WHERE table_name LIKE '%stg%' AND schema_name <> 'silver' AND schema_name <> 'bronze'");
      expect(persisted).toEqual([{ n: 0 }]);
    } finally {
      await wh.close();
    }
  });
});
