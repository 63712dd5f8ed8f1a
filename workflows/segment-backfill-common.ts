import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BackfillStepResult } from '../ports/backfill-step';
import {
  BACKFILL_HANDLERS,
  SEGMENT_BACKFILL_TABLES,
  type BackfillCarry,
  type BackfillOptions,
  type BackfillProgress,
  type BackfillRetry,
  type BackfillTotals,
  type ResumeArgs,
} from '../ports/backfill';

/** What the one-window-at-a-time backfill and its parallel lanes share: handlers, defaults, checks and counting. */

export const progressQuery = defineQuery<BackfillProgress>(BACKFILL_HANDLERS.progress);
export const pauseSignal = defineSignal(BACKFILL_HANDLERS.pause);
export const resumeSignal = defineSignal<[ResumeArgs?]>(BACKFILL_HANDLERS.resume);
export const cancelSignal = defineSignal(BACKFILL_HANDLERS.cancel);
export const setRateUpdate = defineUpdate<number | null, [number | null]>(BACKFILL_HANDLERS.setRate);

export const DEFAULTS: Required<Omit<BackfillOptions, 'activity'>> = { windowHours: 24, pageSize: 5_000, pagesPerStep: 10, stepBudgetMs: 20_000, stepsPerRun: 1_000 };
export const MAX_SAMPLES = 20;
export const MAX_REASONS = 50;

export function zeroTotals(): BackfillTotals {
  return { rowsRead: 0, sent: 0, written: 0, rejected: 0, pages: 0, activeMs: 0, bigqueryMs: 0, amplitudeMs: 0, warehouseMs: 0, pacedMs: 0 };
}

export function validRate(rate: unknown): string | undefined {
  if (rate === null || rate === undefined) return undefined;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) return `rate ${JSON.stringify(rate)} is not valid: give a positive number of events per second, or nothing for no limit`;
  return undefined;
}

export function validTables(tables: unknown): string | undefined {
  const known: readonly string[] = SEGMENT_BACKFILL_TABLES;
  if (!Array.isArray(tables) || tables.length === 0) return `no tables: give one or more of ${known.join(', ')}`;
  const unknown = tables.filter((t) => !known.includes(t as string));
  if (unknown.length) return `unknown Segment table(s) ${unknown.join(', ')}: the backfill reads ${known.join(', ')}`;
  if (new Set(tables).size !== tables.length) return `a table is listed twice in ${tables.join(',')}`;
  return undefined;
}

/** A step's counts, event types and rejections added to the backfill's. */
export function absorbStep(carry: Pick<BackfillCarry, 'totals' | 'perEventType' | 'rejectedByReason' | 'rejectedSamples'>, r: BackfillStepResult): void {
  for (const k of Object.keys(carry.totals) as (keyof BackfillTotals)[]) carry.totals[k] += r.counts[k];
  for (const [t, n] of Object.entries(r.perEventType)) carry.perEventType[t] = (carry.perEventType[t] ?? 0) + n;
  for (const [reason, n] of Object.entries(r.rejectedByReason)) {
    const key = carry.rejectedByReason[reason] !== undefined || Object.keys(carry.rejectedByReason).length < MAX_REASONS ? reason : 'other reasons';
    carry.rejectedByReason[key] = (carry.rejectedByReason[key] ?? 0) + n;
  }
  for (const s of r.rejectedSamples) if (carry.rejectedSamples.length < MAX_SAMPLES) carry.rejectedSamples.push(s);
}

/** With a rate limit, a page must fit in a step's time budget, so that pause and cancel stay prompt. */
export function pageSizeFor(pageSize: number, rate: number | null, budgetMs: number): number {
  if (rate === null) return pageSize;
  return Math.max(10, Math.min(pageSize, Math.floor((rate * budgetMs) / 1000)));
}

export function retryText(r: BackfillRetry): string {
  const next = r.nextTryAt ? `next try at ${r.nextTryAt}` : 'trying again now';
  return `Retrying (attempt ${r.attempt}${r.interruptedSteps ? `, ${r.interruptedSteps} step(s) in a row ended early after progress` : ''}): ${r.errorKind}: ${r.lastError} — ${next}.`;
}

export function failureText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? cause.message : err.message;
  }
  return String(err);
}
