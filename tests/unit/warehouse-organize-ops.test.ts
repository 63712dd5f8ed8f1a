import { describe, expect, it } from 'vitest';
import { DatabricksWarehouse } from '../../connectors/warehouse/databricks/databricks-warehouse';
import type { ExecuteOptions, SqlExecutor } from '../../connectors/warehouse/databricks/sql-executor';
import type { RawRow } from '../../connectors/warehouse/dialect';
import { databricksDialect, duckdbDialect } from '../../connectors/warehouse/dialect';
import { purgeBronzeSql, unmergedBronzeSql } from '../../connectors/warehouse/organize-ops';
import type { BronzeTableDef, SilverTableDef } from '../../connectors/warehouse/types';

/** The organize, retention and alert statements of the Databricks adapter, against a recording executor. */

class RecordingExecutor implements SqlExecutor {
  readonly sent: { sql: string; params?: Record<string, string> | readonly unknown[] }[] = [];
  constructor(private readonly answer: (sql: string) => RawRow[] = () => []) {}
  async execute(sql: string, params?: Record<string, string> | readonly unknown[], _opts?: ExecuteOptions): Promise<RawRow[]> {
    this.sent.push({ sql, params });
    if (sql.startsWith('DESCRIBE TABLE')) return [];
    return this.answer(sql);
  }
  async close(): Promise<void> {}
}

const bronze: BronzeTableDef = { name: 'salesforce_contact', keyColumns: [{ name: 'id', type: 'varchar' }] };
const silver: SilverTableDef = {
  name: 'salesforce_contact',
  columns: [
    { name: 'id', type: 'varchar' },
    { name: 'system_modstamp', type: 'timestamp' },
  ],
  primaryKey: ['id'],
  versionColumn: 'system_modstamp',
};

function warehouse(answer?: (sql: string) => RawRow[]) {
  const ex = new RecordingExecutor(answer);
  return { ex, wh: new DatabricksWarehouse({ executor: ex, catalog: 'novade' }) };
}

describe('organize statements', () => {
  it('unmerged bronze: whole keys, keyset after the last key, three-level names and named parameters on Databricks', () => {
    const s = unmergedBronzeSql(databricksDialect({ catalog: 'novade' }), bronze, silver, '003A', 500);
    expect(s.sql).toContain('FROM `novade`.`bronze`.`salesforce_contact` AS b WHERE b.`id` IS NOT NULL');
    expect(s.sql).toContain('NOT EXISTS (SELECT 1 FROM `novade`.`silver`.`salesforce_contact` AS s WHERE s.`id` = CAST(b.`id` AS STRING))');
    expect(s.sql).toContain('CAST(b.`id` AS STRING) > CAST(:p0 AS STRING)');
    expect(s.sql).toContain('ORDER BY `k` LIMIT 500) AS pk JOIN');
    expect(s.params).toEqual({ p0: '003A' });
    const first = unmergedBronzeSql(duckdbDialect, bronze, silver, undefined, 10);
    expect(first.params).toEqual({});
    expect(first.sql).toContain('"bronze"."salesforce_contact"');
  });

  it('refuses composite keys with a message', () => {
    expect(() => unmergedBronzeSql(duckdbDialect, bronze, { ...silver, primaryKey: ['id', 'system_modstamp'] }, undefined, 1)).toThrow(/single-column key/);
  });

  it('retention deletes by _ingested_at only', () => {
    const s = purgeBronzeSql(databricksDialect({ catalog: 'novade' }), bronze, new Date('2026-01-01T00:00:00.000Z'));
    expect(s).toEqual({ sql: 'DELETE FROM `novade`.`bronze`.`salesforce_contact` WHERE `_ingested_at` < CAST(:p0 AS TIMESTAMP)', params: { p0: '2026-01-01T00:00:00.000Z' } });
  });
});

describe('Databricks adapter: organize, retention, alert state', () => {
  it('compacts with OPTIMIZE per table', async () => {
    const { ex, wh } = warehouse();
    expect(await wh.compact({ bronze: [bronze], silver: [silver] })).toEqual(['bronze.salesforce_contact', 'silver.salesforce_contact']);
    expect(ex.sent.map((s) => s.sql).filter((s) => s.startsWith('OPTIMIZE'))).toEqual(['OPTIMIZE `novade`.`bronze`.`salesforce_contact`', 'OPTIMIZE `novade`.`silver`.`salesforce_contact`']);
  });

  it('purge answers num_affected_rows; dead letters are counted per flow', async () => {
    const { wh } = warehouse((sql) => (sql.startsWith('DELETE FROM') ? [{ num_affected_rows: 42 }] : sql.includes('GROUP BY `flow`') ? [{ flow: 'salesforce', n: 3 }] : []));
    expect(await wh.purgeBronze(bronze, new Date())).toBe(42);
    expect(await wh.countDeadLettersSince(new Date())).toEqual({ salesforce: 3 });
  });

  it('saves alert state with one MERGE keyed on alert_key and reads it back', async () => {
    const since = new Date('2026-11-24T08:00:00.000Z');
    const { ex, wh } = warehouse((sql) =>
      sql.startsWith('SELECT') && sql.includes('`alert_state`')
        ? [{ alert_key: 'k', scope: 's', status: 'open', title: 't', detail: null, link: 'http://x', since: '2026-11-24T08:00:00.000Z', last_seen: '2026-11-24T08:00:00.000Z', notified_at: null, resolved_at: null }]
        : [],
    );
    await wh.saveAlertState({ key: 'k', scope: 's', status: 'open', title: 't', since, lastSeen: since });
    const merge = ex.sent.find((s) => s.sql.startsWith('MERGE INTO `novade`.`ops`.`alert_state`'));
    expect(merge?.sql).toContain('ON t.`alert_key` = s.`alert_key`');
    expect(await wh.listAlertStates('s')).toEqual([{ key: 'k', scope: 's', status: 'open', title: 't', link: 'http://x', since, lastSeen: since }]);
  });
});
