import type { Problem, ReconcileInput } from '../connectors/alerts/types';
import type { CheckName } from '../connectors/warehouse/types';

/** What crosses the workflow/activity boundary of organize, retention and alerts: names and counts. */

export interface OrganizeStreamResult {
  stream: string;
  /** Bronze records looked at (their key had no silver row). */
  scanned: number;
  /** Rows merged into silver. */
  merged: number;
  /** Records that fail the stream's schema: dead-lettered when they were received, left in bronze. */
  invalid: number;
}

export interface CheckSummary {
  check: CheckName;
  table: string;
  passed: boolean;
  observed: number;
  detail?: string;
}

export interface ChecksResult {
  results: CheckSummary[];
  failed: CheckSummary[];
}

export interface DeadLetterReport {
  threshold: number;
  windowSeconds: number;
  /** Dead letters per flow recorded within the window. */
  byFlow: Record<string, number>;
}

export interface PurgeResult {
  table: string;
  deleted: number;
}

export interface RetentionResult {
  /** Undefined when retention is off (BRONZE_RETENTION empty: keep everything). */
  before?: string;
  purged: PurgeResult[];
}

export interface ReconcileResult {
  raised: string[];
  recovered: string[];
  ongoing: string[];
}

export interface OpsActivities {
  /** Posts an alert for each new problem of the scope and a recovery for each that went away; deduplicated. */
  reconcileAlerts(input: ReconcileInput): Promise<ReconcileResult>;
  /** Streams the organize flow looks after: every declared stream of this worker. */
  organizeTargets(): Promise<string[]>;
  /** Merges into silver the bronze records of a stream whose key is not there yet. */
  organizeStream(input: { stream: string; batchSize?: number }): Promise<OrganizeStreamResult>;
  /** Runs and records (ops.check_results) the data-quality checks of the streams' silver tables. */
  /** `pushed`: also the tables no stream declares (silver.amplitude_events, silver.segment_*). */
  runOrganizeChecks(input: { streams: string[]; pushed?: boolean }): Promise<ChecksResult>;
  countRecentDeadLetters(): Promise<DeadLetterReport>;
  /** Running Segment backfills whose rowsRead has not moved for ALERT_BACKFILL_STALL_MINUTES. */
  findStalledBackfills(): Promise<Problem[]>;
  compactTables(input: { streams: string[] }): Promise<string[]>;
  /** Deletes bronze rows older than BRONZE_RETENTION (nothing when it is empty). */
  purgeOldBronze(input: { streams: string[] }): Promise<RetentionResult>;
}
