import { describe, expect, it } from 'vitest';
import { DatabricksWarehouse } from '../../connectors/warehouse/databricks/databricks-warehouse';
import type { ExecuteOptions, SqlExecutor } from '../../connectors/warehouse/databricks/sql-executor';
import { abandonedStagingTables, stagingCreatedAt, stagingTableName, stagingToken } from '../../connectors/warehouse/databricks/staging-names';
import type { RawRow } from '../../connectors/warehouse/dialect';

/** Staging tables a killed load leaves on Databricks are found by the time in their name and dropped at the next start. */

const HOUR = 3600_000;
const NOW = Date.UTC(2026, 10, 24, 12);

class ListingExecutor implements SqlExecutor {
  readonly sent: string[] = [];
  readonly options: (ExecuteOptions | undefined)[] = [];
  constructor(
    private readonly tables: string[],
    private readonly failShow = false,
    private readonly files?: string[],
  ) {}
  async execute(sql: string, _params?: unknown, opts?: ExecuteOptions): Promise<RawRow[]> {
    this.sent.push(sql);
    this.options.push(opts);
    if (sql.startsWith('SHOW TABLES')) {
      if (this.failShow) throw new Error('PERMISSION_DENIED: User does not have USE SCHEMA on Schema novade.ops');
      return this.tables.map((tableName) => ({ database: 'ops', tableName, isTemporary: false }));
    }
    if (sql.startsWith('LIST ')) {
      if (!this.files) throw new Error('[RESOURCE_DOES_NOT_EXIST] The directory does not exist');
      return this.files.map((name) => ({ path: `/Volumes/novade/ops/staging/novade-staging/${name}`, name, size: 10, modification_time: 0 }));
    }
    return [];
  }
  async close(): Promise<void> {}
}

describe('staging table names', () => {
  it('carry their creation time and a random part', () => {
    const a = stagingTableName('silver_contact', stagingToken(NOW));
    const b = stagingTableName('silver_contact', stagingToken(NOW));
    expect(a).not.toBe(b);
    expect(a).toMatch(/^_stg_silver_contact_[0-9a-z]+_[0-9a-f]{12}$/);
    expect(stagingCreatedAt(a)).toBe(NOW);
    // Databricks lists names in lower case; purposes may hold underscores and digits.
    expect(stagingCreatedAt(stagingTableName('bronze_drift_msg_2', stagingToken(NOW)).toUpperCase())).toBe(NOW);
  });

  it('only names older than the limit and carrying a time count as abandoned', () => {
    const old = stagingTableName('silver_a', stagingToken(NOW - 7 * HOUR));
    const fresh = stagingTableName('silver_a', stagingToken(NOW - HOUR));
    const names = [old, fresh, '_stg_silver_a_tok', '_stg_silver_a_fixed', '_stg_x', 'sync_state'];
    expect(abandonedStagingTables(names, NOW, 6 * HOUR)).toEqual([old]);
    expect(abandonedStagingTables(names, NOW, 30 * 60_000)).toEqual([old, fresh]);
  });
});

describe('Databricks adapter start-up sweep (fake executor)', () => {
  it('drops abandoned staging tables once, keeps live ones and foreign tables', async () => {
    const old = stagingTableName('silver_contact', stagingToken(NOW - 7 * HOUR));
    const fresh = stagingTableName('bronze_contact', stagingToken(NOW - 60_000));
    const ex = new ListingExecutor([old, fresh, '_stg_silver_contact_tok']);
    const wh = new DatabricksWarehouse({ executor: ex, catalog: 'novade', now: () => NOW });
    await wh.ensureSchema();
    await wh.ensureSchema();
    const drops = ex.sent.filter((s) => s.startsWith('DROP TABLE'));
    expect(ex.sent.filter((s) => s.startsWith('SHOW TABLES'))).toEqual(["SHOW TABLES IN `novade`.`ops` LIKE '_stg_*'"]);
    expect(drops).toEqual([`DROP TABLE IF EXISTS \`novade\`.\`ops\`.\`${old}\``]);
  });

  it('honours a shorter limit', async () => {
    const fresh = stagingTableName('bronze_contact', stagingToken(NOW - 60_000));
    const ex = new ListingExecutor([fresh]);
    await new DatabricksWarehouse({ executor: ex, catalog: 'novade', now: () => NOW, abandonedStagingAfterMs: 1000 }).ensureSchema();
    expect(ex.sent.filter((s) => s.startsWith('DROP TABLE'))).toEqual([`DROP TABLE IF EXISTS \`novade\`.\`ops\`.\`${fresh}\``]);
  });

  it('a failing sweep (missing permission) does not stop the adapter', async () => {
    const ex = new ListingExecutor([], true);
    const wh = new DatabricksWarehouse({ executor: ex, catalog: 'novade', now: () => NOW });
    await expect(wh.ensureSchema()).resolves.toBeUndefined();
    expect(ex.sent.some((s) => s.startsWith('SHOW TABLES'))).toBe(true);
  });

  it('removes staged Volume files a killed load left behind, by the time in their name', async () => {
    const old = `${stagingTableName('bronze_contact', stagingToken(NOW - 7 * HOUR))}.json`;
    const fresh = `${stagingTableName('bronze_contact', stagingToken(NOW - 60_000))}.json`;
    const ex = new ListingExecutor([], false, [old, fresh, 'notes.txt']);
    await new DatabricksWarehouse({ executor: ex, catalog: 'novade', volume: 'staging', now: () => NOW, tmpDir: '/tmp/novade-test' }).ensureSchema();
    expect(ex.sent).toContain("LIST '/Volumes/novade/ops/staging/novade-staging/'");
    const removes = ex.sent.flatMap((s, i) => (s.startsWith('REMOVE') ? [[s, ex.options[i]]] : []));
    expect(removes).toEqual([[`REMOVE '/Volumes/novade/ops/staging/novade-staging/${old}'`, { stagingAllowedLocalPath: '/tmp/novade-test' }]]);
    // LIST is a plain query: no staging option, or the driver would treat it as a file transfer.
    expect(ex.options[ex.sent.findIndex((s) => s.startsWith('LIST'))]).toBeUndefined();

    // Before any load staged a file the directory does not exist: nothing to do, no failure.
    const empty = new ListingExecutor([], false);
    await expect(new DatabricksWarehouse({ executor: empty, catalog: 'novade', volume: 'staging', now: () => NOW }).ensureSchema()).resolves.toBeUndefined();
    expect(empty.sent.some((s) => s.startsWith('REMOVE'))).toBe(false);
  });
});
