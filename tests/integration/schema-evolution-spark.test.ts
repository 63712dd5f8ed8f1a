import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabricksWarehouse } from '../../connectors/warehouse/databricks/databricks-warehouse';
import type { SchemaChangeRecord, SilverTableDef } from '../../connectors/warehouse/types';
import { SparkExecutor } from '../helpers/spark-executor';

/**
 * Schema evolution's warehouse statements in the Databricks dialect, on Apache Spark + Delta Lake:
 * a silver table gains nullable columns (ALTER TABLE ... ADD COLUMNS), existing rows keep their
 * values, a same-version re-read fills the new columns, and ops.schema_changes / ops.stream_schemas
 * (migration 4) round-trip. If Spark is not installed this fails: `npm run setup -- --for-tests`.
 */

const SLOW = 240_000;
let spark: SparkExecutor;
let wh: DatabricksWarehouse;

beforeAll(async () => {
  spark = await SparkExecutor.start();
  wh = new DatabricksWarehouse({ executor: spark, catalog: 'spark_catalog' });
}, SLOW);
afterAll(async () => {
  await spark?.close();
}, 60_000);

const v1: SilverTableDef = {
  name: 'salesforce_evolving',
  columns: [
    { name: 'id', type: 'varchar', nullable: false },
    { name: 'name', type: 'varchar' },
    { name: 'system_modstamp', type: 'timestamp' },
  ],
  primaryKey: ['id'],
  versionColumn: 'system_modstamp',
};
const v2: SilverTableDef = { ...v1, columns: [...v1.columns, { name: 'region', type: 'varchar' }, { name: 'site_location_latitude', type: 'double' }] };

describe('schema evolution on Spark + Delta (Databricks dialect)', () => {
  it(
    'adds nullable columns to a silver table with rows, and a same-version re-read fills them without touching other rows',
    async () => {
      expect(await wh.silverColumnNames(v1.name)).toBeUndefined();
      await wh.ensureSchema({ silver: [v1] });
      await wh.mergeSilver(v1, [
        { id: 'a1', name: 'Acme', system_modstamp: '2025-01-01T00:00:00.000Z' },
        { id: 'a2', name: 'Bolt', system_modstamp: '2025-01-02T00:00:00.000Z' },
      ]);

      await wh.ensureSchema({ silver: [v2] });
      expect(await wh.silverColumnNames(v1.name)).toEqual(['id', 'name', 'system_modstamp', '_deleted', '_merged_at', 'region', 'site_location_latitude']);
      const types = await spark.execute('DESCRIBE TABLE spark_catalog.silver.salesforce_evolving');
      expect(types.filter((r) => r.col_name === 'region' || r.col_name === 'site_location_latitude').map((r) => [r.col_name, r.data_type])).toEqual([
        ['region', 'string'],
        ['site_location_latitude', 'double'],
      ]);
      const read = async () => (await wh.query('SELECT id, name, region, site_location_latitude FROM spark_catalog.silver.salesforce_evolving ORDER BY id')).map((r) => [r.id, r.name, r.region, r.site_location_latitude]);
      expect(await read()).toEqual([
        ['a1', 'Acme', null, null],
        ['a2', 'Bolt', null, null],
      ]);

      // Same versions: without fill nothing changes; with fill only the empty columns take values.
      const reread = [
        { id: 'a1', name: 'Acme', system_modstamp: '2025-01-01T00:00:00.000Z', region: 'APAC', site_location_latitude: 1.29 },
        { id: 'a2', name: 'Bolt', system_modstamp: '2025-01-02T00:00:00.000Z', region: null, site_location_latitude: null },
      ];
      expect((await wh.mergeSilver(v2, reread)).updated).toBe(0);
      await wh.mergeSilver(v2, reread, { fill: ['region', 'site_location_latitude'] });
      expect(await read()).toEqual([
        ['a1', 'Acme', 'APAC', 1.29],
        ['a2', 'Bolt', null, null],
      ]);
      // An older version never fills.
      await wh.mergeSilver(v2, [{ id: 'a2', name: 'Old', system_modstamp: '2024-01-01T00:00:00.000Z', region: 'EMEA', site_location_latitude: 2 }], { fill: ['region'] });
      expect((await read())[1]).toEqual(['a2', 'Bolt', null, null]);
    },
    SLOW,
  );

  it(
    'records schema changes once per id and remembers the stream schema (migration 4)',
    async () => {
      const change: SchemaChangeRecord = {
        id: 'chg-1',
        stream: 'salesforce_evolving',
        object: 'Account',
        change: 'field_added',
        field: 'Region__c',
        column: 'region',
        fromType: null,
        toType: 'text/varchar',
        action: 'column_added',
        detail: 'Account.Region__c appeared',
        detectedAt: new Date('2025-02-01T00:00:00Z'),
      };
      expect(await wh.recordSchemaChanges([change])).toBe(1);
      expect(await wh.recordSchemaChanges([change])).toBe(0);
      expect(await wh.listSchemaChanges({ stream: 'salesforce_evolving' })).toEqual([change]);
      await wh.saveStreamSchema({ stream: 'salesforce_evolving', version: 2, fields: [{ field: 'Region__c', column: 'region', kind: 'text', type: 'varchar' }] });
      expect(await wh.getStreamSchema('salesforce_evolving')).toMatchObject({ version: 2, fields: [{ field: 'Region__c', column: 'region', kind: 'text', type: 'varchar' }] });
      const applied = await spark.execute('SELECT version FROM spark_catalog.ops.schema_migrations ORDER BY version');
      expect(applied.map((r) => Number(r.version))).toContain(4);
    },
    SLOW,
  );
});
