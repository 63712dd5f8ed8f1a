import type { Dialect, Statement } from './dialect';
import type { Layer, PhysicalColumn, PhysicalTable } from './table-defs';
import { SYS } from './table-defs';
import type { ColumnType, SilverTableDef } from './types';

/**
 * SQL text shared by both adapters. Everything here is valid on DuckDB >= 1.4 and on Databricks
 * (checked on Spark 3.5 + Delta 3.2 by the dialect tests): MERGE with explicit column lists,
 * ROW_NUMBER() rather than QUALIFY, inline VALUES tables, every parameter cast from text.
 */

/** Allocates parameter names for one statement; nulls become typed NULL literals and cost nothing. */
export class Params {
  readonly values: Record<string, string> = {};
  private next = 0;
  constructor(private readonly d: Dialect) {}

  get count(): number {
    return this.next;
  }

  cast(type: ColumnType, value: string | null): string {
    if (value === null) return `CAST(NULL AS ${this.d.type(type)})`;
    const name = `p${this.next++}`;
    this.values[name] = value;
    return `CAST(${this.d.param(name)} AS ${this.d.type(type)})`;
  }

  statement(sql: string): Statement {
    return { sql, params: this.values };
  }
}

export function createSchemaSql(d: Dialect, layer: Layer): string {
  return `CREATE SCHEMA IF NOT EXISTS ${d.schema(layer)}`;
}

export function columnDefs(d: Dialect, columns: readonly PhysicalColumn[]): string {
  return columns.map((c) => `${d.quote(c.name)} ${d.storedType(c.type)}${c.nullable ? '' : ' NOT NULL'}`).join(', ');
}

export function createTableSql(d: Dialect, t: PhysicalTable): string {
  return `CREATE TABLE IF NOT EXISTS ${d.table(t.layer, t.name)} (${columnDefs(d, t.columns)})${d.createTableTail(t)}`;
}

export function columnList(d: Dialect, columns: readonly { name: string }[], prefix = ''): string {
  return columns.map((c) => `${prefix}${d.quote(c.name)}`).join(', ');
}

/** One VALUES row: each cell cast to its column type. */
export function valuesRow(p: Params, columns: readonly PhysicalColumn[], cells: readonly (string | null)[]): string {
  return `(${columns.map((c, i) => p.cast(c.type, cells[i])).join(', ')})`;
}

/** `VALUES (...), (...) AS v(cols)`, usable after FROM on both engines. */
export function inlineTable(d: Dialect, p: Params, columns: readonly PhysicalColumn[], rows: readonly (readonly (string | null)[])[], alias = 'v'): string {
  return `VALUES ${rows.map((r) => valuesRow(p, columns, r)).join(', ')} AS ${alias}(${columnList(d, columns)})`;
}

/** Parameters one staged row costs (nulls are inlined). */
export function paramsOf(cells: readonly (string | null)[]): number {
  let n = 0;
  for (const c of cells) if (c !== null) n++;
  return n;
}

/**
 * The merge source of a silver table: the staged rows with one row per key, the highest version
 * and, among equal versions, the last given. Databricks refuses a MERGE in which several source
 * rows match one target row, and a flow's page may hold a key twice.
 */
export function dedupedSilverSource(d: Dialect, def: SilverTableDef, from: string): string {
  const q = d.quote;
  const cols = [...def.columns.map((c) => q(c.name)), q(SYS.deleted)].join(', ');
  const partition = def.primaryKey.map(q).join(', ');
  return (
    `SELECT ${cols} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${partition} ` +
    `ORDER BY ${q(def.versionColumn)} DESC NULLS LAST, ${q(SYS.ord)} DESC) AS ${q('_rn')} FROM ${from}) AS ${q('_ranked')} WHERE ${q('_rn')} = 1`
  );
}

/**
 * A re-read after a column was added (schema evolution): the same version of a row may update it
 * when it brings a value to a column silver has empty. Only these columns can trigger it.
 */
function fillCondition(d: Dialect, v: string, fill: readonly string[] | undefined): string {
  if (!fill || fill.length === 0) return '';
  const q = d.quote;
  return ` OR (s.${v} = t.${v} AND (${fill.map((c) => `(t.${q(c)} IS NULL AND s.${q(c)} IS NOT NULL)`).join(' OR ')}))`;
}

/**
 * Upsert into silver: insert new keys, update a key only when the incoming version is newer (a
 * re-delivered or out-of-order older batch changes nothing), deletes kept as the `_deleted` flag.
 */
export function silverMergeSql(d: Dialect, def: SilverTableDef, source: string, mergedAt: string, opts: { fill?: readonly string[]; refresh?: boolean } = {}): string {
  const q = d.quote;
  const target = d.table('silver', def.name);
  const v = q(def.versionColumn);
  const on = def.primaryKey.map((k) => `t.${q(k)} = s.${q(k)}`).join(' AND ');
  const nonKey = def.columns.filter((c) => !def.primaryKey.includes(c.name));
  const set = [...nonKey.map((c) => `${q(c.name)} = s.${q(c.name)}`), `${q(SYS.deleted)} = s.${q(SYS.deleted)}`, `${q(SYS.mergedAt)} = ${mergedAt}`].join(', ');
  const insertCols = [...def.columns.map((c) => q(c.name)), q(SYS.deleted), q(SYS.mergedAt)].join(', ');
  const insertVals = [...def.columns.map((c) => `s.${q(c.name)}`), `s.${q(SYS.deleted)}`, mergedAt].join(', ');
  return (
    `MERGE INTO ${target} AS t USING (${source}) AS s ON ${on} ` +
    `WHEN MATCHED AND (s.${v} > t.${v} OR (t.${v} IS NULL AND s.${v} IS NOT NULL)${opts.refresh ? ` OR s.${v} = t.${v}` : fillCondition(d, v, opts.fill)}) THEN UPDATE SET ${set} ` +
    `WHEN NOT MATCHED THEN INSERT (${insertCols}) VALUES (${insertVals})`
  );
}

/** Merge of one row given inline, keyed on `key`: the ops upserts (sync state, runs). */
export function upsertRowSql(d: Dialect, t: PhysicalTable, cells: readonly (string | null)[], opts: { keepOnMatch?: string[] } = {}): Statement {
  const p = new Params(d);
  const q = d.quote;
  const source = `SELECT * FROM ${inlineTable(d, p, t.columns, [cells])}`;
  const on = t.key.map((k) => `t.${q(k)} = s.${q(k)}`).join(' AND ');
  const keep = new Set([...t.key, ...(opts.keepOnMatch ?? [])]);
  const set = t.columns.filter((c) => !keep.has(c.name)).map((c) => `${q(c.name)} = s.${q(c.name)}`).join(', ');
  return p.statement(
    `MERGE INTO ${d.table(t.layer, t.name)} AS t USING (${source}) AS s ON ${on} ` +
      (set ? `WHEN MATCHED THEN UPDATE SET ${set} ` : '') +
      `WHEN NOT MATCHED THEN INSERT (${columnList(d, t.columns)}) VALUES (${columnList(d, t.columns, 's.')})`,
  );
}

/** Inserts the source rows whose key is not in the table yet: idempotent appends (dead letters, ledgers). */
export function insertMissingSql(d: Dialect, t: PhysicalTable, source: string): string {
  const q = d.quote;
  const on = t.key.map((k) => `t.${q(k)} = s.${q(k)}`).join(' AND ');
  return (
    `MERGE INTO ${d.table(t.layer, t.name)} AS t USING (${source}) AS s ON ${on} ` +
    `WHEN NOT MATCHED THEN INSERT (${columnList(d, t.columns)}) VALUES (${columnList(d, t.columns, 's.')})`
  );
}

/** One row per key of a staged source (a re-run statement may have staged a row twice). */
export function distinctOnKey(d: Dialect, columns: readonly PhysicalColumn[], key: readonly string[], from: string): string {
  const q = d.quote;
  return (
    `SELECT ${columnList(d, columns)} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${key.map(q).join(', ')} ORDER BY ${key.map(q).join(', ')}) AS ${q('_rn')} ` +
    `FROM ${from}) AS ${q('_k')} WHERE ${q('_rn')} = 1`
  );
}

/** Current silver rows of the given key values (single-column keys). */
export function lookupSilverSql(d: Dialect, t: PhysicalTable, keyType: ColumnType, keys: readonly string[]): Statement {
  const p = new Params(d);
  const list = keys.map((k) => p.cast(keyType, k)).join(', ');
  return p.statement(`SELECT ${columnList(d, t.columns)} FROM ${d.table('silver', t.name)} WHERE ${d.quote(t.key[0])} IN (${list})`);
}

export function selectWhereSql(d: Dialect, t: PhysicalTable, where: Record<string, string>, tail = ''): Statement {
  const p = new Params(d);
  const cond = Object.entries(where).map(([k, v]) => `${d.quote(k)} = ${p.cast(t.columns.find((c) => c.name === k)?.type ?? 'varchar', v)}`);
  return p.statement(`SELECT ${columnList(d, t.columns)} FROM ${d.table(t.layer, t.name)}${cond.length ? ` WHERE ${cond.join(' AND ')}` : ''}${tail}`);
}

export function countWhereSql(d: Dialect, t: PhysicalTable, where: Record<string, string>): Statement {
  const p = new Params(d);
  const cond = Object.entries(where).map(([k, v]) => `${d.quote(k)} = ${p.cast('varchar', v)}`);
  return p.statement(`SELECT COUNT(*) AS n FROM ${d.table(t.layer, t.name)}${cond.length ? ` WHERE ${cond.join(' AND ')}` : ''}`);
}

/**
 * Bronze load where a statement cannot be undone (Databricks): insert the staged rows of the batch
 * that are not there yet, keyed on (_batch_id, _row). Re-running it, or a retried activity
 * re-staging the same batch, adds nothing.
 */
export function bronzeMergeSql(d: Dialect, t: PhysicalTable, staged: readonly PhysicalColumn[], from: string, ingestedAt: string, batchId: string): string {
  const q = d.quote;
  const select = t.columns
    .map((c) => (c.name === SYS.ingestedAt ? `${ingestedAt} AS ${q(c.name)}` : c.name === SYS.batchId ? `${batchId} AS ${q(c.name)}` : q(c.name)))
    .join(', ');
  return (
    `MERGE INTO ${d.table('bronze', t.name)} AS t USING (SELECT ${select} FROM (${distinctOnKey(d, staged, [SYS.row], from)}) AS b) AS s ` +
    `ON t.${q(SYS.batchId)} = s.${q(SYS.batchId)} AND t.${q(SYS.row)} = s.${q(SYS.row)} AND t.${q(SYS.batchId)} = ${batchId} ` +
    `WHEN NOT MATCHED THEN INSERT (${columnList(d, t.columns)}) VALUES (${columnList(d, t.columns, 's.')})`
  );
}
