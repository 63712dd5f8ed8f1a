import type { Cursor } from '../streams/types';

/** What crosses the workflow/activity boundary of a sync: cursors and counts, never records. */
/** `targeted`: specific records a webhook named, read outside the stream's cursor sequence. */
export type ReadMode = 'rest' | 'bulk' | 'targeted';

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
  beginStreamRun(input: BeginStreamRunInput): Promise<BeginStreamRunResult>;
  syncStreamPage(input: SyncPageInput): Promise<SyncPageResult>;
  finishStreamRun(summary: StreamRunSummary): Promise<void>;
}
