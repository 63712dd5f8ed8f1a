import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, type LoadedDataConverter } from '@temporalio/common';
import { decodeFromPayloadsAtIndex, decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { parseStepProgress } from '../ports/backfill-step-progress';
import { backfillRange, fractionDone } from '../ports/backfill-cursor';
import { BACKFILL_HANDLERS, type BackfillProgress, type BackfillRetry } from '../ports/backfill';

/**
 * A backfill's progress as it is now, not as of its last finished step: the workflow's `progress`
 * query plus its pending `backfillStep` activity (Temporal's describe), whose heartbeat carries the
 * running step's counts and cursor and whose attempt, last failure and next attempt time say that
 * it retries. Rate and ETA are over wall-clock running time (retry waits included, pauses not).
 */

/** The running step as Temporal describes it. */
export interface PendingStep {
  /** SCHEDULED (waiting for its next attempt or a worker), STARTED, CANCEL_REQUESTED, ... */
  state: string;
  attempt: number;
  heartbeat?: unknown;
  lastHeartbeatAt?: number;
  lastFailure?: { message: string; kind: string; retryAfterMs?: number };
  lastAttemptCompleteAt?: number;
  nextAttemptAt?: number;
}

const failureDetails = z.array(z.looseObject({ kind: z.string() })).optional();

const STATES: Record<number, string> = { 1: 'SCHEDULED', 2: 'STARTED', 3: 'CANCEL_REQUESTED', 4: 'PAUSED', 5: 'PAUSE_REQUESTED' };

/** The activities that run a step: one window at a time, or a lane's (with its writes staged or not). */
const STEP_ACTIVITIES = ['backfillStep', 'backfillFetchStep'];

/** The pending backfillStep of a describe, decoded with the client's data converter (codecs included). */
export async function pendingStepOf(
  pending: temporal.api.workflow.v1.IPendingActivityInfo[] | null | undefined,
  converter: LoadedDataConverter,
): Promise<PendingStep | undefined> {
  const info = (pending ?? []).find((a) => a.activityType?.name === 'backfillStep');
  return info ? decodePendingStep(info, converter) : undefined;
}

/** Every pending step of a parallel backfill's lanes. */
export async function pendingStepsOf(pending: temporal.api.workflow.v1.IPendingActivityInfo[] | null | undefined, converter: LoadedDataConverter): Promise<PendingStep[]> {
  return Promise.all((pending ?? []).filter((a) => STEP_ACTIVITIES.includes(a.activityType?.name ?? '')).map((a) => decodePendingStep(a, converter)));
}

async function decodePendingStep(info: temporal.api.workflow.v1.IPendingActivityInfo, converter: LoadedDataConverter): Promise<PendingStep> {
  const step: PendingStep = {
    state: STATES[Number(info.state ?? 0)] ?? String(info.state ?? 'UNSPECIFIED'),
    attempt: info.attempt ?? 1,
    lastHeartbeatAt: optionalTsToMs(info.lastHeartbeatTime),
    lastAttemptCompleteAt: optionalTsToMs(info.lastAttemptCompleteTime),
    nextAttemptAt: optionalTsToMs(info.nextAttemptScheduleTime),
  };
  if (info.heartbeatDetails?.payloads?.length) {
    try {
      step.heartbeat = await decodeFromPayloadsAtIndex(converter, 0, info.heartbeatDetails.payloads);
    } catch {
      // A heartbeat we cannot decode (another codec key) only costs the live counts.
    }
  }
  if (info.lastFailure) {
    const err = await decodeOptionalFailureToOptionalError(converter, info.lastFailure).catch(() => undefined);
    const message = innermost(err) ?? info.lastFailure.message ?? 'unknown failure';
    const details = err instanceof ApplicationFailure ? failureDetails.safeParse(err.details ?? undefined) : undefined;
    const kind = details?.success && details.data?.[0]?.kind ? details.data[0].kind : err instanceof ApplicationFailure && err.type ? err.type : 'error';
    const retryAfterMs = askedDelayMs(info.lastFailure);
    step.lastFailure = { message, kind, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  return step;
}

/** The delay the activity asked for (a Retry-After it passed on), from the failure or its causes. */
function askedDelayMs(failure: temporal.api.failure.v1.IFailure | null | undefined): number | undefined {
  for (let f = failure, depth = 0; f && depth < 5; f = f.cause, depth++) {
    const d = f.applicationFailureInfo?.nextRetryDelay;
    if (d) return optionalTsToMs(d);
  }
  return undefined;
}

/** The application failure's own message (an activity failure wraps it). */
function innermost(err: Error | undefined): string | undefined {
  let e: unknown = err;
  let message: string | undefined;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    if (e instanceof ApplicationFailure) return e.message;
    message = e.message;
    e = (e as { cause?: unknown }).cause;
  }
  return message;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** The query's answer brought up to `now` with the running step. Pure: the tests give it any pending step. */
export function liveProgress(p: BackfillProgress, step: PendingStep | undefined, now: number): BackfillProgress {
  if (p.state === 'completed' || p.state === 'paused') return p;
  const out: BackfillProgress = { ...p };
  const beat = step ? parseStepProgress(step.heartbeat) : undefined;
  // Only a heartbeat of the step from the workflow's current cursor adds to its totals.
  if (beat && p.cursor && JSON.stringify(beat.stepCursor) === JSON.stringify(p.cursor)) {
    const c = beat.counts;
    out.step = { rowsRead: c.rowsRead, sent: c.sent, written: c.written, rejected: c.rejected, pages: c.pages, cursor: beat.cursor, lastHeartbeatAt: iso(step?.lastHeartbeatAt) };
    out.rowsRead = p.rowsRead + c.rowsRead;
    out.sent = p.sent + c.sent;
    out.written = p.written + c.written;
    out.rejected = p.rejected + c.rejected;
    out.pages = p.pages + c.pages;
    const range = backfillRange(p.from, p.to);
    if (typeof range !== 'string' && p.windowHours) out.fraction = Math.max(p.fraction, fractionDone(beat.cursor, range, p.tables.length, p.windowHours));
  } else out.step = step ? { rowsRead: 0, sent: 0, written: 0, rejected: 0, pages: 0, cursor: p.cursor, lastHeartbeatAt: iso(step.lastHeartbeatAt) } : null;

  const retry = step ? retryOf(step, p.retry, now) : undefined;
  if (retry) out.retry = retry;
  return withRate(out, now);
}

/** Attempts that fail before any progress: Temporal's retry policy, its waits growing. */
function retryOf(step: PendingStep, previous: BackfillRetry | null | undefined, now: number): BackfillRetry | undefined {
  if (step.attempt <= 1 || !step.lastFailure) return undefined;
  return {
    attempt: step.attempt,
    interruptedSteps: previous?.interruptedSteps ?? 0,
    errorKind: step.lastFailure.kind,
    lastError: step.lastFailure.message,
    retryAfterSeconds: step.lastFailure.retryAfterMs === undefined ? null : Math.round(step.lastFailure.retryAfterMs / 100) / 10,
    failedAt: iso(step.lastAttemptCompleteAt) ?? new Date(now).toISOString(),
    nextTryAt: step.state === 'SCHEDULED' ? iso(step.nextAttemptAt) : null,
    progressing: false,
  };
}

/**
 * A parallel backfill brought up to `now`: each lane's running step (the pending step whose
 * heartbeat started from the lane's cursor) added to the lane and to the totals.
 */
export function liveLanesProgress(p: BackfillProgress, steps: PendingStep[], now: number): BackfillProgress {
  if (p.state === 'completed' || p.state === 'paused' || !p.lanes) return p;
  const out: BackfillProgress = { ...p, lanes: [] };
  for (const lane of p.lanes) {
    const l = { ...lane, step: null as BackfillProgress['step'] };
    for (const step of steps) {
      const beat = parseStepProgress(step.heartbeat);
      if (!beat || !lane.cursor || JSON.stringify(beat.stepCursor) !== JSON.stringify(lane.cursor)) continue;
      const c = beat.counts;
      l.step = { rowsRead: c.rowsRead, sent: c.sent, written: c.written, rejected: c.rejected, pages: c.pages, cursor: beat.cursor, lastHeartbeatAt: iso(step.lastHeartbeatAt) };
      for (const k of ['rowsRead', 'sent', 'written', 'rejected', 'pages'] as const) {
        l[k] += c[k];
        out[k] += c[k];
      }
      l.retry = retryOf(step, lane.retry, now) ?? l.retry;
      break;
    }
    out.lanes!.push(l);
  }
  out.retry = out.lanes!.find((l) => l.retry)?.retry ?? null;
  return withRate(out, now);
}

function withRate(out: BackfillProgress, now: number): BackfillProgress {
  const p = out;
  if (p.wallMs !== undefined) {
    const wallMs = p.wallMs + (p.runningSince ? Math.max(0, now - Date.parse(p.runningSince)) : 0);
    const s = wallMs / 1000;
    out.ratePerSec = s > 0 ? Math.round((out.rowsRead / s) * 10) / 10 : 0;
    out.etaSeconds = out.fraction >= 1 ? 0 : out.fraction > 0 && s > 0 ? Math.round((s * (1 - out.fraction)) / out.fraction) : null;
  }
  return out;
}

/** Query plus describe, merged at the client's clock. A backfill that cannot be described still answers with its query. */
export async function fetchLiveProgress(handle: WorkflowHandle, now: () => number = Date.now): Promise<BackfillProgress> {
  const [p, description] = await Promise.all([handle.query<BackfillProgress>(BACKFILL_HANDLERS.progress), handle.describe().catch(() => undefined)]);
  if (p.lanes) {
    const steps = description ? await pendingStepsOf(description.raw.pendingActivities, handle.client.options.loadedDataConverter) : [];
    return liveLanesProgress(p, steps, now());
  }
  const step = description ? await pendingStepOf(description.raw.pendingActivities, handle.client.options.loadedDataConverter) : undefined;
  return liveProgress(p, step, now());
}
