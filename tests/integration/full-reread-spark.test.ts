import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabricksWarehouse } from '../../connectors/warehouse/databricks/databricks-warehouse';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../../connectors/warehouse';
import type { MergeResult, Row, SilverTableDef, Warehouse } from '../../connectors/warehouse/types';
import { SparkExecutor } from '../helpers/spark-executor';

/**
 * The `full_reread` refresh merge (mergeSilver with `refresh: true`, streams/pipeline.ts) in the
 * Databricks dialect on Apache Spark + Delta Lake, compared row for row with the DuckDB adapter on the
 * same input: a record read again at the version silver holds replaces the row's values (a formula
 * field's new value), an older version changes nothing, a newer one and a new key merge as always.
 * If Spark is not installed this fails (it does not skip): `npm run setup -- --for-tests`.
 */

const SLOW = 240_000;
let spark: SparkExecutor;
let duck: DuckDBWarehouse;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'full-reread-spark-'));
  [spark, duck] = await Promise.all([SparkExecutor.start(), openDuckDBWarehouse({ path: path.join(dir, 'w.duckdb') })]);
}, SLOW);
afterAll(async () => {
  await spark?.close();
  await duck?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

const tableDef = (name: string): SilverTableDef => ({
  name,
  columns: [
    { name: 'id', type: 'varchar', nullable: false },
    { name: 'account_name', type: 'varchar' },
    { name: 'amount', type: 'double' },
    { name: 'days_open', type: 'bigint' },
    { name: 'is_won', type: 'boolean' },
    { name: 'system_modstamp', type: 'timestamp' },
  ],
  primaryKey: ['id'],
  versionColumn: 'system_modstamp',
});

// Sub-second versions: equality of versions is what the refresh condition tests.
const T1 = '2025-03-01T10:00:00.123Z';
const T2 = '2025-03-02T10:00:00.456Z';
const T0 = '2025-02-01T10:00:00.789Z';

const row = (id: string, v: string | null, over: Partial<Row> = {}): Row => ({ id, account_name: 'Acme', amount: 100.5, days_open: 3, is_won: false, system_modstamp: v, ...over });

/** Silver before the re-read. */
const seed: Row[] = [
  row('same-changed', T1),
  row('same-to-null', T1),
  row('same-equal', T1),
  row('older-incoming', T2),
  row('newer-incoming', T1),
  row('null-version-silver', null),
  row('null-version-incoming', T1),
  row('same-deleted', T1),
  row('dup-in-page', T1),
  row('not-in-page', T1, { account_name: 'Untouched' }),
];

/** A page of the re-read, as the pipeline hands refreshes (and the merge statement sees any row). */
const page: Row[] = [
  row('same-changed', T1, { account_name: 'Acme Renamed', days_open: 4 }),
  row('same-to-null', T1, { amount: null, is_won: null }),
  row('same-equal', T1),
  row('older-incoming', T0, { account_name: 'Stale' }),
  row('newer-incoming', T2, { account_name: 'Newer', is_won: true }),
  row('null-version-silver', T1, { account_name: 'Now versioned' }),
  row('null-version-incoming', null, { account_name: 'No version' }),
  { ...row('same-deleted', T1, { account_name: 'In the bin' }), _deleted: true },
  row('dup-in-page', T1, { account_name: 'first of two' }),
  row('dup-in-page', T1, { account_name: 'last of two' }),
  row('new-key', T1, { account_name: 'Brand new' }),
];

/** Silver rows as comparable values: `_merged_at` apart (its own check), timestamps as ISO text. */
async function silverOf(wh: Warehouse, def: SilverTableDef): Promise<{ rows: Record<string, unknown>[]; mergedAt: Map<string, number> }> {
  const ids = [...new Set([...seed, ...page].map((r) => String(r.id)))];
  const found = (await wh.lookupSilver(def, ids)).sort((a, b) => String(a.id).localeCompare(String(b.id)));
  const mergedAt = new Map(found.map((r) => [String(r.id), new Date(r._merged_at as string | Date).getTime()]));
  const rows = found.map((r) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (k !== '_merged_at') out[k] = v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? Number(v) : v;
    return out;
  });
  return { rows, mergedAt };
}

async function refreshOn(wh: Warehouse, def: SilverTableDef): Promise<{ result: MergeResult; before: Awaited<ReturnType<typeof silverOf>>; after: Awaited<ReturnType<typeof silverOf>> }> {
  await wh.ensureSchema({ silver: [def] });
  await wh.mergeSilver(def, seed);
  const before = await silverOf(wh, def);
  // _merged_at has millisecond resolution at best: make "merged by the refresh" distinguishable.
  await new Promise((r) => setTimeout(r, 20));
  const result = await wh.mergeSilver(def, page, { deleted: (r) => r._deleted === true, refresh: true });
  return { result, before, after: await silverOf(wh, def) };
}

describe('full_reread refresh merge on Spark + Delta (Databricks dialect) matches DuckDB', () => {
  // A page of a full re-read holds up to 2,000 records: on Databricks it reaches MERGE through a
  // staging table filled in chunks; a small page goes inline.
  it.each([
    { source: 'an inline VALUES source', table: 'salesforce_refreshed_inline', limits: undefined },
    { source: 'a staging table filled in chunks', table: 'salesforce_refreshed_staged', limits: { maxParams: 24 } },
  ])(
    'through $source: same version with changed values is refreshed, older versions untouched, newer and new keys merged: same rows and counts on both engines',
    async ({ table, limits }) => {
      const def = tableDef(table);
      const dbx = new DatabricksWarehouse({ executor: spark, catalog: 'spark_catalog', limits });
      const mark = spark.statements.length;
      const onSpark = await refreshOn(dbx, def);
      const onDuck = await refreshOn(duck, def);

      // The adapter's own refresh statement ran on Spark (not a copy of its text).
      const merges = spark.statements.slice(mark).filter((s) => s.sql.startsWith(`MERGE INTO \`spark_catalog\`.\`silver\`.\`${table}\``));
      expect(merges).toHaveLength(2);
      expect(merges.map((s) => s.sql.includes('OR s.`system_modstamp` = t.`system_modstamp`'))).toEqual([false, true]);
      const staged = spark.statements.slice(mark).some((s) => /^INSERT INTO `spark_catalog`\.`ops`\.`_stg/.test(s.sql));
      expect(staged).toBe(limits !== undefined);

      expect(onSpark.before.rows).toEqual(onDuck.before.rows);
      expect(onSpark.after.rows).toEqual(onDuck.after.rows);
      expect(onSpark.result).toEqual(onDuck.result);

      // What both produce, spelled out.
      const byId = new Map(onDuck.after.rows.map((r) => [r.id as string, r]));
      const base = { account_name: 'Acme', amount: 100.5, days_open: 3, is_won: false, system_modstamp: T1, _deleted: false };
      expect(byId.get('same-changed')).toEqual({ ...base, id: 'same-changed', account_name: 'Acme Renamed', days_open: 4 });
      expect(byId.get('same-to-null')).toEqual({ ...base, id: 'same-to-null', amount: null, is_won: null });
      expect(byId.get('same-equal')).toEqual({ ...base, id: 'same-equal' });
      expect(byId.get('older-incoming')).toEqual({ ...base, id: 'older-incoming', system_modstamp: T2 });
      expect(byId.get('newer-incoming')).toEqual({ ...base, id: 'newer-incoming', account_name: 'Newer', is_won: true, system_modstamp: T2 });
      expect(byId.get('null-version-silver')).toEqual({ ...base, id: 'null-version-silver', account_name: 'Now versioned' });
      expect(byId.get('null-version-incoming')).toEqual({ ...base, id: 'null-version-incoming' });
      expect(byId.get('same-deleted')).toEqual({ ...base, id: 'same-deleted', account_name: 'In the bin', _deleted: true });
      expect(byId.get('dup-in-page')).toEqual({ ...base, id: 'dup-in-page', account_name: 'last of two' });
      expect(byId.get('new-key')).toEqual({ ...base, id: 'new-key', account_name: 'Brand new' });
      expect(byId.get('not-in-page')).toEqual({ ...base, id: 'not-in-page', account_name: 'Untouched' });

      // Matched at the same version (equal values too: the pipeline sends only rows that differ),
      // newer, or over a null version → updated; the new key → inserted; the rest unchanged.
      expect(onDuck.result).toEqual({ inserted: 1, updated: 7, unchanged: page.length - 8 });

      // _merged_at moves exactly for the rows the merge wrote, on both engines.
      const written = ['same-changed', 'same-to-null', 'same-equal', 'newer-incoming', 'null-version-silver', 'same-deleted', 'dup-in-page', 'new-key'];
      for (const run of [onSpark, onDuck]) {
        const moved = [...run.after.mergedAt].filter(([id, at]) => at !== run.before.mergedAt.get(id)).map(([id]) => id);
        expect(moved.sort()).toEqual([...written].sort());
      }
    },
    SLOW,
  );
});
