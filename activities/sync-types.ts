import type { Cursor, ReadMode } from '../ports/source-reader';
import type { Counts, SyncPageResult } from '../ports/sync-page';

/** What crosses the workflow/activity boundary of a sync: cursors and counts, never records. */

export interface BeginStreamRunInput {
  stream: string;
  runId: string;
  full: boolean;
}

export interface BeginStreamRunResult {
  cursor: Cursor;
  mode: ReadMode;
  startedAt: string;
}

export interface SyncPageInput {
  stream: string;
  runId: string;
  cursor: Cursor;
  mode: ReadMode;
  page: number;
}



export interface StreamRunSummary extends Counts {
  runId: string;
  flow: string;
  stream: string;
  startedAt: string;
  finishedAt: string;
  status: 'succeeded' | 'failed' | 'stopped';
  pages: number;
  cursorBefore: Cursor;
  cursorAfter: Cursor;
  apiUsage?: { used: number; limit: number };
  stopReason?: string;
  error?: string;
}

export interface SyncActivities {
  /** The streams a run of the source syncs, in order, from the worker's streams file (workflows never read it). */
  streamsOfSource(input: { source: string }): Promise<string[]>;
  beginStreamRun(input: BeginStreamRunInput): Promise<BeginStreamRunResult>;
  syncStreamPage(input: SyncPageInput): Promise<SyncPageResult>;
  finishStreamRun(summary: StreamRunSummary): Promise<void>;
}
