import { PermanentError } from '../../lib/errors';
import type { Dialect, RawRow, Statement } from './dialect';
import { ALERT_STATE, DEAD_LETTERS, TRACKING_VIOLATIONS } from './ops-tables';
import { Params, selectWhereSql, upsertRowSql } from './sql';
import { SYS, bronzeTable, silverTable } from './table-defs';
import type { AlertState, BronzeTableDef, SilverTableDef, TrackingViolationSummary, UnmergedBronze } from './types';
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

/**
 * Bronze rows of the next `keys` keys without a silver row, keyset-paged on the key: a page holds
 * every version of its keys.
 */
export function unmergedBronzeSql(d: Dialect, bronze: BronzeTableDef, silver: SilverTableDef, afterKey: string | undefined, keys: number): Statement {
  const q = d.quote;
  const b = bronzeTable(bronze);
  silverTable(silver);
  if (silver.primaryKey.length !== 1) throw new PermanentError('InvalidRequest', `Organize needs a single-column key; silver.${silver.name} has ${silver.primaryKey.join(', ')}.`);
  const k = q(silver.primaryKey[0]);
  const type = silver.columns.find((c) => c.name === silver.primaryKey[0])!.type;
  const typed = `CAST(b.${k} AS ${d.type(type)})`;
  const p = new Params(d);
  const conds = [`b.${k} IS NOT NULL`, `NOT EXISTS (SELECT 1 FROM ${d.table('silver', silver.name)} AS s WHERE s.${k} = ${typed})`];
  if (afterKey !== undefined) conds.push(`${typed} > ${p.cast(type, afterKey)}`);
  const n = Math.max(1, Math.floor(keys));
  const bronzeName = d.table('bronze', b.name);
  return p.statement(
    `SELECT CAST(r.${q(SYS.payload)} AS ${d.type('varchar')}) AS ${q('payload')}, CAST(pk.${q('k')} AS ${d.type('varchar')}) AS ${q('key')} ` +
      `FROM (SELECT DISTINCT ${typed} AS ${q('k')} FROM ${bronzeName} AS b WHERE ${conds.join(' AND ')} ORDER BY ${q('k')} LIMIT ${n}) AS pk ` +
      `JOIN ${bronzeName} AS r ON CAST(r.${k} AS ${d.type(type)}) = pk.${q('k')} ` +
      `ORDER BY pk.${q('k')}, r.${q(SYS.batchId)}, r.${q(SYS.row)}`,
  );
}

export async function unmergedBronze(t: OpsTarget, bronze: BronzeTableDef, silver: SilverTableDef, opts: { afterKey?: string; keys: number }): Promise<UnmergedBronze[]> {
  const rows = await t.read(unmergedBronzeSql(t.dialect, bronze, silver, opts.afterKey, opts.keys));
  return rows.map((r) => ({ key: String(r.key), payload: decodeCell('json', r.payload) }));
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

export function trackingViolationSummarySql(d: Dialect, since: Date, limit: number): Statement {
  const p = new Params(d);
  const q = d.quote;
  const n = Math.max(1, Math.min(100_000, Math.floor(limit)));
  const keys = ['event', 'call_type', 'violation_type', 'path'].map(q).join(', ');
  return p.statement(
    `SELECT ${keys}, COUNT(*) AS ${q('n')}, COUNT(DISTINCT ${q('message_id')}) AS ${q('calls')}, ` +
      `SUM(CASE WHEN ${q('outcome')} = 'blocked' THEN 1 ELSE 0 END) AS ${q('blocked')}, ` +
      `MIN(${q('received_at')}) AS ${q('first_seen')}, MAX(${q('received_at')}) AS ${q('last_seen')}, MAX(${q('sample')}) AS ${q('sample')}, MAX(${q('detail')}) AS ${q('detail')} ` +
      `FROM ${d.table('ops', TRACKING_VIOLATIONS.name)} WHERE ${q('received_at')} >= ${p.cast('timestamp', since.toISOString())} ` +
      `GROUP BY ${keys} ORDER BY ${q('n')} DESC, ${keys} LIMIT ${n}`,
  );
}

export async function summarizeTrackingViolations(t: OpsTarget, since: Date, limit = 1_000): Promise<TrackingViolationSummary[]> {
  const rows = await t.read(trackingViolationSummarySql(t.dialect, since, limit));
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return rows.map((r) => ({
    event: String(r.event),
    callType: String(r.call_type),
    type: String(r.violation_type) as TrackingViolationSummary['type'],
    path: String(r.path),
    count: Number(r.n),
    calls: Number(r.calls),
    blocked: Number(r.blocked ?? 0),
    firstSeen: decodeCell('timestamp', r.first_seen) as Date,
    lastSeen: decodeCell('timestamp', r.last_seen) as Date,
    sample: text(r.sample),
    detail: text(r.detail),
  }));
}

/** Delta's OPTIMIZE: rewrites small files into large ones (liquid clustering keeps the key order). */
export function optimizeSql(d: Dialect, layer: 'bronze' | 'silver', name: string): string {
  return `OPTIMIZE ${d.table(layer, name)}`;
}
