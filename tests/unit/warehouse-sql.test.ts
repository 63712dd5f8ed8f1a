import { describe, expect, it } from 'vitest';
import { checkSql, runChecks } from '../../connectors/warehouse/checks';
import type { RawRow, Statement } from '../../connectors/warehouse/dialect';
import { databricksDialect, duckdbDialect } from '../../connectors/warehouse/dialect';
import { chunkRows, copyIntoSql, insertChunkSql, jsonLines, putSql, removeSql, volumeFilePath } from '../../connectors/warehouse/databricks/staging';
import { MIGRATIONS, ensureTable, migrate } from '../../connectors/warehouse/migrations';
import { OPS_TABLES, SYNC_STATE } from '../../connectors/warehouse/ops-tables';
import { Params, bronzeMergeSql, createTableSql, dedupedSilverSource, inlineTable, silverMergeSql, upsertRowSql } from '../../connectors/warehouse/sql';
import { bronzeStagingColumns, bronzeTable, silverStagingColumns, silverTable } from '../../connectors/warehouse/table-defs';
import type { SilverTableDef } from '../../connectors/warehouse/types';
import { PermanentError } from '../../lib/errors';

const dbx = databricksDialect({ catalog: 'novade' });
const contact: SilverTableDef = {
  name: 'salesforce_contact',
  columns: [
    { name: 'Id', type: 'varchar' },
    { name: 'Email', type: 'varchar' },
    { name: 'SystemModstamp', type: 'timestamp' },
  ],
  primaryKey: ['Id'],
  versionColumn: 'SystemModstamp',
};

describe('warehouse DDL', () => {
  it('creates silver tables with NOT NULL keys, adapter columns and Delta clustering', () => {
    expect(createTableSql(dbx, silverTable(contact))).toBe(
      'CREATE TABLE IF NOT EXISTS `novade`.`silver`.`salesforce_contact` (`Id` STRING NOT NULL, `Email` STRING, `SystemModstamp` TIMESTAMP, `_deleted` BOOLEAN NOT NULL, `_merged_at` TIMESTAMP NOT NULL) USING DELTA CLUSTER BY (`Id`)',
    );
    expect(createTableSql(duckdbDialect, silverTable(contact))).toBe(
      'CREATE TABLE IF NOT EXISTS "silver"."salesforce_contact" ("Id" VARCHAR NOT NULL, "Email" VARCHAR, "SystemModstamp" TIMESTAMP, "_deleted" BOOLEAN NOT NULL, "_merged_at" TIMESTAMP NOT NULL)',
    );
  });

  it('creates bronze tables keyed by batch and row, keys nullable as received', () => {
    const b = bronzeTable({ name: 'salesforce_contact', keyColumns: [{ name: 'Id', type: 'varchar' }] });
    expect(createTableSql(dbx, b)).toBe(
      'CREATE TABLE IF NOT EXISTS `novade`.`bronze`.`salesforce_contact` (`Id` STRING, `_payload` STRING NOT NULL, `_ingested_at` TIMESTAMP NOT NULL, `_batch_id` STRING NOT NULL, `_row` BIGINT NOT NULL) USING DELTA CLUSTER BY (`_batch_id`, `_row`)',
    );
    expect(bronzeStagingColumns({ name: 'x', keyColumns: [{ name: 'Id', type: 'varchar', nullable: false }] }).map((c) => [c.name, c.nullable])).toEqual([
      ['Id', false],
      ['_payload', false],
      ['_row', false],
    ]);
  });

  it('defines every ops table with typed, keyed columns', () => {
    for (const t of OPS_TABLES) {
      expect(t.key.length).toBeGreaterThan(0);
      for (const k of t.key) expect(t.columns.find((c) => c.name === k)?.nullable).toBe(false);
      expect(createTableSql(dbx, t)).toContain(`\`novade\`.\`ops\`.\`${t.name}\``);
    }
  });

  it('refuses identifiers that could break out of quoting', () => {
    expect(() => databricksDialect({ catalog: 'bad`name' })).toThrow(PermanentError);
    expect(() => silverTable({ ...contact, name: 'x; DROP TABLE y' })).toThrow(/not a valid warehouse identifier/);
    expect(() => bronzeTable({ name: 'ok', keyColumns: [{ name: 'a"b', type: 'varchar' }] })).toThrow(/Column of bronze.ok/);
  });
});

describe('warehouse merge statements', () => {
  it('dedupes the source on the key, newest version first, later rows winning ties', () => {
    expect(dedupedSilverSource(dbx, contact, 'src')).toBe(
      'SELECT `Id`, `Email`, `SystemModstamp`, `_deleted` FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY `Id` ORDER BY `SystemModstamp` DESC NULLS LAST, `_ord` DESC) AS `_rn` FROM src) AS `_ranked` WHERE `_rn` = 1',
    );
  });

  it('merges with explicit column lists and updates only newer versions', () => {
    const sql = silverMergeSql(dbx, contact, 'SELECT 1', ':now');
    expect(sql).toContain('MERGE INTO `novade`.`silver`.`salesforce_contact` AS t USING (SELECT 1) AS s ON t.`Id` = s.`Id`');
    expect(sql).toContain('WHEN MATCHED AND (s.`SystemModstamp` > t.`SystemModstamp` OR (t.`SystemModstamp` IS NULL AND s.`SystemModstamp` IS NOT NULL))');
    expect(sql).toContain('UPDATE SET `Email` = s.`Email`, `SystemModstamp` = s.`SystemModstamp`, `_deleted` = s.`_deleted`, `_merged_at` = :now');
    expect(sql).toContain('WHEN NOT MATCHED THEN INSERT (`Id`, `Email`, `SystemModstamp`, `_deleted`, `_merged_at`) VALUES (s.`Id`, s.`Email`, s.`SystemModstamp`, s.`_deleted`, :now)');
    expect(sql).not.toContain('UPDATE SET *');
  });

  it('with refresh, lets a row of the same version replace the stored values (a periodic full re-read)', () => {
    const sql = silverMergeSql(dbx, contact, 'SELECT 1', ':now', { refresh: true, fill: ['Email'] });
    expect(sql).toContain('WHEN MATCHED AND (s.`SystemModstamp` > t.`SystemModstamp` OR (t.`SystemModstamp` IS NULL AND s.`SystemModstamp` IS NOT NULL) OR s.`SystemModstamp` = t.`SystemModstamp`) THEN UPDATE SET `Email` = s.`Email`');
  });

  it('loads bronze by MERGE on (batch, row), pruned to the batch', () => {
    const b = bronzeTable({ name: 'c', keyColumns: [{ name: 'Id', type: 'varchar' }] });
    const sql = bronzeMergeSql(dbx, b, bronzeStagingColumns({ name: 'c', keyColumns: [{ name: 'Id', type: 'varchar' }] }), 'src', ':ts', ':b');
    expect(sql).toContain('ON t.`_batch_id` = s.`_batch_id` AND t.`_row` = s.`_row` AND t.`_batch_id` = :b WHEN NOT MATCHED THEN INSERT');
    expect(sql).toContain(':ts AS `_ingested_at`');
  });

  it('binds every value as a cast parameter and inlines nulls', () => {
    const p = new Params(dbx);
    const cols = silverStagingColumns(contact);
    const table = inlineTable(dbx, p, cols, [['a', null, '2024-01-01T00:00:00.000Z', 'false', '0']]);
    expect(table).toBe(
      'VALUES (CAST(:p0 AS STRING), CAST(NULL AS STRING), CAST(:p1 AS TIMESTAMP), CAST(:p2 AS BOOLEAN), CAST(:p3 AS BIGINT)) AS v(`Id`, `Email`, `SystemModstamp`, `_deleted`, `_ord`)',
    );
    expect(p.values).toEqual({ p0: 'a', p1: '2024-01-01T00:00:00.000Z', p2: 'false', p3: '0' });
    expect(p.count).toBe(4);
    const duck = new Params(duckdbDialect);
    expect(duck.cast('json', '{}')).toBe('CAST($p0 AS JSON)');
  });

  it('upserts ops rows keyed on their key, optionally keeping columns on match', () => {
    const s = upsertRowSql(dbx, SYNC_STATE, ['stream', '{"a":1}', '2024-01-01T00:00:00.000Z']);
    expect(s.sql).toContain('WHEN MATCHED THEN UPDATE SET `cursor` = s.`cursor`, `updated_at` = s.`updated_at`');
    expect(Object.keys(s.params)).toHaveLength(3);
    const keep = upsertRowSql(dbx, SYNC_STATE, ['stream', '1', '2024-01-01T00:00:00.000Z'], { keepOnMatch: ['cursor', 'updated_at'] });
    expect(keep.sql).not.toContain('WHEN MATCHED');
  });
});

describe('Databricks staging statements', () => {
  const cols = silverStagingColumns(contact);
  const rows = Array.from({ length: 1000 }, (_, i) => [`id${i}`, i % 3 === 0 ? null : `e${i}`, '2024-01-01T00:00:00.000Z', 'false', String(i)]);

  it('chunks INSERTs to at most 256 parameters, nulls costing none', () => {
    const chunks = chunkRows(rows, { maxParams: 256, maxBytes: 1 << 30 });
    expect(chunks.flat()).toHaveLength(1000);
    for (const chunk of chunks) {
      const stmt = insertChunkSql(dbx, '`novade`.`ops`.`_stg`', cols, chunk);
      expect(Object.keys(stmt.params).length).toBeLessThanOrEqual(256);
      expect(stmt.sql.startsWith('INSERT INTO `novade`.`ops`.`_stg` (`Id`, `Email`, `SystemModstamp`, `_deleted`, `_ord`) VALUES (CAST(:p0 AS STRING)')).toBe(true);
    }
    // Every third row has a null: fewer statements than 5 parameters a row would need.
    expect(chunks.length).toBeLessThan(Math.ceil(1000 / Math.floor(256 / 5)));
  });

  it('also bounds the bytes per statement and refuses a row wider than a statement', () => {
    const long = [['x'.repeat(1000)], ['y'.repeat(1000)], ['z']];
    expect(chunkRows(long, { maxParams: 256, maxBytes: 3500 }).map((c) => c.length)).toEqual([1, 2]);
    expect(() => chunkRows([Array.from({ length: 300 }, () => 'v')], { maxParams: 256, maxBytes: 1 << 20 })).toThrow(/300 parameters/);
    expect(chunkRows([['a']], { maxParams: 256, maxBytes: 100 }, 255)).toHaveLength(1);
  });

  it('stages big batches through a Volume: PUT, COPY INTO with explicit casts, REMOVE', () => {
    const file = volumeFilePath('novade', 'staging', '_stg_x_abc.json');
    expect(file).toBe('/Volumes/novade/ops/staging/novade-staging/_stg_x_abc.json');
    expect(putSql('/tmp/d/_stg_x_abc.json', file)).toBe(`PUT '/tmp/d/_stg_x_abc.json' INTO '${file}' OVERWRITE`);
    expect(removeSql(file)).toBe(`REMOVE '${file}'`);
    expect(copyIntoSql(dbx, '`novade`.`ops`.`_stg_x`', cols.slice(0, 2), file)).toBe(
      `COPY INTO \`novade\`.\`ops\`.\`_stg_x\` FROM (SELECT CAST(\`Id\` AS STRING) AS \`Id\`, CAST(\`Email\` AS STRING) AS \`Email\` FROM '${file}') FILEFORMAT = JSON FORMAT_OPTIONS ('primitivesAsString' = 'true', 'multiLine' = 'false') COPY_OPTIONS ('mergeSchema' = 'false')`,
    );
    expect(() => putSql("/tmp/it's", file)).toThrow(/unsafe staging path/);
    expect(jsonLines(cols.slice(0, 2), [['a\nb', null]])).toBe('{"Id":"a\\nb","Email":null}\n');
  });
});

describe('data-quality check SQL', () => {
  it('measures duplicates, null keys, freshness and reconciliation in one statement', () => {
    const sql = checkSql(dbx, contact, true);
    expect(sql).toContain('GROUP BY `Id` HAVING COUNT(*) > 1');
    expect(sql).toContain('WHERE n.`Id` IS NULL');
    expect(sql).toContain('MAX(`_merged_at`)');
    expect(sql).toContain('LEFT JOIN `novade`.`silver`.`salesforce_contact` AS s ON s.`Id` = bk.`Id` WHERE s.`Id` IS NULL');
    expect(checkSql(dbx, contact, false)).not.toContain('bronze');
  });

  it('turns measurements into results against thresholds', async () => {
    const now = new Date('2024-01-01T01:00:00Z');
    const target = {
      dialect: dbx,
      tableExists: async () => true,
      columnsOf: async () => ['Id', '_payload'],
      run: async (): Promise<RawRow[]> => [{ duplicate_keys: 2, null_keys: 0, newest: '2024-01-01 00:00:00', silver_rows: 10, missing_in_silver: 0, bronze_null_keys: 3 }],
    };
    const results = await runChecks(target, [contact], { freshnessSeconds: { salesforce_contact: 1800 } }, now);
    expect(results.map((r) => [r.check, r.passed, r.observed])).toEqual([
      ['duplicate_keys', false, 2],
      ['null_keys', true, 0],
      ['bronze_silver_reconciliation', true, 0],
      ['freshness', false, 3600],
    ]);
    expect(results[2].detail).toMatch(/3 bronze row\(s\) without a key/);
  });
});

describe('migrations', () => {
  function fakeTarget(existing: string[] = []) {
    const ran: string[] = [];
    let recorded: number[] = [];
    return {
      ran,
      target: {
        dialect: dbx,
        atomically: <T>(fn: () => Promise<T>) => fn(),
        run: async (s: Statement): Promise<RawRow[]> => {
          ran.push(s.sql);
          if (s.sql.startsWith('SELECT `version`')) return recorded.map((version) => ({ version }));
          if (s.sql.startsWith('MERGE INTO `novade`.`ops`.`schema_migrations`')) recorded = [...recorded, Number(s.params.p0)];
          if (s.sql.startsWith('DESCRIBE TABLE')) return [...existing.map((col_name) => ({ col_name })), { col_name: '' }, { col_name: '# Clustering Information' }];
          return [];
        },
      },
    };
  }

  it('applies each migration once and records it', async () => {
    const f = fakeTarget();
    expect(await migrate(f.target)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(f.ran.filter((s) => s.startsWith('CREATE SCHEMA IF NOT EXISTS'))).toEqual(['CREATE SCHEMA IF NOT EXISTS `novade`.`bronze`', 'CREATE SCHEMA IF NOT EXISTS `novade`.`silver`', 'CREATE SCHEMA IF NOT EXISTS `novade`.`ops`']);
    expect(f.ran.filter((s) => s.startsWith('CREATE TABLE IF NOT EXISTS `novade`.`ops`'))).toHaveLength(OPS_TABLES.length);
    expect(await migrate(f.target)).toEqual([]);
  });

  it('adds a column only where it is missing', async () => {
    const table = { ...SYNC_STATE, columns: [...SYNC_STATE.columns, { name: 'note', type: 'varchar' as const, nullable: true }] };
    const later = [{ version: 1, name: 'base', steps: [] }, { version: 2, name: 'note', steps: [{ kind: 'addColumn' as const, table, column: 'note' }] }];
    const f = fakeTarget(['stream', 'cursor', 'updated_at']);
    await migrate(f.target, later);
    expect(f.ran).toContain('ALTER TABLE `novade`.`ops`.`sync_state` ADD COLUMNS (`note` STRING)');
    const g = fakeTarget(['stream', 'cursor', 'updated_at', 'note']);
    await migrate(g.target, later);
    expect(g.ran.some((s) => s.startsWith('ALTER'))).toBe(false);
    await expect(migrate(fakeTarget().target, [{ version: 3, name: 'bad', steps: [{ kind: 'addColumn', table, column: 'nope' }] }])).rejects.toThrow(/unknown column nope/);
  });

  it('lets a table gain nullable columns on ensure', async () => {
    const f = fakeTarget(['Id', 'Email']);
    expect(await ensureTable(f.target, silverTable(contact))).toEqual(['SystemModstamp', '_deleted', '_merged_at']);
    expect(f.ran).toContain('ALTER TABLE `novade`.`silver`.`salesforce_contact` ADD COLUMNS (`_deleted` BOOLEAN)');
  });
});
