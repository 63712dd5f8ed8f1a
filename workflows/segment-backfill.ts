import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration, RetryPolicy } from '@temporalio/common';
import type { BackfillActivities } from '../activities/backfill-types';
import type { BackfillStepResult } from '../ports/backfill-step';
import { backfillRange, firstCursor, fractionDone, windowOf } from '../ports/backfill-cursor';
import { MAX_PARALLEL, type BackfillCarry, type BackfillInput, type BackfillProgress, type BackfillSummary, type ResumeArgs } from '../ports/backfill';
import {
  DEFAULTS,
  absorbStep,
  cancelSignal,
  failureText,
  pageSizeFor,
  pauseSignal,
  progressQuery,
  resumeSignal,
  retryText,
  setRateUpdate,
  validRate,
  validTables,
  zeroTotals,
} from './segment-backfill-common';
import { segmentBackfillLanes } from './segment-backfill-lanes';

export { progressQuery, pauseSignal, resumeSignal, cancelSignal, setRateUpdate };

/** Steps that end early on a failure after progress, then wait for the Retry-After (if any) before the next step. */
export const STEP_INTERRUPTIONS_PATCH = 'backfill-step-interruptions';

/**
 * The Segment backfill: walks [from, to] in windows and, in each window, each table with keyset
 * pages; each activity is a step of a few pages whose cursor advances only once Amplitude and the
 * warehouse acknowledged them. Between steps it honours pause, resume, cancel and rate changes;
 * while paused it runs nothing (no worker slot is held). The history stays small: state carried
 * across continue-as-new is the cursor and the totals.
 */
export async function segmentBackfillWorkflow(input: BackfillInput): Promise<BackfillSummary> {
  const range = backfillRange(input.from, input.to);
  if (typeof range === 'string') throw ApplicationFailure.nonRetryable(range, 'InvalidRequest');
  const problem = validTables(input.tables) ?? validRate(input.rate);
  if (problem) throw ApplicationFailure.nonRetryable(problem, 'InvalidRequest');
  const parallel = input.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > MAX_PARALLEL)
    throw ApplicationFailure.nonRetryable(`parallel ${JSON.stringify(input.parallel)} is not valid: give a whole number of windows from 1 to ${MAX_PARALLEL}`, 'InvalidRequest');
  // Several windows at once: lanes sharing the rate and the per-id throughput (segment-backfill-lanes.ts).
  if (parallel > 1) return segmentBackfillLanes(input, range);
  const opts = { ...DEFAULTS, ...input.options };
  const dryRun = input.dryRun === true;

  const { backfillStep } = proxyActivities<BackfillActivities>({
    startToCloseTimeout: (input.options?.activity?.startToCloseTimeout ?? '15 minutes') as Duration,
    heartbeatTimeout: (input.options?.activity?.heartbeatTimeout ?? '1 minute') as Duration,
    retry: {
      // Only attempts that move nothing come here: a step that made progress before a failure ends
      // successfully (its result says what failed) and the next step starts after the Retry-After.
      initialInterval: '2 seconds',
      backoffCoefficient: 2,
      maximumInterval: '2 minutes',
      // About an hour of retries without progress; after that the backfill pauses itself with the error for the operator.
      maximumAttempts: 40,
      nonRetryableErrorTypes: ['ConfigError', 'AuthError', 'PermissionError', 'InvalidRequest', 'DedupWindowExpired'],
      ...(input.options?.activity?.retry as RetryPolicy | undefined),
    },
  });

  const carry: BackfillCarry = input.carry ?? {
    cursor: firstCursor(range),
    totals: zeroTotals(),
    perEventType: {},
    rejectedByReason: {},
    rejectedSamples: [],
    paused: false,
    rate: input.rate ?? null,
    lastError: null,
    cursorFirstAttemptAt: null,
    generation: 0,
    startedAt: new Date(Date.now()).toISOString(),
  };
  let cancelRequested = false;
  let inFlight = false;
  let completed = false;
  let allowLateResend = false;

  // Wall-clock time spent running (not paused), retry waits included: what the rate and ETA are over.
  carry.wallMs ??= carry.totals.activeMs;
  let runningSince: number | null = null;
  const startClock = () => {
    runningSince ??= Date.now();
  };
  const stopClock = () => {
    if (runningSince === null) return;
    carry.wallMs = (carry.wallMs ?? 0) + Math.max(0, Date.now() - runningSince);
    runningSince = null;
  };
  const wallMsNow = () => (carry.wallMs ?? 0) + (runningSince === null ? 0 : Math.max(0, Date.now() - runningSince));

  const progress = (): BackfillProgress => {
    const fraction = fractionDone(carry.cursor, range, input.tables.length, opts.windowHours);
    const activeS = carry.totals.activeMs / 1000;
    const wallS = wallMsNow() / 1000;
    return {
      ...carry.totals,
      state: completed ? 'completed' : cancelRequested ? 'cancelling' : carry.paused && !inFlight ? 'paused' : 'running',
      outcome: completed ? (carry.cursor ? 'cancelled' : 'finished') : undefined,
      window: carry.cursor ? windowOf(carry.cursor, range, opts.windowHours) : null,
      table: carry.cursor ? input.tables[carry.cursor.table] : null,
      from: input.from,
      to: input.to,
      tables: input.tables,
      dryRun,
      ratePerSec: wallS > 0 ? Math.round((carry.totals.rowsRead / wallS) * 10) / 10 : 0,
      activeRatePerSec: activeS > 0 ? Math.round((carry.totals.rowsRead / activeS) * 10) / 10 : 0,
      wallMs: carry.wallMs ?? 0,
      runningSince: runningSince === null ? null : new Date(runningSince).toISOString(),
      windowHours: opts.windowHours,
      retry: carry.retry ?? null,
      rateLimit: carry.rate,
      etaSeconds: fraction >= 1 ? 0 : fraction > 0 && wallS > 0 ? Math.round((wallS * (1 - fraction)) / fraction) : null,
      fraction,
      pauseRequested: carry.paused && inFlight,
      lastError: carry.lastError,
      cursor: carry.cursor,
      perEventType: carry.perEventType,
      rejectedByReason: carry.rejectedByReason,
      rejectedSamples: carry.rejectedSamples,
      generation: carry.generation,
    };
  };

  setHandler(progressQuery, progress);
  setHandler(pauseSignal, () => {
    carry.paused = true;
    showDetails();
  });
  setHandler(resumeSignal, (args?: ResumeArgs) => {
    carry.paused = false;
    carry.lastError = null;
    allowLateResend = args?.allowLateResend === true;
    showDetails();
  });
  setHandler(cancelSignal, () => {
    cancelRequested = true;
    showDetails();
  });
  setHandler(
    setRateUpdate,
    (rate) => {
      carry.rate = rate ?? null;
      showDetails();
      return carry.rate;
    },
    {
      validator: (rate) => {
        const why = validRate(rate);
        if (why) throw new Error(why);
      },
    },
  );

  function showDetails(): void {
    const p = progress();
    setCurrentDetails(
      [
        `**Segment backfill** ${p.from} → ${p.to} (${p.tables.join(', ')})${p.dryRun ? ' — dry run' : ''}`,
        '',
        `| state | window | table | done | rows read | sent | written | rejected | rows/s | rate limit | ETA |`,
        `|---|---|---|---|---|---|---|---|---|---|---|`,
        `| ${p.state}${p.lastError ? ' (error)' : ''} | ${p.window ? `${p.window.start} → ${p.window.end}` : '-'} | ${p.table ?? '-'} | ${(p.fraction * 100).toFixed(1)} % | ${p.rowsRead} | ${p.sent} | ${p.written} | ${p.rejected} | ${p.ratePerSec} | ${p.rateLimit ?? 'none'} | ${p.etaSeconds === null ? '-' : `${p.etaSeconds} s`} |`,
        ...(p.lastError ? ['', `Paused after an error: ${p.lastError}`, '', 'Fix the cause, then `npx novade backfill resume`.'] : []),
        ...(p.retry && !p.lastError ? ['', retryText(p.retry)] : []),
      ].join('\n'),
    );
  }

  const absorb = (r: BackfillStepResult) => absorbStep(carry, r);

  const { recordBackfillRun } = proxyActivities<BackfillActivities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 },
  });
  // The audit row in ops.sync_runs (DESIGN.md: every run is recorded); a dry run writes nothing.
  // Patched: backfills started before this records existed replay without these activities.
  const recordRun = async (status: 'running' | 'succeeded' | 'stopped'): Promise<void> => {
    if (dryRun || !patched('backfill-sync-runs')) return;
    try {
      await recordBackfillRun({
        runId: workflowInfo().workflowId,
        startedAt: carry.startedAt ?? new Date(workflowInfo().runStartTime).toISOString(),
        finishedAt: status === 'running' ? undefined : new Date(Date.now()).toISOString(),
        status,
        totals: carry.totals,
        cursorAfter: carry.cursor,
        error: carry.lastError ?? undefined,
      });
    } catch (err) {
      // The audit row is not worth holding the backfill for; its progress query stays the truth.
      if (isCancellation(err)) throw err;
      log.warn('could not record the backfill run in ops.sync_runs', { error: failureText(err) });
    }
  };

  showDetails();
  if (!input.carry) await recordRun('running');
  let steps = 0;
  while (carry.cursor && !cancelRequested) {
    if (carry.paused) {
      stopClock();
      await condition(() => !carry.paused || cancelRequested);
      continue;
    }
    if (steps >= opts.stepsPerRun || workflowInfo().continueAsNewSuggested) break;
    startClock();
    carry.cursorFirstAttemptAt ??= Date.now();
    inFlight = true;
    let failed = false;
    try {
      const result = await backfillStep({
        runId: workflowInfo().workflowId,
        tables: input.tables,
        range: { startMs: range.startMs, endMs: range.endMs },
        windowHours: opts.windowHours,
        pageSize: pageSizeFor(opts.pageSize, carry.rate, opts.stepBudgetMs),
        pagesPerStep: opts.pagesPerStep,
        stepBudgetMs: opts.stepBudgetMs,
        cursor: carry.cursor,
        dryRun,
        rate: carry.rate,
        firstAttemptAt: carry.cursorFirstAttemptAt,
        allowLateResend,
      });
      absorb(result);
      carry.cursor = result.cursor;
      carry.cursorFirstAttemptAt = null;
      allowLateResend = false;
      const cut = result.interruption;
      if (cut && patched(STEP_INTERRUPTIONS_PATCH)) {
        // Honour the wait the destination asked for, counted from the failure; none asked: go on at once.
        const asked = Math.max(0, cut.retryAfterMs ?? 0);
        const waitMs = Math.min(asked, Math.max(0, Date.parse(cut.at) + asked - Date.now()));
        carry.retry = {
          attempt: 1,
          interruptedSteps: (carry.retry?.interruptedSteps ?? 0) + 1,
          errorKind: cut.kind,
          lastError: cut.message,
          retryAfterSeconds: cut.retryAfterMs === undefined ? null : Math.round(cut.retryAfterMs / 100) / 10,
          failedAt: cut.at,
          nextTryAt: new Date(Date.now() + waitMs).toISOString(),
          progressing: true,
        };
        log.info('backfill step ended early on a failure after progress', { kind: cut.kind, error: cut.message, waitMs, cursor: carry.cursor });
        if (waitMs > 0) {
          inFlight = false;
          showDetails();
          await condition(() => carry.paused || cancelRequested, waitMs);
        }
        carry.retry = { ...carry.retry, nextTryAt: null };
      } else carry.retry = null;
    } catch (err) {
      // A cancellation through Temporal itself (not our cancel signal) ends the run as Temporal asks.
      if (isCancellation(err)) throw err;
      // Out of retries or a mistake only a person can fix: hold the cursor and wait for them.
      carry.paused = true;
      carry.lastError = failureText(err);
      carry.retry = null;
      log.warn('backfill paused after a failed step', { error: carry.lastError, cursor: carry.cursor });
      failed = true;
    } finally {
      inFlight = false;
    }
    if (failed) await recordRun('running');
    steps++;
    showDetails();
  }

  stopClock();
  if (carry.cursor && !cancelRequested) {
    await recordRun('running');
    await condition(allHandlersFinished);
    return continueAsNew<typeof segmentBackfillWorkflow>({ ...input, carry: { ...carry, generation: carry.generation + 1 } });
  }
  completed = true;
  showDetails();
  await recordRun(carry.cursor ? 'stopped' : 'succeeded');
  await condition(allHandlersFinished);
  const p = progress();
  return { outcome: p.outcome ?? 'finished', progress: p };
}
