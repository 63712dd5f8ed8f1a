import type { BackfillCursor, BackfillTotals } from '../ports/backfill';
import type { BackfillFetchResult, BackfillStepInput, BackfillStepResult, BackfillStoreInput } from '../ports/backfill-step';

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
  /** Replays a lane's journal into the warehouse (the owner's queue). */
  backfillStoreStep(input: BackfillStoreInput): Promise<{ ops: number; alreadyStored: boolean; ms: number }>;
  recordBackfillRun(record: BackfillRunRecord): Promise<void>;
}

/** Registered on the reading and sending queue (ports/backfill.ts backfillIoTaskQueue), which every worker polls. */
export interface BackfillIoActivities {
  backfillFetchStep(input: BackfillStepInput): Promise<BackfillFetchResult>;
}
