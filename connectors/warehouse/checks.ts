import type { Dialect, RawRow, Statement } from './dialect';
import { SYS, silverTable } from './table-defs';
import type { CheckOptions, CheckResult, SilverTableDef } from './types';
import { decodeCell } from './values';

/**
 * Data-quality checks as SQL generated from the table definitions, run the same way by both
 * adapters: one statement per silver table (plus a look at its bronze twin), four results each.
 */

export interface CheckTarget {
  dialect: Dialect;
  run(stmt: Statement): Promise<RawRow[]>;
  tableExists(layer: 'bronze' | 'silver', name: string): Promise<boolean>;
  columnsOf(layer: 'bronze' | 'silver', name: string): Promise<string[]>;
}

const plain = (sql: string): Statement => ({ sql, params: {} });

/** The statement measuring one silver table; `withBronze` when its bronze twin holds every key column. */
export function checkSql(d: Dialect, def: SilverTableDef, withBronze: boolean): string {
  const q = d.quote;
  const silver = d.table('silver', def.name);
  const pk = def.primaryKey.map(q);
  const anyNull = (alias: string) => pk.map((k) => `${alias}.${k} IS NULL`).join(' OR ');
  const parts = [
    `(SELECT COUNT(*) FROM (SELECT ${pk.join(', ')} FROM ${silver} GROUP BY ${pk.join(', ')} HAVING COUNT(*) > 1) AS d) AS duplicate_keys`,
    `(SELECT COUNT(*) FROM ${silver} AS n WHERE ${anyNull('n')}) AS null_keys`,
    `(SELECT MAX(${q(SYS.mergedAt)}) FROM ${silver}) AS newest`,
    `(SELECT COUNT(*) FROM ${silver}) AS silver_rows`,
  ];
  if (withBronze) {
    const bronze = d.table('bronze', def.name);
    const types = new Map(def.columns.map((c) => [c.name, d.type(c.type)]));
    const keyCols = def.primaryKey.map((k) => `CAST(b.${q(k)} AS ${types.get(k)}) AS ${q(k)}`).join(', ');
    const notNull = pk.map((k) => `b.${k} IS NOT NULL`).join(' AND ');
    const join = pk.map((k) => `s.${k} = bk.${k}`).join(' AND ');
    parts.push(
      `(SELECT COUNT(*) FROM (SELECT DISTINCT ${keyCols} FROM ${bronze} AS b WHERE ${notNull}) AS bk ` +
        `LEFT JOIN ${silver} AS s ON ${join} WHERE s.${pk[0]} IS NULL) AS missing_in_silver`,
      `(SELECT COUNT(*) FROM ${bronze} AS b WHERE ${anyNull('b')}) AS bronze_null_keys`,
    );
  }
  return `SELECT ${parts.join(', ')}`;
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export async function runChecks(target: CheckTarget, tables: SilverTableDef[], opts: CheckOptions = {}, now = new Date()): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const def of tables) {
    silverTable(def);
    const table = `silver.${def.name}`;
    const result = (check: CheckResult['check'], passed: boolean, observed: number, detail?: string): CheckResult =>
      detail === undefined ? { check, table, passed, observed, checkedAt: now } : { check, table, passed, observed, detail, checkedAt: now };
    if (!(await target.tableExists('silver', def.name))) {
      const detail = `${table} does not exist (run ensureSchema first)`;
      results.push(result('duplicate_keys', false, -1, detail), result('null_keys', false, -1, detail), result('bronze_silver_reconciliation', false, -1, detail), result('freshness', false, -1, detail));
      continue;
    }
    let bronzeNote: string | undefined;
    if (!(await target.tableExists('bronze', def.name))) bronzeNote = `no bronze.${def.name} table: nothing to reconcile`;
    else {
      const have = new Set((await target.columnsOf('bronze', def.name)).map((c) => c.toLowerCase()));
      const missing = def.primaryKey.filter((k) => !have.has(k.toLowerCase()));
      if (missing.length > 0) bronzeNote = `bronze.${def.name} lacks key column(s) ${missing.join(', ')}: cannot reconcile`;
    }
    const [row] = await target.run(plain(checkSql(target.dialect, def, bronzeNote === undefined)));
    const dups = num(row.duplicate_keys);
    const nulls = num(row.null_keys);
    results.push(result('duplicate_keys', dups === 0, dups, dups > 0 ? `${dups} primary key value(s) appear more than once` : undefined));
    results.push(result('null_keys', nulls === 0, nulls, nulls > 0 ? `${nulls} row(s) with a null primary key column` : undefined));
    if (bronzeNote !== undefined) results.push(result('bronze_silver_reconciliation', true, 0, bronzeNote));
    else {
      const missingKeys = num(row.missing_in_silver);
      const bronzeNulls = num(row.bronze_null_keys);
      const notes = [
        missingKeys > 0 ? `${missingKeys} bronze key(s) not in silver (check dead letters, or run organize)` : undefined,
        bronzeNulls > 0 ? `${bronzeNulls} bronze row(s) without a key` : undefined,
      ].filter((s): s is string => s !== undefined);
      results.push(result('bronze_silver_reconciliation', missingKeys === 0, missingKeys, notes.length ? notes.join('; ') : undefined));
    }
    const threshold = opts.freshnessSeconds?.[def.name];
    const newest = row.newest === null || row.newest === undefined ? undefined : (decodeCell('timestamp', row.newest) as Date);
    if (!newest) results.push(result('freshness', threshold === undefined, -1, `${table} has no rows yet`));
    else {
      const age = Math.max(0, Math.round((now.getTime() - newest.getTime()) / 1000));
      results.push(result('freshness', threshold === undefined || age <= threshold, age, threshold === undefined ? `newest row merged ${age}s ago (no threshold set)` : `newest row merged ${age}s ago, threshold ${threshold}s`));
    }
  }
  return results;
}

/** Cells of ops.check_results rows for the given results, in its column order. */
export function checkResultCells(results: CheckResult[]): (string | null)[][] {
  return results.map((r) => [r.check, r.table, r.passed ? 'true' : 'false', String(r.observed), r.detail ?? null, r.checkedAt.toISOString()]);
}
