import type { BackfillCursor, BackfillTotals, IdHistory } from './backfill';

/** What crosses the workflow/activity boundary of a backfill step: a cursor and counts, never rows. */
export interface BackfillStepInput {
  /** The workflow id: names the stored cursor (ops.sync_state) and the bronze batches. */
  runId: string;
  tables: string[];
  range: { startMs: number; endMs: number };
  windowHours: number;
  pageSize: number;
  pagesPerStep: number;
  stepBudgetMs: number;
  cursor: BackfillCursor;
  dryRun: boolean;
  /** Events per second; null for no limit. */
  rate: number | null;
  /**
   * When a step from this cursor was first attempted (epoch ms). A step that failed may have sent
   * part of its pages; Amplitude forgets insert_ids after 7 days, so re-sending later than that could
   * duplicate events and the step refuses unless `allowLateResend`.
   */
  firstAttemptAt: number;
  allowLateResend?: boolean;
  /**
   * A lane of a parallel backfill: the range is its window, the stored cursor is the lane's, and
   * each id gets `idShare` of Amplitude's per-id throughput, counted with the lane's recent sends
   * (`idHistory`) whichever worker made them.
   */
  lane?: { index: number; idShare: number; idHistory: IdHistory };
}

export type StepCounts = Omit<BackfillTotals, 'activeMs'> & { activeMs: number };

/**
 * Why a step ended before its page or time budget: a retryable failure after it had moved its
 * cursor. The step keeps what was acknowledged and ends successfully; the workflow starts the next
 * step after `retryAfterMs` (or at once).
 */
export interface StepInterruption {
  /** A word to scan, e.g. `amplitude-throttled`, `amplitude-server-error`, `amplitude-no-answer`. */
  kind: string;
  message: string;
  /** The wait the service asked for (Retry-After, Amplitude's throttling window); unset: none. */
  retryAfterMs?: number;
  /** When it failed (ISO). */
  at: string;
}

export interface BackfillStepResult {
  /** Where the next step starts; null once the range is done. */
  cursor: BackfillCursor | null;
  counts: StepCounts;
  perEventType: Record<string, number>;
  rejectedByReason: Record<string, number>;
  rejectedSamples: { table: string; id: string; reason: string }[];
  /** Set when the step ended early on a retryable failure after progress. */
  interruption?: StepInterruption;
  /** Lanes: the lane's recent sends of its busiest ids, for its next step. */
  idHistory?: IdHistory;
  /** Lanes: the worker that ran the step (its Temporal identity). */
  worker?: string;
}

/** A lane's step on the reading and sending queue: its warehouse writes wait in a journal for the owner. */
export interface BackfillFetchResult extends BackfillStepResult {
  /** The journal's name in the staging directory, for `backfillStoreStep`. */
  journal: string;
}

export interface BackfillStoreInput {
  runId: string;
  journal: string;
}
