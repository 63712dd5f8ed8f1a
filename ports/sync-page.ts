import type { Cursor, ReadMode } from './source-reader';

/**
 * What one page of a stream returns, from the pipeline through the activity to the workflow:
 * cursors and counts, never records.
 */

export interface Counts {
  read: number;
  written: number;
  sent: number;
  rejected: number;
  apiCalls: number;
}

export interface SyncPageResult extends Counts {
  nextCursor: Cursor;
  nextMode: ReadMode;
  done: boolean;
  /** Set when the run must stop early for a good reason (e.g. the org's daily API share is used up). */
  stop?: string;
  apiUsage?: { used: number; limit: number };
}
