import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DatabricksWarehouse } from '../../connectors/warehouse/databricks/databricks-warehouse';
import type { DatabricksWarehouseOptions } from '../../connectors/warehouse/databricks/databricks-warehouse';
import type { ExecuteOptions, SqlExecutor } from '../../connectors/warehouse/databricks/sql-executor';
import type { RawRow } from '../../connectors/warehouse/dialect';
import type { SilverTableDef } from '../../connectors/warehouse/types';
import { PermanentError, TransientError } from '../../lib/errors';

/**
 * The Databricks adapter against a fake executor: which statements it sends, in which order, with
 * how many parameters, and what it leaves behind when one of them fails.
 */

interface Sent {
  sql: string;
  params?: Record<string, string> | readonly unknown[];
  opts?: ExecuteOptions;
}

class FakeExecutor implements SqlExecutor {
  readonly sent: Sent[] = [];
  /** Columns of the tables created so far, for DESCRIBE. */
  private readonly tables = new Map<string, string[]>();
  /** Distinct ordinals staged per staging table. */
  private readonly staged = new Map<string, number>();
  answers: { match: RegExp; rows: RawRow[] | ((s: Sent) => RawRow[]) }[] = [];
  failOn?: { match: RegExp; after: number; error: Error };
  stagedShortBy = 0;
  closed = false;
  /** Contents of files PUT to the Volume, read at PUT time (the adapter deletes them afterwards). */
  readonly putFiles: string[] = [];

  async execute(sql: string, params?: Record<string, string> | readonly unknown[], opts?: ExecuteOptions): Promise<RawRow[]> {
    const s = { sql, params, opts };
    this.sent.push(s);
    if (this.failOn && this.failOn.match.test(sql)) {
      if (this.failOn.after === 0) throw this.failOn.error;
      this.failOn.after--;
    }
    const insert = /^INSERT INTO (`[^ ]+`) \(/.exec(sql);
    if (insert) this.staged.set(insert[1], (this.staged.get(insert[1]) ?? 0) + (sql.match(/\), \(/g)?.length ?? 0) + 1);
    const create = /^CREATE TABLE IF NOT EXISTS (`[^ ]+`) \((.*)\) USING DELTA/.exec(sql);
    if (create) this.tables.set(create[1], [...create[2].matchAll(/`([^`]+)` [A-Z]+/g)].map((m) => m[1]));
    const describe = /^DESCRIBE TABLE (`[^ ]+`)$/.exec(sql);
    if (describe) return (this.tables.get(describe[1]) ?? []).map((col_name) => ({ col_name }));
    const copy = /^COPY INTO (`[^ ]+`) FROM/.exec(sql);
    if (copy) this.staged.set(copy[1], this.copyRows);
    if (sql.startsWith('PUT ')) this.putFiles.push(fs.readFileSync(/^PUT '([^']+)'/.exec(sql)![1], 'utf8'));
    const count = /^SELECT COUNT\(DISTINCT `[^`]+`\) AS n FROM (`[^ ]+`)$/.exec(sql);
    if (count) return [{ n: (this.staged.get(count[1]) ?? 0) - this.stagedShortBy }];
    for (const a of this.answers) if (a.match.test(sql)) return typeof a.rows === 'function' ? a.rows(s) : a.rows;
    if (sql.startsWith('MERGE INTO')) return [{ num_affected_rows: 1, num_updated_rows: 0, num_deleted_rows: 0, num_inserted_rows: 1 }];
    return [];
  }
  copyRows = 0;

  async close(): Promise<void> {
    this.closed = true;
  }

  paramCount(s: Sent): number {
    return s.params && !Array.isArray(s.params) ? Object.keys(s.params).length : Array.isArray(s.params) ? s.params.length : 0;
  }

  since(i: number): Sent[] {
    return this.sent.slice(i);
  }
}

const silver: SilverTableDef = {
  name: 'contact',
  columns: [
    { name: 'id', type: 'varchar' },
    { name: 'email', type: 'varchar' },
    { name: 'modstamp', type: 'timestamp' },
  ],
  primaryKey: ['id'],
  versionColumn: 'modstamp',
};
const bronze = { name: 'contact', keyColumns: [{ name: 'id', type: 'varchar' as const }] };

async function setup(opts: Partial<DatabricksWarehouseOptions> = {}) {
  const ex = new FakeExecutor();
  const wh = new DatabricksWarehouse({ executor: ex, catalog: 'novade', stagingToken: () => 'tok', ...opts });
  await wh.ensureSchema({ silver: [silver], bronze: [bronze] });
  return { ex, wh, mark: ex.sent.length };
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `id${i}`, email: `e${i}@x.io`, modstamp: new Date(i * 1000) }));

describe('Databricks adapter statements (fake executor)', () => {
  it('sets up the schema once: layers, ops tables, the Volume, then each table', async () => {
    const { ex, wh } = await setup({ volume: 'staging' });
    const sqls = ex.sent.map((s) => s.sql);
    expect(sqls).toContain('CREATE SCHEMA IF NOT EXISTS `novade`.`ops`');
    expect(sqls).toContain('CREATE VOLUME IF NOT EXISTS `novade`.`ops`.`staging`');
    expect(sqls.filter((s) => s.startsWith('CREATE TABLE IF NOT EXISTS `novade`.`silver`.`contact`'))).toHaveLength(1);
    const before = ex.sent.length;
    await wh.ensureSchema({ silver: [silver], bronze: [bronze] });
    expect(ex.sent.length).toBe(before);
  });

  it('merges a small batch in one statement with inline VALUES', async () => {
    const { ex, wh, mark } = await setup();
    ex.answers.push({ match: /^MERGE INTO `novade`.`silver`/, rows: [{ num_inserted_rows: 2, num_updated_rows: 1 }] });
    expect(await wh.mergeSilver(silver, rows(4))).toEqual({ inserted: 2, updated: 1, unchanged: 1 });
    const sent = ex.since(mark);
    expect(sent).toHaveLength(1);
    expect(sent[0].sql).toContain('FROM (SELECT * FROM VALUES (CAST(:p0 AS STRING)');
    expect(ex.paramCount(sent[0])).toBe(4 * 5 + 1);
  });

  it('stages a larger batch in INSERT chunks of at most 256 parameters, then merges only a complete staging table', async () => {
    const { ex, wh, mark } = await setup();
    await wh.mergeSilver(silver, rows(300));
    const sent = ex.since(mark);
    const stg = '`novade`.`ops`.`_stg_silver_contact_tok`';
    expect(sent[0].sql).toBe(`CREATE TABLE IF NOT EXISTS ${stg} (\`id\` STRING NOT NULL, \`email\` STRING, \`modstamp\` TIMESTAMP, \`_deleted\` BOOLEAN NOT NULL, \`_ord\` BIGINT NOT NULL) USING DELTA`);
    const inserts = sent.filter((s) => s.sql.startsWith(`INSERT INTO ${stg}`));
    expect(inserts.length).toBe(Math.ceil(300 / Math.floor(256 / 5)));
    for (const s of sent) expect(ex.paramCount(s)).toBeLessThanOrEqual(256);
    const merge = sent.find((s) => s.sql.startsWith('MERGE INTO'))!;
    expect(merge.sql).toContain(`FROM (SELECT * FROM ${stg} WHERE (SELECT COUNT(DISTINCT \`_ord\`) FROM ${stg}) = 300) AS src`);
    expect(sent.at(-1)?.sql).toBe(`DROP TABLE IF EXISTS ${stg}`);
  });

  it('leaves no merge behind when a staging INSERT fails, and still drops the staging table', async () => {
    const { ex, wh, mark } = await setup();
    ex.failOn = { match: /^INSERT INTO/, after: 2, error: new TransientError('HTTP 503') };
    await expect(wh.mergeSilver(silver, rows(300))).rejects.toThrow('HTTP 503');
    const sent = ex.since(mark);
    expect(sent.some((s) => s.sql.startsWith('MERGE'))).toBe(false);
    expect(sent.at(-1)?.sql).toMatch(/^DROP TABLE IF EXISTS `novade`.`ops`.`_stg_silver_contact_tok`/);
  });

  it('refuses to merge from a staging table another attempt emptied', async () => {
    const { ex, wh, mark } = await setup();
    ex.stagedShortBy = 7;
    await expect(wh.mergeSilver(silver, rows(300))).rejects.toThrow(TransientError);
    expect(ex.since(mark).some((s) => s.sql.startsWith('MERGE'))).toBe(false);
  });

  it('checks the batch ledger before loading bronze, and records the batch after its rows', async () => {
    const { ex, wh, mark } = await setup();
    ex.answers.push({ match: /^MERGE INTO `novade`.`bronze`/, rows: [{ num_inserted_rows: 3 }] });
    expect(await wh.appendBronze(bronze, { batchId: 'b1', records: rows(3).map((r) => ({ keys: { id: r.id }, payload: r })) })).toEqual({ inserted: 3, alreadyLoaded: false });
    const sent = ex.since(mark).map((s) => s.sql);
    expect(sent[0]).toMatch(/^SELECT .* FROM `novade`.`ops`.`bronze_batches` WHERE `table_name` = CAST\(:p0 AS STRING\) AND `batch_id` = CAST\(:p1 AS STRING\)/);
    expect(sent[1]).toMatch(/^MERGE INTO `novade`.`bronze`.`contact`/);
    expect(sent[2]).toMatch(/^MERGE INTO `novade`.`ops`.`bronze_batches`/);

    ex.answers.unshift({ match: /FROM `novade`.`ops`.`bronze_batches`/, rows: [{ batch_id: 'b1' }] });
    const again = ex.sent.length;
    expect(await wh.appendBronze(bronze, { batchId: 'b1', records: [] })).toEqual({ inserted: 0, alreadyLoaded: true });
    expect(ex.sent.length).toBe(again + 1);
  });

  it('recognises a batch whose rows are in bronze but whose ledger entry was lost', async () => {
    const { ex, wh } = await setup();
    ex.answers.push({ match: /^MERGE INTO `novade`.`bronze`/, rows: [{ num_inserted_rows: 0 }] });
    expect(await wh.appendBronze(bronze, { batchId: 'b2', records: [{ keys: { id: 'x' }, payload: {} }] })).toEqual({ inserted: 0, alreadyLoaded: true });
  });

  it('stages big batches through the Volume: PUT, COPY INTO, MERGE, then REMOVE and DROP', async () => {
    const { ex, wh, mark } = await setup({ volume: 'staging', volumeAboveRows: 100 });
    ex.copyRows = 150;
    await wh.mergeSilver(silver, rows(150));
    const sent = ex.since(mark);
    const kinds = sent.map((s) => s.sql.split(' ')[0]);
    expect(kinds).toEqual(['CREATE', 'PUT', 'COPY', 'SELECT', 'MERGE', 'DROP', 'REMOVE']);
    const put = sent[1];
    expect(put.sql).toMatch(/^PUT '.*\/_stg_silver_contact_tok\.json' INTO '\/Volumes\/novade\/ops\/staging\/novade-staging\/_stg_silver_contact_tok\.json' OVERWRITE$/);
    expect(put.opts?.stagingAllowedLocalPath).toBeDefined();
    expect(sent[6].opts?.stagingAllowedLocalPath).toBe(put.opts?.stagingAllowedLocalPath);
    const lines = ex.putFiles[0].trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(lines).toHaveLength(150);
    expect(lines[1]).toEqual({ id: 'id1', email: 'e1@x.io', modstamp: '1970-01-01T00:00:01.000Z', _deleted: 'false', _ord: '1' });
    expect(fs.existsSync(put.opts!.stagingAllowedLocalPath!)).toBe(false);
  });

  it('validates rows before sending anything', async () => {
    const { ex, wh, mark } = await setup();
    await expect(wh.mergeSilver(silver, [{ id: null, modstamp: new Date() }])).rejects.toThrow(/Row 0: column "id" must not be null/);
    await expect(wh.mergeSilver(silver, [{ id: 'a', modstamp: 'nope' }])).rejects.toThrow(PermanentError);
    expect(await wh.mergeSilver(silver, [])).toEqual({ inserted: 0, updated: 0, unchanged: 0 });
    expect(ex.since(mark)).toHaveLength(0);
  });

  it('looks silver rows up in chunks of at most 256 keys and decodes them', async () => {
    const { ex, wh, mark } = await setup();
    ex.answers.push({ match: /^SELECT .* FROM `novade`.`silver`.`contact` WHERE/, rows: [{ id: 'a', email: null, modstamp: '2024-01-01 00:00:00', _deleted: false, _merged_at: new Date(0) }] });
    const found = await wh.lookupSilver(silver, Array.from({ length: 600 }, (_, i) => `k${i}`));
    expect(ex.since(mark)).toHaveLength(3);
    expect(found[0]).toEqual({ id: 'a', email: null, modstamp: new Date('2024-01-01T00:00:00Z'), _deleted: false, _merged_at: new Date(0) });
  });

  it('writes dead letters and check results idempotently, staged when many', async () => {
    const { ex, wh, mark } = await setup();
    ex.answers.push({ match: /^MERGE INTO `novade`.`ops`.`dead_letters`/, rows: [{ num_inserted_rows: 40 }] });
    const letters = Array.from({ length: 40 }, (_, i) => ({ flow: 'f', stream: 's', recordKey: `k${i}`, reason: 'bad', payload: { i } }));
    expect(await wh.writeDeadLetters(letters)).toBe(40);
    const sent = ex.since(mark);
    expect(sent.some((s) => s.sql.startsWith('INSERT INTO `novade`.`ops`.`_stg_dead_letters_tok`'))).toBe(true);
    expect(sent.find((s) => s.sql.startsWith('MERGE'))?.sql).toContain('WHEN NOT MATCHED THEN INSERT');
    await wh.recordChecks([{ check: 'freshness', table: 'silver.contact', passed: true, observed: 3, checkedAt: new Date(0) }]);
    expect(ex.sent.at(-1)?.sql).toMatch(/^MERGE INTO `novade`.`ops`.`check_results`/);
  });

  it('reads ops state and passes ad hoc parameters positionally', async () => {
    const { ex, wh } = await setup();
    ex.answers.push({ match: /FROM `novade`.`ops`.`sync_state`/, rows: [{ stream: 's', cursor: '{"a":1}' }] });
    ex.answers.push({ match: /^SELECT COUNT\(\*\) AS n FROM `novade`.`ops`.`dead_letters`/, rows: [{ n: 5 }] });
    ex.answers.push({ match: /FROM `novade`.`ops`.`sync_runs`/, rows: [] });
    ex.answers.push({ match: /^SELECT \?/, rows: [{ a: 1n, b: 'x' }] });
    expect(await wh.getSyncState('s')).toEqual({ a: 1 });
    expect(await wh.countDeadLetters({ flow: 'f' })).toBe(5);
    expect(await wh.listRuns({ limit: 5 })).toEqual([]);
    expect(ex.sent.at(-1)?.sql).toMatch(/ORDER BY `started_at` DESC, `run_id` LIMIT 5$/);
    expect(await wh.query('SELECT ? AS a, ? AS b', [new Date(0), 2n])).toEqual([{ a: 1, b: 'x' }]);
    expect(ex.sent.at(-1)?.params).toEqual(['1970-01-01T00:00:00.000Z', '2']);
    await wh.setSyncState('s', [1]);
    await wh.recordRun({ runId: 'r', flow: 'f', stream: 's', startedAt: new Date(0), status: 'running', read: 0, written: 0, sent: 0, rejected: 0 });
    await wh.close();
    await wh.close();
    expect(ex.closed).toBe(true);
    await expect(wh.getSyncState('s')).rejects.toThrow(/closed/);
  });

  it('runs checks with SHOW TABLES and DESCRIBE', async () => {
    const { ex, wh } = await setup();
    ex.answers.push({ match: /^SHOW TABLES IN `novade`.`silver` LIKE 'contact'/, rows: [{ tableName: 'contact' }] });
    ex.answers.push({ match: /^SHOW TABLES IN `novade`.`bronze` LIKE 'contact'/, rows: [{ tableName: 'contact' }] });
    ex.answers.push({ match: /^DESCRIBE TABLE `novade`.`bronze`.`contact`/, rows: [{ col_name: 'id' }, { col_name: '_payload' }] });
    ex.answers.push({ match: /^SELECT \(SELECT COUNT/, rows: [{ duplicate_keys: 0, null_keys: 0, newest: null, missing_in_silver: 2, bronze_null_keys: 0 }] });
    const results = await wh.runChecks([silver]);
    expect(results.find((r) => r.check === 'bronze_silver_reconciliation')).toMatchObject({ passed: false, observed: 2 });
    expect(results.find((r) => r.check === 'freshness')).toMatchObject({ passed: true, observed: -1 });
  });

  it('retries schema setup after a failure instead of remembering it', async () => {
    const ex = new FakeExecutor();
    ex.failOn = { match: /^CREATE SCHEMA/, after: 0, error: new Error('warehouse starting') };
    const wh = new DatabricksWarehouse({ executor: ex, catalog: 'novade' });
    await expect(wh.ensureSchema()).rejects.toThrow('warehouse starting');
    ex.failOn = undefined;
    await wh.ensureSchema();
    expect(wh.dialect.name).toBe('databricks');
  });
});
