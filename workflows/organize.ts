import { patched, proxyActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { ChecksResult, OpsActivities, OrganizeStreamResult, ReconcileResult } from '../activities/ops-types';
import type { DailyParityResult, RecentViolations, TrackingActivities } from '../activities/tracking-types';
import type { Problem } from '../connectors/alerts/types';
import { reconcileAlertsSafely } from './alerting';
import type { SyncActivityOverrides } from './sync-stream';

export interface OrganizeInput {
  /** Subset of the declared streams; all of them by default. */
  streams?: string[];
  /** Skip the stalled-backfill check (it lists workflows through the Temporal client). */
  skipBackfillCheck?: boolean;
  activityOverrides?: SyncActivityOverrides;
}

export interface OrganizeSummary {
  streams: OrganizeStreamResult[];
  failedStreams: { stream: string; error: string }[];
  checks: ChecksResult;
  deadLetters: Record<string, number>;
  stalledBackfills: string[];
  compacted: string[];
  /** Steps after the catch-up that failed after their retries (each is alerted). */
  failedSteps: { step: string; error: string }[];
  alerts: Record<string, ReconcileResult | undefined>;
  /** Calls off the tracking plan within TRACKING_VIOLATIONS_WINDOW, per (event, violation type). */
  trackingViolations?: RecentViolations['byEventType'];
  /** The daily dual-tracking parity check, when it was due (TRACKING_PARITY_DAILY). */
  trackingParity?: Omit<Extract<DailyParityResult, { ran: true }>, 'problems'> | Extract<DailyParityResult, { ran: false }>;
}

/** Organize runs recorded before the tracking plan's steps existed replay without them. */
export const TRACKING_STEPS_PATCH = 'organize-tracking-plan';

const DEFAULTS: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5, nonRetryableErrorTypes: ['ConfigError', 'UnknownStream'] },
};

function activities(o: SyncActivityOverrides | undefined) {
  return proxyActivities<OpsActivities & Pick<TrackingActivities, 'recentTrackingViolations' | 'dailyTrackingParity'>>({
    ...DEFAULTS,
    ...(o?.heartbeatTimeout !== undefined ? { heartbeatTimeout: o.heartbeatTimeout } : {}),
    ...(o?.startToCloseTimeout !== undefined ? { startToCloseTimeout: o.startToCloseTimeout } : {}),
    retry: { ...DEFAULTS.retry, ...o?.retry },
  });
}

const message = (err: unknown) => (err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err));

/**
 * The scheduled tidy-up of the warehouse (ORGANIZE_INTERVAL, hourly by default): merge bronze rows
 * missing in silver, run and record the data-quality checks, watch dead letters and the Segment
 * backfill, summarise the tracking plan's violations and check the dual-tracking parity once a day,
 * compact where the warehouse supports it, and alert on what is wrong (once per problem, with a
 * recovery message when it is fixed).
 */
export async function organizeWorkflow(input: OrganizeInput = {}): Promise<OrganizeSummary> {
  const acts = activities(input.activityOverrides);
  const self = { workflowId: workflowInfo().workflowId, runId: workflowInfo().runId };
  const streams = input.streams ?? (await acts.organizeTargets());
  const summary: OrganizeSummary = { streams: [], failedStreams: [], checks: { results: [], failed: [] }, deadLetters: {}, stalledBackfills: [], compacted: [], failedSteps: [], alerts: {} };

  for (const stream of streams) {
    try {
      summary.streams.push(await acts.organizeStream({ stream }));
    } catch (err) {
      summary.failedStreams.push({ stream, error: message(err) });
    }
  }

  // Each step runs even when an earlier one failed; what failed is alerted in the `organize` scope.
  const stepErrors: { step: string; error: string }[] = [];
  const step = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      stepErrors.push({ step: name, error: message(err) });
    }
  };

  // Checks run on the merged state: a key still missing after the catch-up is a real gap.
  await step('checks', async () => {
    summary.checks = await acts.runOrganizeChecks({ streams, pushed: input.streams === undefined });
    summary.alerts.checks = await reconcileAlertsSafely(
      'checks',
      summary.checks.failed.map((c): Problem => ({ key: `check:${c.check}:${c.table}`, title: `Check ${c.check} failed on ${c.table}`, detail: c.detail ?? `observed ${c.observed}`, ...self })),
      input.activityOverrides,
    );
  });

  await step('dead_letters', async () => {
    const dl = await acts.countRecentDeadLetters();
    summary.deadLetters = dl.byFlow;
    summary.alerts.dead_letters = await reconcileAlertsSafely(
      'dead_letters',
      Object.entries(dl.byFlow)
        .filter(([, n]) => n > dl.threshold)
        .map(([flow, n]): Problem => ({
          key: `dead_letters:${flow}`,
          title: `${flow}: ${n} dead letters in the last ${Math.round(dl.windowSeconds / 3600)} h (threshold ${dl.threshold})`,
          detail: `See ops.dead_letters where flow = '${flow}' for the records and reasons.`,
          ...self,
        })),
      input.activityOverrides,
    );
  });

  if (!input.skipBackfillCheck)
    await step('backfill', async () => {
      const stalled = await acts.findStalledBackfills();
      summary.stalledBackfills = stalled.map((p) => p.workflowId ?? p.key);
      summary.alerts.backfill = await reconcileAlertsSafely('backfill', stalled, input.activityOverrides);
    });

  if (patched(TRACKING_STEPS_PATCH)) {
    await step('tracking_violations', async () => {
      const recent = await acts.recentTrackingViolations();
      summary.trackingViolations = recent.byEventType;
      summary.alerts.tracking_violations = await reconcileAlertsSafely('tracking_violations', recent.problems.map((p) => ({ ...p, ...self })), input.activityOverrides);
    });
    await step('tracking_parity', async () => {
      const daily = await acts.dailyTrackingParity();
      if (!daily.ran) {
        summary.trackingParity = daily;
        return;
      }
      const { problems, ...rest } = daily;
      summary.trackingParity = rest;
      // Only a run that checked a day may say the parity recovered: the hours in between say nothing.
      summary.alerts.tracking_parity = await reconcileAlertsSafely('tracking_parity', problems.map((p) => ({ ...p, ...self })), input.activityOverrides);
    });
  }

  await step('compaction', async () => {
    summary.compacted = await acts.compactTables({ streams });
  });

  summary.alerts.organize = await reconcileAlertsSafely(
    'organize',
    [
      ...summary.failedStreams.map((f) => ({ key: `organize_failed:${f.stream}`, title: `Organize could not merge bronze into silver for ${f.stream}`, detail: f.error, ...self })),
      ...stepErrors.map((e) => ({ key: `organize_step_failed:${e.step}`, title: `Organize step ${e.step} failed`, detail: e.error, ...self })),
    ],
    input.activityOverrides,
  );
  summary.failedSteps = stepErrors;
  return summary;
}
