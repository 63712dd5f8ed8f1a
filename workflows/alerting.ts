import { ActivityFailure, ChildWorkflowFailure, log, proxyActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { OpsActivities, ReconcileResult } from '../activities/ops-types';
import type { StreamRunSummary } from '../activities/sync-types';
import type { Problem } from '../connectors/alerts/types';
import type { SyncActivityOverrides } from './sync-stream';

/**
 * Alerts from workflows, through the deduplicating `reconcileAlerts` activity. A flow reports the
 * problems of a scope it owns after each run (none = healthy), so one failure alerts once and the
 * next good run sends the recovery. An alert that cannot be delivered is logged and never fails
 * the flow that raised it.
 */
const ALERT_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 6, nonRetryableErrorTypes: ['ConfigError'] },
};

export function alertActivities(overrides?: SyncActivityOverrides) {
  return proxyActivities<Pick<OpsActivities, 'reconcileAlerts'>>({
    ...ALERT_ACTIVITY,
    ...(overrides?.startToCloseTimeout !== undefined ? { startToCloseTimeout: overrides.startToCloseTimeout } : {}),
    retry: { ...ALERT_ACTIVITY.retry, ...overrides?.retry, maximumAttempts: Math.min(overrides?.retry?.maximumAttempts ?? 6, 6) },
  });
}

export async function reconcileAlertsSafely(scope: string, problems: Problem[], overrides?: SyncActivityOverrides): Promise<ReconcileResult | undefined> {
  try {
    return await alertActivities(overrides).reconcileAlerts({ scope, problems });
  } catch (err) {
    log.error('alerts could not be reconciled', { scope, problems: problems.map((p) => p.key), error: err instanceof Error ? err.message : String(err) });
    return undefined;
  }
}

/**
 * The message of what actually failed: a child workflow's failure wraps an activity failure
 * ("Activity task failed"), which wraps the connector's error with its what-to-fix message.
 */
export function rootMessage(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && (e instanceof ChildWorkflowFailure || e instanceof ActivityFailure) && e.cause instanceof Error; depth++) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/**
 * One problem per source, whatever the number of failing streams: a broken credential or an
 * outage fails every stream at once and should page once. The link is the source run, which
 * shows each stream's child run and its failure.
 */
export function syncFailureProblems(source: string, failed: { stream: string; error: string }[]): Problem[] {
  if (failed.length === 0) return [];
  const info = workflowInfo();
  return [
    {
      key: `sync_failed:${source}`,
      title: `${source} sync failed after its retries (${failed.map((f) => f.stream).join(', ')})`,
      detail: failed.map((f) => `${f.stream}: ${f.error}`).join('\n'),
      workflowId: info.workflowId,
      runId: info.runId,
    },
  ];
}

/** The Salesforce daily API allowance stop (SALESFORCE_API_USAGE_STOP_SHARE) as a problem of the source. */
export function apiUsageProblems(source: string, runs: StreamRunSummary[]): Problem[] {
  const stopped = runs.filter((r) => r.status === 'stopped' && r.apiUsage);
  if (stopped.length === 0) return [];
  const last = stopped[stopped.length - 1];
  return [
    {
      key: `api_usage:${source}`,
      title: `${source} API usage is near the org's daily limit: syncs are stopping early`,
      detail: `${stopped.map((r) => r.stream).join(', ')} stopped: ${last.stopReason ?? ''}`,
      workflowId: last.runId,
    },
  ];
}
