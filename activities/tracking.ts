import { heartbeat } from '@temporalio/activity';
import { SegmentReader } from '../connectors/bigquery/segment-reader';
import type { Problem } from '../connectors/alerts/types';
import { PermanentError } from '../lib/errors';
import { PlatformMetrics } from '../lib/metrics';
import { readDraftStats } from '../tracking/draft-read';
import { addDays, dayOf, DAY_RE, PARITY_MAX_DAYS, type ParityReport } from '../tracking/parity';
import { bigQuerySide, paritySilverTables, readParity, warehouseSides, type ParitySources } from '../tracking/parity-sources';
import type { ActivityDeps } from './deps';
import { translated } from './failures';
import type { DailyParityResult, ParityInput, RecentViolations, TrackingActivities, ViolationSummaryRow } from './tracking-types';

/** Where organize remembers the last day whose parity it checked (ops.alert_state, as a reading). */
export const PARITY_PROGRESS_KEY = 'tracking_parity:last_day';
/** A daily run that fell behind catches up at most this many days at once. */
const PARITY_CATCH_UP_DAYS = 7;

const VIOLATION_WORDS: Record<string, string> = {
  unplanned_event: 'unplanned event',
  unplanned_property: 'unplanned property',
  missing_required: 'missing required property',
  wrong_type: 'wrong type',
  value_not_allowed: 'value not allowed',
};

function checkRange(from: string, to: string, maxDays?: number): void {
  if (!DAY_RE.test(from) || !DAY_RE.test(to) || Number.isNaN(Date.parse(from)) || Number.isNaN(Date.parse(to)))
    throw new PermanentError('InvalidRequest', `--from and --to are days, YYYY-MM-DD (got ${from} and ${to}).`);
  if (from > to) throw new PermanentError('InvalidRequest', `--from ${from} is after --to ${to}.`);
  if (maxDays !== undefined && addDays(from, maxDays - 1) < to) throw new PermanentError('InvalidRequest', `one parity run covers at most ${maxDays} days; split ${from}..${to}.`);
}

export function createTrackingActivities(deps: ActivityDeps): TrackingActivities {
  const metrics = deps.metrics ?? new PlatformMetrics();
  let reader: SegmentReader | undefined;
  const sources = (): ParitySources => {
    const bq = deps.config.bigquery;
    reader ??= new SegmentReader({ projectId: bq.projectId, apiEndpoint: bq.apiEndpoint, keyFilename: bq.keyFilename, dataset: bq.dataset, log: deps.log });
    return { segment: bigQuerySide(reader), ...warehouseSides(deps.warehouse) };
  };
  const parity = async (input: ParityInput): Promise<ParityReport> => {
    checkRange(input.from, input.to, PARITY_MAX_DAYS);
    await deps.warehouse.ensureSchema({ silver: paritySilverTables() });
    return readParity(sources(), { ...input, onWindow: (from, to) => heartbeat({ from, to }) });
  };

  return {
    draftTrackingPlan: (input) =>
      translated(async () => {
        checkRange(input.from, input.to);
        return readDraftStats(deps.warehouse, { ...input, progress: (what) => heartbeat(what) });
      }),

    trackingViolations: (input) =>
      translated(async () => {
        await deps.warehouse.ensureSchema();
        const since = new Date(Date.now() - input.sinceSeconds * 1000);
        const rows = await deps.warehouse.summarizeTrackingViolations(since, { limit: input.limit });
        return { since: since.toISOString(), rows: rows.map((r): ViolationSummaryRow => ({ ...r, firstSeen: r.firstSeen.toISOString(), lastSeen: r.lastSeen.toISOString() })) };
      }),

    trackingParity: (input) => translated(() => parity(input)),

    recentTrackingViolations: () =>
      translated(async (): Promise<RecentViolations> => {
        await deps.warehouse.ensureSchema();
        const windowSeconds = deps.config.tracking.violationsWindowSeconds;
        const rows = await deps.warehouse.summarizeTrackingViolations(new Date(Date.now() - windowSeconds * 1000), { limit: 10_000 });
        const groups = new Map<string, { event: string; type: string; calls: number; blocked: number; paths: string[] }>();
        for (const r of rows) {
          const key = `${r.type}\u0000${r.event}`;
          const g = groups.get(key) ?? { event: r.event, type: r.type, calls: 0, blocked: 0, paths: [] };
          // A call with two bad paths of one type is counted twice here: calls per path are what the table knows.
          g.calls += r.calls;
          g.blocked += r.blocked;
          if (g.paths.length < 10) g.paths.push(`${r.path}${r.sample !== null ? ` (e.g. ${r.sample})` : ''}${r.detail ? `: ${r.detail}` : ''}`);
          groups.set(key, g);
        }
        metrics.trackingViolationsRecent.reset();
        const byType = new Map<string, number>();
        for (const g of groups.values()) byType.set(g.type, (byType.get(g.type) ?? 0) + g.calls);
        for (const [type, n] of byType) metrics.trackingViolationsRecent.set({ type }, n);
        const hours = Math.round(windowSeconds / 3600);
        const problems: Problem[] = [...groups.values()].map((g) => ({
          key: `tracking_violation:${g.type}:${g.event}`.slice(0, 300),
          title: `Tracking plan violated (${VIOLATION_WORDS[g.type] ?? g.type}) by ${g.event}`.slice(0, 300),
          detail: `${g.calls} call${g.calls === 1 ? '' : 's'} in the last ${hours} h${g.blocked ? `, ${g.blocked} blocked` : ''}:\n${g.paths.join('\n')}\nSee \`npx novade tracking violations\`.`.slice(0, 4000),
        }));
        return { windowSeconds, problems, byEventType: [...groups.values()].map(({ paths: _paths, ...g }) => g) };
      }),

    dailyTrackingParity: () =>
      translated(async (): Promise<DailyParityResult> => {
        const cfg = deps.config.tracking;
        if (!cfg.parityDaily) return { ran: false, reason: 'TRACKING_PARITY_DAILY is off' };
        const due = addDays(dayOf(new Date(Date.now() - cfg.paritySettleSeconds * 1000).toISOString()), -1);
        const stored = (await deps.warehouse.listAlertStates('progress')).find((s) => s.key === PARITY_PROGRESS_KEY);
        const last = stored?.detail;
        if (last !== undefined && last >= due) return { ran: false, reason: `parity up to ${last} already checked; ${addDays(last, 1)} is due after its day ends plus TRACKING_PARITY_SETTLE` };
        const earliest = addDays(due, -(PARITY_CATCH_UP_DAYS - 1));
        const from = last === undefined ? due : addDays(last, 1) < earliest ? earliest : addDays(last, 1);
        const report = await parity({ from, to: due, tolerance: cfg.parityTolerance, samples: 10 });
        const now = new Date();
        await deps.warehouse.saveAlertState({ key: PARITY_PROGRESS_KEY, scope: 'progress', status: 'observed', title: 'last day checked by the daily tracking parity', detail: due, since: now, lastSeen: now });
        metrics.trackingParityRowsOut.set(report.totals.rowsOutOfTolerance);
        const missing = { segment: report.missing.segment.count, collected: report.missing.collected.count, amplitude: report.missing.amplitude.count, extraInAmplitude: report.missing.extraInAmplitude.count };
        for (const [side, n] of Object.entries(missing)) metrics.trackingParityMissing.set({ side: side === 'extraInAmplitude' ? 'extra_in_amplitude' : side }, n);
        const out = report.rows.filter((r) => r.verdict !== 'ok');
        const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
        const problems: Problem[] =
          out.length === 0
            ? []
            : [
                {
                  key: 'tracking_parity',
                  title: `Dual tracking out of tolerance (${pct(cfg.parityTolerance)}) on ${out.length} of ${report.rows.length} rows (day, event type), ${from} to ${due}`,
                  detail: [
                    ...out.slice(0, 10).map((r) => `${r.day} ${r.eventType}: Segment ${r.segment}, novade-sync ${r.collected}, Amplitude ${r.amplitude} (difference ${pct(r.difference)})`),
                    ...Object.entries(report.missing)
                      .filter(([, m]) => m.count > 0)
                      .map(([side, m]) => `missing ${side === 'collected' ? 'in novade-sync' : side === 'extraInAmplitude' ? '(only in Amplitude)' : `in ${side}`}: ${m.count}, e.g. ${m.samples.slice(0, 5).map((s) => s.messageId).join(', ')}`),
                    `Full report: npx novade tracking parity --from ${from} --to ${due} --html parity.html`,
                  ].join('\n'),
                },
              ];
        return { ran: true, from, to: due, rowsOutOfTolerance: out.length, rows: report.rows.length, missing, problems };
      }),
  };
}
