import type { BackfillCursor, BackfillTotals } from '../ports/backfill';
import type { BackfillStepInput, BackfillStepResult } from '../ports/backfill-step';

/** The backfill's row in ops.sync_runs: one per workflow id, updated as it goes. */
export interface BackfillRunRecord {
  runId: string;
  startedAt: string;
  finishedAt?: string;
  status: 'running' | 'succeeded' | 'stopped';
  totals: BackfillTotals;
  cursorAfter: BackfillCursor | null;
  /** Why it paused itself, while it waits for the operator. */
  error?: string;
}

export interface BackfillActivities {
  backfillStep(input: BackfillStepInput): Promise<BackfillStepResult>;
  recordBackfillRun(record: BackfillRunRecord): Promise<void>;
}
