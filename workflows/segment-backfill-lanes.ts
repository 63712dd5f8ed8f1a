import { allHandlersFinished, condition, continueAsNew, isCancellation, log, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Duration, RetryPolicy } from '@temporalio/common';
import type { BackfillActivities, BackfillIoActivities } from '../activities/backfill-types';
import type { BackfillStepInput, BackfillStepResult } from '../ports/backfill-step';
import { iso, windowOf, type BackfillRange } from '../ports/backfill-cursor';
import type { BackfillCarry, BackfillCursor, BackfillInput, BackfillLaneCarry, BackfillLaneProgress, BackfillProgress, BackfillSummary, ResumeArgs } from '../ports/backfill';
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
  zeroTotals,
} from './segment-backfill-common';

/**
 * A backfill with `parallel` lanes: each lane takes the next window no lane has taken, reads it to
 * its end in steps (the same step as one window at a time, its range cut to the window), and takes
 * another; so lanes stay busy however uneven the history is. Each window keeps the exactly-once rule
 * per page: its cursor moves only once Amplitude and the warehouse have the page. The operator's
 * rate and Amplitude's per-id throughput are split among the lanes that have work, so that all of
 * them together stay within them. Pause, resume, cancel and rate act on every lane; a lane whose
 * step fails for good pauses the whole backfill, the other lanes stopping after their page in flight.
 *
 * With `ioTaskQueue` (a DuckDB warehouse, one writer) a step reads and sends on any worker and leaves
 * its warehouse writes in a journal that the owner replays (`backfillStoreStep`) before the lane's
 * cursor moves.
 */
export async function segmentBackfillLanes(input: BackfillInput, range: BackfillRange): Promise<BackfillSummary> {
  const opts = { ...DEFAULTS, ...input.options };
  const dryRun = input.dryRun === true;
  const parallel = input.parallel ?? 1;
  const windowMs = opts.windowHours * 3_600_000;
  const windowsTotal = Math.max(1, Math.ceil((range.endMs - range.startMs) / windowMs));
  const runId = workflowInfo().workflowId;

  const retry: RetryPolicy = {
    // As for one window at a time: only attempts that move nothing come here; about an hour of them.
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 40,
    nonRetryableErrorTypes: ['ConfigError', 'AuthError', 'PermissionError', 'InvalidRequest', 'DedupWindowExpired'],
    ...(input.options?.activity?.retry as RetryPolicy | undefined),
  };
  const stepTimeouts = {
    startToCloseTimeout: (input.options?.activity?.startToCloseTimeout ?? '15 minutes') as Duration,
    heartbeatTimeout: (input.options?.activity?.heartbeatTimeout ?? '1 minute') as Duration,
    retry,
  };
  const { backfillStep } = proxyActivities<BackfillActivities>(stepTimeouts);
  const { backfillFetchStep } = proxyActivities<BackfillIoActivities>({ ...stepTimeouts, taskQueue: input.ioTaskQueue });
  // The store heartbeats too: an owner that dies mid-replay hands it to the next owner within the heartbeat timeout.
  const { backfillStoreStep } = proxyActivities<BackfillActivities>(stepTimeouts);
  const { recordBackfillRun } = proxyActivities<BackfillActivities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 },
  });

  const newLane = (): BackfillLaneCarry => ({ cursor: null, firstAttemptAt: null, retry: null, counts: { rowsRead: 0, sent: 0, written: 0, rejected: 0, pages: 0 }, windowsDone: 0, lastWorker: null });
  const carry: BackfillCarry = input.carry ?? {
    cursor: { windowStart: iso(range.startMs), table: 0 },
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
    wallMs: 0,
    nextWindow: iso(range.startMs),
    windowsDone: 0,
  };
  const lanes: BackfillLaneCarry[] = (carry.lanes ??= Array.from({ length: parallel }, newLane));
  carry.nextWindow ??= null;
  carry.windowsDone ??= 0;
  carry.wallMs ??= 0;

  const running = new Set<number>();
  const allowLate = new Set<number>();
  let cancelRequested = false;
  let completed = false;
  let stopping = false;
  let steps = 0;

  let runningSince: number | null = null;
  const syncClock = () => {
    const active = !completed && (!carry.paused || running.size > 0);
    if (active) runningSince ??= Date.now();
    else if (runningSince !== null) {
      carry.wallMs = (carry.wallMs ?? 0) + Math.max(0, Date.now() - runningSince);
      runningSince = null;
    }
  };
  const wallMsNow = () => (carry.wallMs ?? 0) + (runningSince === null ? 0 : Math.max(0, Date.now() - runningSince));

  /** The earliest position not yet acknowledged: what ops.sync_runs and the overall status show. */
  const overallCursor = (): BackfillCursor | null => {
    const open = lanes.map((l) => l.cursor).filter((c): c is BackfillCursor => c !== null);
    if (carry.nextWindow) open.push({ windowStart: carry.nextWindow, table: 0 });
    open.sort((a, b) => (a.windowStart === b.windowStart ? a.table - b.table : a.windowStart < b.windowStart ? -1 : 1));
    return open[0] ?? null;
  };
  const fraction = () => {
    const partial = lanes.reduce((a, l) => a + (l.cursor ? l.cursor.table / input.tables.length : 0), 0);
    return Math.min(1, ((carry.windowsDone ?? 0) + partial) / windowsTotal);
  };
  /** Lanes the rate and the per-id throughput are split among: all of them while windows are left to take, then those still reading one. */
  const sharers = () => (carry.nextWindow !== null ? parallel : Math.max(1, lanes.filter((l) => l.cursor !== null).length));

  const laneProgress = (l: BackfillLaneCarry, i: number): BackfillLaneProgress => ({
    lane: i,
    state: running.has(i) ? 'running' : l.cursor === null ? 'idle' : 'waiting',
    window: l.cursor ? windowOf(l.cursor, range, opts.windowHours) : null,
    table: l.cursor ? (input.tables[l.cursor.table] ?? null) : null,
    cursor: l.cursor,
    ...l.counts,
    windowsDone: l.windowsDone,
    lastWorker: l.lastWorker,
    retry: l.retry,
  });

  const progress = (): BackfillProgress => {
    const done = fraction();
    const cursor = completed ? carry.cursor : overallCursor();
    const activeS = carry.totals.activeMs / 1000;
    const wallS = wallMsNow() / 1000;
    return {
      ...carry.totals,
      state: completed ? 'completed' : cancelRequested ? 'cancelling' : carry.paused && running.size === 0 ? 'paused' : 'running',
      outcome: completed ? (carry.cursor ? 'cancelled' : 'finished') : undefined,
      window: cursor ? windowOf(cursor, range, opts.windowHours) : null,
      table: cursor ? (input.tables[cursor.table] ?? null) : null,
      from: input.from,
      to: input.to,
      tables: input.tables,
      dryRun,
      ratePerSec: wallS > 0 ? Math.round((carry.totals.rowsRead / wallS) * 10) / 10 : 0,
      activeRatePerSec: activeS > 0 ? Math.round((carry.totals.rowsRead / activeS) * 10) / 10 : 0,
      wallMs: carry.wallMs ?? 0,
      runningSince: runningSince === null ? null : new Date(runningSince).toISOString(),
      windowHours: opts.windowHours,
      retry: lanes.find((l) => l.retry)?.retry ?? null,
      rateLimit: carry.rate,
      etaSeconds: done >= 1 ? 0 : done > 0 && wallS > 0 ? Math.round((wallS * (1 - done)) / done) : null,
      fraction: done,
      pauseRequested: carry.paused && running.size > 0,
      lastError: carry.lastError,
      cursor,
      perEventType: carry.perEventType,
      rejectedByReason: carry.rejectedByReason,
      rejectedSamples: carry.rejectedSamples,
      generation: carry.generation,
      parallel,
      lanes: lanes.map(laneProgress),
      windowsTotal,
      windowsDone: carry.windowsDone ?? 0,
    };
  };

  function showDetails(): void {
    const p = progress();
    setCurrentDetails(
      [
        `**Segment backfill** ${p.from} → ${p.to} (${p.tables.join(', ')}), ${parallel} windows at once${p.dryRun ? ' — dry run' : ''}`,
        '',
        `| state | windows done | done | rows read | sent | written | rejected | rows/s | rate limit | ETA |`,
        `|---|---|---|---|---|---|---|---|---|---|`,
        `| ${p.state}${p.lastError ? ' (error)' : ''} | ${p.windowsDone} / ${windowsTotal} | ${(p.fraction * 100).toFixed(1)} % | ${p.rowsRead} | ${p.sent} | ${p.written} | ${p.rejected} | ${p.ratePerSec} | ${p.rateLimit ?? 'none'} | ${p.etaSeconds === null ? '-' : `${p.etaSeconds} s`} |`,
        '',
        `| lane | state | window | table | rows read | windows done | last worker |`,
        `|---|---|---|---|---|---|---|`,
        ...(p.lanes ?? []).map((l) => `| ${l.lane} | ${l.state} | ${l.window ? `${l.window.start} → ${l.window.end}` : '-'} | ${l.table ?? '-'} | ${l.rowsRead} | ${l.windowsDone} | ${l.lastWorker ?? '-'} |`),
        ...(p.lastError ? ['', `Paused after an error: ${p.lastError}`, '', 'Fix the cause, then `npx novade backfill resume`.'] : []),
        ...(p.retry && !p.lastError ? ['', retryText(p.retry)] : []),
      ].join('\n'),
    );
  }

  setHandler(progressQuery, progress);
  setHandler(pauseSignal, () => {
    carry.paused = true;
    syncClock();
    showDetails();
  });
  setHandler(resumeSignal, (args?: ResumeArgs) => {
    carry.paused = false;
    carry.lastError = null;
    allowLate.clear();
    if (args?.allowLateResend === true) lanes.forEach((_, i) => allowLate.add(i));
    syncClock();
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

  const recordRun = async (status: 'running' | 'succeeded' | 'stopped'): Promise<void> => {
    if (dryRun) return;
    try {
      await recordBackfillRun({
        runId,
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

  const takeWindow = (): string | null => {
    const start = carry.nextWindow ?? null;
    if (start === null) return null;
    const next = Date.parse(start) + windowMs;
    carry.nextWindow = next >= range.endMs ? null : iso(next);
    return start;
  };

  /** One step of a lane: read, send and write a few pages of its window; a DuckDB warehouse gets them from the journal. */
  const step = async (stepInput: BackfillStepInput): Promise<BackfillStepResult> => {
    if (!input.ioTaskQueue) return backfillStep(stepInput);
    const fetched = await backfillFetchStep(stepInput);
    if (dryRun) return fetched;
    const stored = await backfillStoreStep({ runId, journal: fetched.journal });
    // The owner's replay is the warehouse's part of the step, as the writes of a step that does it all are.
    return { ...fetched, counts: { ...fetched.counts, warehouseMs: fetched.counts.warehouseMs + stored.ms, activeMs: fetched.counts.activeMs + stored.ms } };
  };

  async function runLane(i: number): Promise<void> {
    const lane = lanes[i];
    for (;;) {
      if (cancelRequested) return;
      if (carry.paused) {
        await condition(() => !carry.paused || cancelRequested);
        continue;
      }
      if (stopping) return;
      if (!lane.cursor) {
        const start = takeWindow();
        if (start === null) return;
        lane.cursor = { windowStart: start, table: 0 };
        lane.firstAttemptAt = null;
      }
      if (steps >= opts.stepsPerRun || workflowInfo().continueAsNewSuggested) {
        stopping = true;
        return;
      }
      steps++;
      const cursor: BackfillCursor = lane.cursor;
      const windowStart = Date.parse(cursor.windowStart);
      const share = sharers();
      const rate = carry.rate === null ? null : carry.rate / share;
      lane.firstAttemptAt ??= Date.now();
      running.add(i);
      syncClock();
      try {
        const result = await step({
          runId,
          tables: input.tables,
          // The lane's range is its window: the step ends at the window's end instead of going on into the next one.
          range: { startMs: windowStart, endMs: Math.min(windowStart + windowMs, range.endMs) },
          windowHours: opts.windowHours,
          pageSize: pageSizeFor(opts.pageSize, rate, opts.stepBudgetMs),
          pagesPerStep: opts.pagesPerStep,
          stepBudgetMs: opts.stepBudgetMs,
          cursor,
          dryRun,
          rate,
          firstAttemptAt: lane.firstAttemptAt,
          allowLateResend: allowLate.has(i),
          lane: { index: i, idShare: 1 / share, idHistory: lane.idHistory ?? {} },
        });
        absorbStep(carry, result);
        for (const k of Object.keys(lane.counts) as (keyof BackfillLaneCarry['counts'])[]) lane.counts[k] += result.counts[k];
        lane.cursor = result.cursor;
        lane.firstAttemptAt = null;
        lane.idHistory = result.idHistory ?? {};
        lane.lastWorker = result.worker ?? lane.lastWorker;
        allowLate.delete(i);
        if (result.cursor === null) {
          lane.windowsDone++;
          carry.windowsDone = (carry.windowsDone ?? 0) + 1;
        }
        carry.cursor = overallCursor();
        const cut = result.interruption;
        if (cut) {
          // Honour the wait the destination asked for, counted from the failure; the other lanes go on.
          const asked = Math.max(0, cut.retryAfterMs ?? 0);
          const waitMs = Math.min(asked, Math.max(0, Date.parse(cut.at) + asked - Date.now()));
          lane.retry = {
            attempt: 1,
            interruptedSteps: (lane.retry?.interruptedSteps ?? 0) + 1,
            errorKind: cut.kind,
            lastError: cut.message,
            retryAfterSeconds: cut.retryAfterMs === undefined ? null : Math.round(cut.retryAfterMs / 100) / 10,
            failedAt: cut.at,
            nextTryAt: new Date(Date.now() + waitMs).toISOString(),
            progressing: true,
          };
          log.info('backfill lane step ended early on a failure after progress', { lane: i, kind: cut.kind, error: cut.message, waitMs, cursor: lane.cursor });
          if (waitMs > 0) {
            running.delete(i);
            showDetails();
            await condition(() => carry.paused || cancelRequested, waitMs);
          }
          lane.retry = { ...lane.retry, nextTryAt: null };
        } else lane.retry = null;
      } catch (err) {
        if (isCancellation(err)) throw err;
        // Out of retries or a mistake only a person can fix: every lane holds after its page in flight, and waits for the operator.
        carry.paused = true;
        carry.lastError = `window ${cursor.windowStart} (lane ${i}): ${failureText(err)}`;
        lane.retry = null;
        log.warn('backfill paused after a failed step', { lane: i, error: carry.lastError, cursor });
        running.delete(i);
        syncClock();
        await recordRun('running');
      } finally {
        running.delete(i);
        syncClock();
      }
      showDetails();
    }
  }

  syncClock();
  showDetails();
  if (!input.carry) await recordRun('running');
  await Promise.all(lanes.map((_, i) => runLane(i)));
  carry.cursor = overallCursor();
  if (carry.cursor && !cancelRequested) {
    syncClock();
    await recordRun('running');
    await condition(allHandlersFinished);
    if (runningSince !== null) carry.wallMs = (carry.wallMs ?? 0) + Math.max(0, Date.now() - runningSince);
    return continueAsNew<(i: BackfillInput) => Promise<BackfillSummary>>({ ...input, carry: { ...carry, generation: carry.generation + 1 } });
  }
  completed = true;
  syncClock();
  showDetails();
  await recordRun(carry.cursor ? 'stopped' : 'succeeded');
  await condition(allHandlersFinished);
  const p = progress();
  return { outcome: p.outcome ?? 'finished', progress: p };
}
