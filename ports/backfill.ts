/**
 * The Segment backfill's contract with the CLI, the ops `status` command and the activities: plain
 * types, no imports, so any process (and the workflow bundle) can use them.
 */

/** Where the backfill stands: the next page to read. `null` once the whole range is done. */
export interface BackfillCursor {
  /** Start of the current window (canonical UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ`). */
  windowStart: string;
  /** Index into the run's `tables`. */
  table: number;
  /** Keyset position of the last row acknowledged in this window and table; unset at its start. */
  after?: { timestamp: string; id: string };
}

export interface BackfillTotals {
  rowsRead: number;
  sent: number;
  written: number;
  rejected: number;
  pages: number;
  /** Time spent inside steps (excludes pauses), for the rate and the ETA. */
  activeMs: number;
  /** Of activeMs: waiting for BigQuery, for Amplitude, for the warehouse, and paced by the rate limit. */
  bigqueryMs: number;
  amplitudeMs: number;
  warehouseMs: number;
  pacedMs: number;
}

export type BackfillState = 'running' | 'paused' | 'cancelling' | 'completed';

/**
 * A retry in progress: a step that ended early on a retryable failure after progress (the backfill
 * waits for the Retry-After, if one was asked for, then goes on), or a step whose attempts fail
 * without progress (Temporal's retry policy, filled in by the client from the pending activity).
 */
export interface BackfillRetry {
  /** Attempt of the step now running or due (Temporal's count: 1 is a first try). */
  attempt: number;
  /** Steps in a row that ended early on a failure after making progress. */
  interruptedSteps: number;
  /** `amplitude-throttled`, `amplitude-server-error`, `amplitude-no-answer`, `bigquery`, ... */
  errorKind: string;
  lastError: string;
  /** The wait the destination asked for, in seconds; null when it asked for none. */
  retryAfterSeconds: number | null;
  /** When the last failure happened (ISO). */
  failedAt: string;
  /** When the next try is due (ISO); null when a try is running now. */
  nextTryAt: string | null;
  /** The failure came after progress (the cursor moved): not counted against the retry policy. */
  progressing: boolean;
}

/** The running step as its last heartbeat tells it (filled in by the client from the pending activity). */
export interface BackfillStepLive {
  /** Counts of the step so far, on top of the totals. */
  rowsRead: number;
  sent: number;
  written: number;
  rejected: number;
  pages: number;
  /** The step's cursor after its last acknowledged page. */
  cursor: BackfillCursor | null;
  lastHeartbeatAt: string | null;
}

export interface BackfillProgress extends BackfillTotals {
  state: BackfillState;
  /** How it ended, once completed. */
  outcome?: 'finished' | 'cancelled';
  /** The window being read, null when done. */
  window: { start: string; end: string } | null;
  /** The current table, null when done. */
  table: string | null;
  from: string;
  to: string;
  tables: string[];
  dryRun: boolean;
  /**
   * Rows read per second of wall-clock time while running: retry waits and slow steps included,
   * pauses excluded (the client recomputes it with the running step's heartbeat and its own clock).
   */
  ratePerSec: number;
  /** Rows read per second of time spent inside steps (the throughput when nothing fails). */
  activeRatePerSec?: number;
  /** Wall-clock ms spent running (not paused) up to `runningSince`, retry waits included. */
  wallMs?: number;
  /** When the current stretch of running began (ISO); null while paused or done. */
  runningSince?: string | null;
  /** Window length, for the client's fraction from a heartbeat cursor. */
  windowHours?: number;
  /** Set while a step retries or the backfill waits to retry; null otherwise. */
  retry?: BackfillRetry | null;
  /** The running step's progress from its heartbeat (client side), null when no step runs. */
  step?: BackfillStepLive | null;
  /** The operator's limit in events per second; null when unlimited. */
  rateLimit: number | null;
  /** Estimated seconds to the end of the range at the wall-clock rate, null before the first page. */
  etaSeconds: number | null;
  /** Share of the time range done, 0..1. */
  fraction: number;
  /** A pause was requested and the step in flight has not finished yet. */
  pauseRequested: boolean;
  /** Why the backfill paused itself (a step failed for good, e.g. a configuration error); cleared by resume. */
  lastError: string | null;
  cursor: BackfillCursor | null;
  /** Events that would be / were sent, per event type (dry run: what would be sent). */
  perEventType: Record<string, number>;
  /** Rejected rows per reason. */
  rejectedByReason: Record<string, number>;
  /** A few rejected rows (table, id, reason), for the dry-run report. */
  rejectedSamples: { table: string; id: string; reason: string }[];
  /** Continue-as-new generations so far. */
  generation: number;
  /** Windows processed at once (`--parallel`); unset for one at a time. */
  parallel?: number;
  /** Each lane of a parallel backfill: the window it reads and its own counts. Unset for one at a time. */
  lanes?: BackfillLaneProgress[];
  /** Windows of the range, and how many are done (parallel backfills). */
  windowsTotal?: number;
  windowsDone?: number;
}

/** One lane of a parallel backfill: it takes the next window nobody has taken, reads it to its end, and takes another. */
export interface BackfillLaneProgress {
  lane: number;
  /** running: a step is in flight; waiting: for a Retry-After or paused; idle: no window left for it. */
  state: 'running' | 'waiting' | 'idle';
  window: { start: string; end: string } | null;
  table: string | null;
  cursor: BackfillCursor | null;
  rowsRead: number;
  sent: number;
  written: number;
  rejected: number;
  pages: number;
  windowsDone: number;
  /** The worker (Temporal identity) that ran this lane's last step. */
  lastWorker: string | null;
  retry: BackfillRetry | null;
  /** The running step's part, from its heartbeat (client side). */
  step?: BackfillStepLive | null;
}

export interface BackfillOptions {
  /** Window length in hours (default 24). */
  windowHours?: number;
  /** Rows per BigQuery page (default 5,000). */
  pageSize?: number;
  /** Pages per activity at most (default 10): bounds the pause/cancel latency. */
  pagesPerStep?: number;
  /** Time budget of one activity in ms (default 20,000). */
  stepBudgetMs?: number;
  /** Steps before a continue-as-new even if Temporal does not suggest one (default 1,000). */
  stepsPerRun?: number;
  /** Retry/timeout overrides (tests). */
  activity?: {
    heartbeatTimeout?: string;
    startToCloseTimeout?: string;
    retry?: { initialInterval?: string; backoffCoefficient?: number; maximumInterval?: string; maximumAttempts?: number };
  };
}

export interface BackfillInput {
  /** First day, `YYYY-MM-DD` (UTC), inclusive. */
  from: string;
  /** Last day, `YYYY-MM-DD` (UTC), inclusive. */
  to: string;
  tables: string[];
  dryRun?: boolean;
  /** Events per second; unset or null for no limit. */
  rate?: number | null;
  options?: BackfillOptions;
  /**
   * Windows processed at once (`--parallel`, default 1). Above 1 the range is read by that many
   * lanes, each taking the next untaken window, with the rate limit and Amplitude's per-id
   * throughput shared among them.
   */
  parallel?: number;
  /**
   * With a warehouse only one worker may write (DuckDB): the task queue of the lanes' reading and
   * sending steps, polled by every worker, the warehouse writes staying with the owner. Unset: each
   * step does it all on the workflow's queue (Databricks: every worker writes).
   */
  ioTaskQueue?: string;
  /** Set by continue-as-new (or a resume of a failed run): where to go on from. */
  carry?: BackfillCarry;
}

/** A lane's state carried across continue-as-new. */
export interface BackfillLaneCarry {
  cursor: BackfillCursor | null;
  firstAttemptAt: number | null;
  retry: BackfillRetry | null;
  counts: { rowsRead: number; sent: number; written: number; rejected: number; pages: number };
  windowsDone: number;
  lastWorker: string | null;
  /** Recent sends of the ids that came near the lane's per-id share (see IdThroughputBudget). */
  idHistory?: IdHistory;
}

/** Hashed id → sends within Amplitude's 30 s throughput window: [epoch ms, events]. */
export type IdHistory = Record<string, [number, number][]>;

export interface BackfillCarry {
  cursor: BackfillCursor | null;
  totals: BackfillTotals;
  perEventType: Record<string, number>;
  rejectedByReason: Record<string, number>;
  rejectedSamples: { table: string; id: string; reason: string }[];
  paused: boolean;
  rate: number | null;
  lastError: string | null;
  /** Workflow time (ms) at which a step from `cursor` was first attempted; see BackfillStepInput. */
  cursorFirstAttemptAt: number | null;
  generation: number;
  /** When the first run of this backfill started (ISO); unset in carries of older versions. */
  startedAt?: string;
  /** Wall-clock ms spent running (not paused) so far; unset in carries of older versions. */
  wallMs?: number;
  /** The retry in progress, if any; unset in carries of older versions. */
  retry?: BackfillRetry | null;
  /** Parallel backfills: each lane, and the next window no lane has taken yet (null: all taken). */
  lanes?: BackfillLaneCarry[];
  nextWindow?: string | null;
  windowsDone?: number;
}

export interface BackfillSummary {
  outcome: 'finished' | 'cancelled';
  progress: BackfillProgress;
}

export const BACKFILL_WORKFLOW_TYPE = 'segmentBackfillWorkflow';

/** `segment-backfill-<from>-<to>-<tables joined by +>`: one workflow per range and table set. */
export function backfillWorkflowId(from: string, to: string, tables: string[]): string {
  return `segment-backfill-${from}-${to}-${tables.join('+')}`;
}

/** The task queue of a parallel backfill's reading and sending steps, beside the worker's own queue. */
export function backfillIoTaskQueue(taskQueue: string): string {
  return `${taskQueue}-backfill-io`;
}

/** Lanes at most: each holds a page in memory and a step slot on a worker. */
export const MAX_PARALLEL = 16;

/** Names of the workflow's handlers, for clients that must not import workflow code. */
export const BACKFILL_HANDLERS = { progress: 'progress', pause: 'pause', resume: 'resume', cancel: 'cancel', setRate: 'setRate' } as const;

export const SEGMENT_BACKFILL_TABLES = ['tracks', 'identifies', 'pages'] as const;

/** Arguments of the `resume` signal. */
export interface ResumeArgs {
  /** Send a page again even though its first attempt is older than Amplitude's 7-day dedup window. */
  allowLateResend?: boolean;
}
