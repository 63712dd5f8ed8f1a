import type { SilverTableDef, Warehouse } from '../../connectors/warehouse/types';
import type { AmplitudeEmulator } from '../../sandbox/amplitude';
import { formatTable } from '../cli-context';

/**
 * The demo's verdict, one row per flow: what the source holds, what reached silver and Amplitude,
 * what was rejected, and whether anything arrived twice. Counts come from the emulators' own state
 * and from the warehouse, never from the flows' summaries alone.
 */
export interface Reconciliation {
  flow: string;
  /** Distinct records at the source (the emulator's state). */
  source: number;
  /** Current (not deleted) rows in silver. */
  silver: number;
  /** Events Amplitude holds for this flow; null for flows that do not send to Amplitude. */
  amplitude: number | null;
  /** Events the flow reported as acknowledged by Amplitude. */
  sent: number | null;
  /** Calls Segment holds (received by its API and loaded into its BigQuery warehouse); absent or null for flows that do not forward to Segment. */
  segment?: number | null;
  deadLetters: number;
  /** Keys present more than once in silver plus insert_ids Amplitude holds more than once. */
  duplicates: number;
  problems: string[];
}

/** The organize run that closes the demo: catch-up merges and the data-quality checks. */
export interface OrganizeReport {
  /** Bronze rows organize had to merge into silver (0 when the flows merged as they went). */
  merged: number;
  checks: number;
  /** `check on table: detail` of each failed check. */
  failed: string[];
}

export interface DemoReport {
  ok: boolean;
  seconds: number;
  uiUrl: string;
  flows: Reconciliation[];
  organize?: OrganizeReport;
}

/** Problems of a row: silver must equal the source, Amplitude what was sent, nothing twice. */
export function judge(r: Omit<Reconciliation, 'problems'>, extra: string[] = []): Reconciliation {
  const problems = [...extra];
  if (r.silver !== r.source) problems.push(`silver has ${r.silver} rows, the source ${r.source}`);
  if (r.amplitude !== null && r.sent !== null && r.amplitude !== r.sent)
    problems.push(`Amplitude holds ${r.amplitude} events, the flow reported ${r.sent} sent`);
  if (r.segment !== undefined && r.segment !== null && r.segment !== r.source) problems.push(`Segment holds ${r.segment} calls, the source ${r.source}`);
  if (r.duplicates > 0) problems.push(`${r.duplicates} duplicates`);
  return { ...r, problems };
}

export function formatReport(report: DemoReport): string {
  const n = (v: number | null) => (v === null ? '-' : String(v));
  const table = formatTable(
    ['flow', 'source', 'silver', 'amplitude', 'sent', 'segment', 'dead letters', 'duplicates', 'result'],
    report.flows.map((f) => [f.flow, n(f.source), n(f.silver), n(f.amplitude), n(f.sent), n(f.segment ?? null), n(f.deadLetters), n(f.duplicates), f.problems.length === 0 ? 'ok' : f.problems.join('; ')]),
  );
  const o = report.organize;
  const checks = o
    ? `\nOrganize: ${o.merged} bronze rows caught up; ${o.checks} data-quality checks, ${o.failed.length === 0 ? 'all passed' : `${o.failed.length} failed: ${o.failed.join('; ')}`}.`
    : '';
  const verdict = report.ok ? 'Everything reconciles.' : 'Some flows do not reconcile: see the result column.';
  return `${table}\n${checks}\n${verdict} (${report.seconds.toFixed(1)} s)`;
}

/** Current rows of a silver table and how many keys it holds more than once. */
export async function silverStats(warehouse: Warehouse, def: SilverTableDef): Promise<{ rows: number; duplicates: number }> {
  const key = def.primaryKey.map((k) => `"${k}"`).join(', ');
  const [r] = await warehouse.query<{ rows: number | bigint; keys: number | bigint; total: number | bigint }>(
    `SELECT count(*) FILTER (WHERE NOT _deleted) AS rows, count(DISTINCT (${key})) AS keys, count(*) AS total FROM silver."${def.name}"`,
  );
  return { rows: Number(r?.rows ?? 0), duplicates: Number(r?.total ?? 0) - Number(r?.keys ?? 0) };
}

/** Events Amplitude holds whose insert_id starts with `prefix`, and insert_ids it holds twice. */
export function amplitudeStats(amp: AmplitudeEmulator, prefix: string): { events: number; duplicates: number } {
  const seen = new Map<string, number>();
  for (const e of amp.store.list()) {
    if (e.insertId === undefined || !e.insertId.startsWith(prefix)) continue;
    seen.set(e.insertId, (seen.get(e.insertId) ?? 0) + 1);
  }
  let events = 0;
  let duplicates = 0;
  for (const c of seen.values()) {
    events += c;
    duplicates += c - 1;
  }
  return { events, duplicates };
}
