import type { Dialect, RawRow, Statement } from './dialect';
import { ALERT_STATE, DEAD_LETTERS } from './ops-tables';
import { Params, selectWhereSql, upsertRowSql } from './sql';
import { SYS, bronzeTable, silverTable } from './table-defs';
import type { AlertState, BronzeTableDef, SilverTableDef, UnmergedBronze } from './types';
import { decodeCell } from './values';

/**
 * The statements behind the organize, retention and alert methods of both adapters, built once
 * from the dialect so that DuckDB and Databricks run the same text (as sql.ts and checks.ts do).
 */

export interface OpsTarget {
  dialect: Dialect;
  read(stmt: Statement): Promise<RawRow[]>;
  /** Runs a write; answers the rows it changed. */
  write(stmt: Statement): Promise<number>;
}

const iso = (d: Date | undefined) => (d === undefined ? null : d.toISOString());

export function alertStateCells(s: AlertState, now: Date): (string | null)[] {
  return [s.key, s.scope, s.status, s.title, s.detail ?? null, s.link ?? null, s.since.toISOString(), s.lastSeen.toISOString(), iso(s.notifiedAt), iso(s.resolvedAt), now.toISOString()];
}

export function alertStateOf(raw: RawRow): AlertState {
  const ts = (k: string) => (raw[k] === null || raw[k] === undefined ? undefined : (decodeCell('timestamp', raw[k]) as Date));
  const state: AlertState = {
    key: String(raw.alert_key),
    scope: String(raw.scope),
    status: String(raw.status) as AlertState['status'],
    title: String(raw.title),
    since: ts('since') as Date,
    lastSeen: ts('last_seen') as Date,
  };
  if (raw.detail !== null && raw.detail !== undefined) state.detail = String(raw.detail);
  if (raw.link !== null && raw.link !== undefined) state.link = String(raw.link);
  const notified = ts('notified_at');
  if (notified) state.notifiedAt = notified;
  const resolved = ts('resolved_at');
  if (resolved) state.resolvedAt = resolved;
  return state;
}

export async function listAlertStates(t: OpsTarget, scope?: string): Promise<AlertState[]> {
  const rows = await t.read(selectWhereSql(t.dialect, ALERT_STATE, scope === undefined ? {} : { scope }, ` ORDER BY ${t.dialect.quote('alert_key')}`));
  return rows.map(alertStateOf);
}

export async function saveAlertState(t: OpsTarget, state: AlertState): Promise<void> {
  await t.write(upsertRowSql(t.dialect, ALERT_STATE, alertStateCells(state, new Date())));
}

/** Bronze rows whose key has no silver row, keyset-paged on the bronze identity (_batch_id, _row). */
export function unmergedBronzeSql(d: Dialect, bronze: BronzeTableDef, silver: SilverTableDef, after: { batchId: string; row: number } | undefined, limit: number): Statement {
  const q = d.quote;
  const b = bronzeTable(bronze);
  silverTable(silver);
  const types = new Map(silver.columns.map((c) => [c.name, c.type]));
  const p = new Params(d);
  const keys = silver.primaryKey;
  const notNull = keys.map((k) => `b.${q(k)} IS NOT NULL`).join(' AND ');
  const join = keys.map((k) => `s.${q(k)} = CAST(b.${q(k)} AS ${d.type(types.get(k)!)})`).join(' AND ');
  const conds = [notNull, `NOT EXISTS (SELECT 1 FROM ${d.table('silver', silver.name)} AS s WHERE ${join})`];
  if (after) {
    const batch = p.cast('varchar', after.batchId);
    conds.push(`(b.${q(SYS.batchId)} > ${batch} OR (b.${q(SYS.batchId)} = ${batch} AND b.${q(SYS.row)} > ${p.cast('bigint', String(after.row))}))`);
  }
  const n = Math.max(1, Math.floor(limit));
  return p.statement(
    `SELECT CAST(b.${q(SYS.payload)} AS ${d.type('varchar')}) AS ${q('payload')}, b.${q(SYS.batchId)} AS ${q('batch_id')}, b.${q(SYS.row)} AS ${q('row_no')} ` +
      `FROM ${d.table('bronze', b.name)} AS b WHERE ${conds.join(' AND ')} ORDER BY b.${q(SYS.batchId)}, b.${q(SYS.row)} LIMIT ${n}`,
  );
}

export async function unmergedBronze(t: OpsTarget, bronze: BronzeTableDef, silver: SilverTableDef, opts: { after?: { batchId: string; row: number }; limit: number }): Promise<UnmergedBronze[]> {
  const rows = await t.read(unmergedBronzeSql(t.dialect, bronze, silver, opts.after, opts.limit));
  return rows.map((r) => ({ batchId: String(r.batch_id), row: Number(r.row_no), payload: decodeCell('json', r.payload) }));
}

export function purgeBronzeSql(d: Dialect, bronze: BronzeTableDef, before: Date): Statement {
  const p = new Params(d);
  return p.statement(`DELETE FROM ${d.table('bronze', bronzeTable(bronze).name)} WHERE ${d.quote(SYS.ingestedAt)} < ${p.cast('timestamp', before.toISOString())}`);
}

export function deadLettersSinceSql(d: Dialect, since: Date): Statement {
  const p = new Params(d);
  const q = d.quote;
  return p.statement(`SELECT ${q('flow')}, COUNT(*) AS ${q('n')} FROM ${d.table('ops', DEAD_LETTERS.name)} WHERE ${q('recorded_at')} >= ${p.cast('timestamp', since.toISOString())} GROUP BY ${q('flow')}`);
}

export async function countDeadLettersSince(t: OpsTarget, since: Date): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await t.read(deadLettersSinceSql(t.dialect, since))) out[String(r.flow)] = Number(r.n);
  return out;
}

/** Delta's OPTIMIZE: rewrites small files into large ones (liquid clustering keeps the key order). */
export function optimizeSql(d: Dialect, layer: 'bronze' | 'silver', name: string): string {
  return `OPTIMIZE ${d.table(layer, name)}`;
}
