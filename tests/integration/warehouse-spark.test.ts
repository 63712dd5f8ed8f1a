import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabricksWarehouse } from '../../connectors/warehouse/databricks/databricks-warehouse';
import { stagingTableName, stagingToken } from '../../connectors/warehouse/databricks/staging-names';
import type { WarehouseHooks } from '../../connectors/warehouse/hooks';
import type { SilverTableDef } from '../../connectors/warehouse/types';
import { SparkExecutor } from '../helpers/spark-executor';
import { warehouseContract } from './warehouse-contract';
import { warehouseOpsContract } from './warehouse-ops-contract';

/**
 * Databricks SQL dialect tier: the Databricks adapter's own statements (DDL, staging INSERTs within
 * the parameter limit, MERGE) on Apache Spark 3.5 + Delta Lake 3.2. COPY INTO and Volumes exist only
 * on Databricks; their text is checked in tests/unit/warehouse-databricks.test.ts.
 * If Spark is not installed this fails (it does not skip): run `npm run setup -- --for-tests`.
 */

const SLOW = 240_000;
let spark: SparkExecutor | undefined;
let starting: Promise<SparkExecutor> | undefined;
const startSpark = (): Promise<SparkExecutor> => (starting ??= SparkExecutor.start().then((s) => (spark = s)));

afterAll(async () => {
  await spark?.close();
}, 60_000);

warehouseContract({
  name: 'Databricks dialect on Spark + Delta',
  timeoutMs: SLOW,
  // Big enough that bronze and silver go through a staging table in several INSERT chunks.
  largeRows: 300,
  setup: async () => {
    const executor = await startSpark();
    const hooks: WarehouseHooks = {};
    const open = () => new DatabricksWarehouse({ executor, catalog: 'spark_catalog', hooks });
    const target = {
      warehouse: open(),
      hooks,
      // A fresh adapter over the same session: no remembered migrations or tables.
      reopen: async () => {
        target.warehouse = open();
      },
      exec: (sql: string) => executor.execute(sql),
      table: (layer: string, name: string) => `spark_catalog.${layer}.${name}`,
      close: async () => undefined,
    };
    return target;
  },
});

warehouseOpsContract({
  name: 'Databricks dialect on Spark + Delta',
  timeoutMs: SLOW,
  setup: async () => {
    const executor = await startSpark();
    const hooks: WarehouseHooks = {};
    const target = {
      warehouse: new DatabricksWarehouse({ executor, catalog: 'spark_catalog', hooks }),
      hooks,
      reopen: async () => undefined,
      exec: (sql: string) => executor.execute(sql),
      table: (layer: string, name: string) => `spark_catalog.${layer}.${name}`,
      close: async () => undefined,
    };
    return target;
  },
});

describe('Databricks adapter on Spark: statements and failures', () => {
  const silver: SilverTableDef = {
    name: 'spark_stage',
    columns: [
      { name: 'id', type: 'varchar' },
      { name: 'n', type: 'bigint' },
      { name: 'at', type: 'timestamp' },
    ],
    primaryKey: ['id'],
    versionColumn: 'at',
  };
  let executor: SparkExecutor;
  let wh: DatabricksWarehouse;

  beforeAll(async () => {
    executor = await startSpark();
    wh = new DatabricksWarehouse({ executor, catalog: 'spark_catalog', stagingToken: () => 'fixed' });
    await wh.ensureSchema({ silver: [silver], bronze: [{ name: 'spark_stage', keyColumns: [{ name: 'id', type: 'varchar' }] }] });
  }, 300_000);

  it(
    'stays within 256 parameters per statement and uses the same SQL text with three-level names',
    async () => {
      const from = executor.statements.length;
      const rows = Array.from({ length: 200 }, (_, i) => ({ id: `s${i}`, n: i, at: new Date(i * 1000) }));
      expect(await wh.mergeSilver(silver, rows)).toEqual({ inserted: 200, updated: 0, unchanged: 0 });
      const ran = executor.statements.slice(from);
      for (const s of ran) {
        const n = s.params && !Array.isArray(s.params) ? Object.keys(s.params).length : 0;
        expect(n).toBeLessThanOrEqual(256);
      }
      const inserts = ran.filter((s) => s.sql.startsWith('INSERT INTO `spark_catalog`.`ops`.`_stg_silver_spark_stage_fixed`'));
      expect(inserts.length).toBeGreaterThanOrEqual(4);
      expect(ran.some((s) => s.sql.startsWith('MERGE INTO `spark_catalog`.`silver`.`spark_stage` AS t'))).toBe(true);
      expect(ran.at(-1)?.sql).toBe('DROP TABLE IF EXISTS `spark_catalog`.`ops`.`_stg_silver_spark_stage_fixed`');
    },
    SLOW,
  );

  it(
    'a statement failing halfway through staging leaves nothing visible; the retry completes',
    async () => {
      const bronze = { name: 'spark_stage', keyColumns: [{ name: 'id', type: 'varchar' as const }] };
      const records = Array.from({ length: 250 }, (_, i) => ({ keys: { id: `b${i}` }, payload: { i } }));
      executor.failAfter(1, /^INSERT INTO `spark_catalog`\.`ops`\.`_stg_bronze/);
      await expect(wh.appendBronze(bronze, { batchId: 'half', records })).rejects.toThrow(/injected failure/);
      const count = async () => Number((await wh.query('SELECT COUNT(*) AS n FROM spark_catalog.bronze.spark_stage'))[0].n);
      expect(await count()).toBe(0);
      // The staging table was dropped even though the load failed.
      expect(await executor.execute("SHOW TABLES IN spark_catalog.ops LIKE '_stg_*'")).toEqual([]);
      expect(await wh.appendBronze(bronze, { batchId: 'half', records })).toEqual({ inserted: 250, alreadyLoaded: false });
      expect(await count()).toBe(250);
    },
    SLOW,
  );

  it(
    'a staging table a killed load left behind is dropped when the next adapter starts; a live one is kept',
    async () => {
      const now = Date.now();
      const abandoned = stagingTableName('bronze_spark_stage', stagingToken(now - 7 * 3600_000));
      const live = stagingTableName('bronze_spark_stage', stagingToken(now - 60_000));
      for (const name of [abandoned, live]) await executor.execute(`CREATE TABLE spark_catalog.ops.${name} (id STRING) USING DELTA`);
      const next = new DatabricksWarehouse({ executor, catalog: 'spark_catalog' });
      await next.ensureSchema();
      const left = (await executor.execute("SHOW TABLES IN spark_catalog.ops LIKE '_stg_*'")).map((r) => String(r.tableName));
      expect(left).toEqual([live]);
      await executor.execute(`DROP TABLE spark_catalog.ops.${live}`);
    },
    SLOW,
  );

  it(
    'rerunning the final bronze MERGE (as a retried activity would) adds nothing',
    async () => {
      const bronze = { name: 'spark_stage', keyColumns: [{ name: 'id', type: 'varchar' as const }] };
      const from = executor.statements.length;
      await wh.appendBronze(bronze, { batchId: 'rerun', records: [{ keys: { id: 'r1' }, payload: { r: 1 } }] });
      const merge = executor.statements.slice(from).find((s) => s.sql.startsWith('MERGE INTO `spark_catalog`.`bronze`'));
      expect(merge).toBeDefined();
      const again = await executor.execute(merge!.sql, merge!.params);
      expect(Number(again[0].num_inserted_rows)).toBe(0);
      expect(Number((await wh.query("SELECT COUNT(*) AS n FROM spark_catalog.bronze.spark_stage WHERE _batch_id = 'rerun'"))[0].n)).toBe(1);
    },
    SLOW,
  );

  it(
    'reports a table that is not there with a clear error',
    async () => {
      await expect(executor.execute('SELECT * FROM spark_catalog.silver.does_not_exist')).rejects.toThrow(/TABLE_OR_VIEW_NOT_FOUND/);
    },
    SLOW,
  );
});
