import { continueAsNew, proxyActivities, workflowInfo, ApplicationFailure, type ActivityOptions, type RetryPolicy } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { SyncActivities, StreamRunSummary } from '../activities/sync-types';
import type { Counts, SyncPageResult } from '../ports/sync-page';
import type { Cursor, ReadMode } from '../ports/source-reader';

const ACTIVITY_DEFAULTS = {
  // A Bulk API job can take minutes; heartbeats tell Temporal the activity is alive meanwhile.
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 10,
    nonRetryableErrorTypes: ['ConfigError', 'AuthError', 'UnknownStream'],
  },
} satisfies ActivityOptions;

/**
 * Overrides of the activities' timeouts and retry policy for one run. Production leaves them out;
 * tests use short intervals so that a run under injected faults finishes in seconds, through the
 * same policy mechanism rather than different code.
 */
export interface SyncActivityOverrides {
  heartbeatTimeout?: Duration;
  startToCloseTimeout?: Duration;
  retry?: Pick<RetryPolicy, 'initialInterval' | 'backoffCoefficient' | 'maximumInterval' | 'maximumAttempts'>;
}

export function activities(overrides: SyncActivityOverrides | undefined) {
  return proxyActivities<SyncActivities>({
    ...ACTIVITY_DEFAULTS,
    ...(overrides?.heartbeatTimeout !== undefined ? { heartbeatTimeout: overrides.heartbeatTimeout } : {}),
    ...(overrides?.startToCloseTimeout !== undefined ? { startToCloseTimeout: overrides.startToCloseTimeout } : {}),
    retry: { ...ACTIVITY_DEFAULTS.retry, ...overrides?.retry },
  });
}

/** State carried across continue-as-new: cursors and counts only. */
export interface SyncStreamCarry extends Counts {
  runId: string;
  startedAt: string;
  mode: ReadMode;
  cursorBefore: Cursor;
  cursor: Cursor;
  pages: number;
  apiUsage?: { used: number; limit: number };
}

export interface SyncStreamInput {
  stream: string;
  /** Ignore the stored cursor and re-read everything (idempotent: nothing is duplicated). */
  full?: boolean;
  carry?: SyncStreamCarry;
  activityOverrides?: SyncActivityOverrides;
}

/**
 * The one generic incremental sync: page through a stream from its cursor; each page is one
 * activity that reads, writes every destination and only then advances the stored cursor.
 */
export async function syncStreamWorkflow(input: SyncStreamInput): Promise<StreamRunSummary> {
  const flow = input.stream.split('_')[0];
  const { beginStreamRun, syncStreamPage, finishStreamRun } = activities(input.activityOverrides);
  let carry = input.carry;
  if (!carry) {
    const runId = workflowInfo().workflowId;
    const plan = await beginStreamRun({ stream: input.stream, runId, full: input.full ?? false });
    carry = { runId, startedAt: plan.startedAt, mode: plan.mode, cursorBefore: plan.cursor, cursor: plan.cursor, pages: 0, read: 0, written: 0, sent: 0, rejected: 0, apiCalls: 0 };
  }

  let stopReason: string | undefined;
  let failure: unknown;
  let done = false;
  try {
    while (!done && !stopReason) {
      const page: SyncPageResult = await syncStreamPage({ stream: input.stream, runId: carry.runId, cursor: carry.cursor, mode: carry.mode, page: carry.pages });
      carry = {
        ...carry,
        cursor: page.nextCursor,
        mode: page.nextMode,
        pages: carry.pages + 1,
        read: carry.read + page.read,
        written: carry.written + page.written,
        sent: carry.sent + page.sent,
        rejected: carry.rejected + page.rejected,
        apiCalls: carry.apiCalls + page.apiCalls,
        apiUsage: page.apiUsage ?? carry.apiUsage,
      };
      done = page.done;
      stopReason = page.stop;
      if (!done && !stopReason && workflowInfo().continueAsNewSuggested) break;
    }
  } catch (err) {
    failure = err;
  }
  if (!failure && !done && !stopReason) return continueAsNew<typeof syncStreamWorkflow>({ stream: input.stream, carry, activityOverrides: input.activityOverrides });

  const { runId, startedAt, cursorBefore, cursor, pages, read, written, sent, rejected, apiCalls, apiUsage } = carry;
  const summary: StreamRunSummary = {
    runId,
    flow,
    stream: input.stream,
    startedAt,
    finishedAt: new Date().toISOString(), // workflow Date is deterministic (the task's time)
    status: failure ? 'failed' : stopReason ? 'stopped' : 'succeeded',
    pages,
    read,
    written,
    sent,
    rejected,
    apiCalls,
    apiUsage,
    cursorBefore,
    cursorAfter: cursor,
    stopReason,
    error: failure ? errorMessage(failure) : undefined,
  };
  await finishStreamRun(summary);
  if (failure) throw failure;
  return summary;
}

function errorMessage(err: unknown): string {
  if (err instanceof ApplicationFailure || err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}
