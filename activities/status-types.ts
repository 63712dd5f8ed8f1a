/** What the status workflow returns: small per-stream facts, read by the worker (the warehouse's only writer). */

export interface StreamRunFacts {
  runId: string;
  status: string;
  startedAt: string;
  finishedAt?: string;
  read: number;
  written: number;
  sent: number;
  rejected: number;
  error?: string;
}

export interface StreamStatus {
  stream: string;
  flow: string;
  lastRun?: StreamRunFacts;
  /** When the last successful run of this stream finished. */
  lastSuccessAt?: string;
  /** Source time the stored cursor has reached (streams/cursor-time.ts). */
  cursorAt?: string;
  /** When the cursor was last stored. */
  cursorStoredAt?: string;
  deadLetters: number;
}

export interface WarehouseStatus {
  warehouse: 'duckdb' | 'databricks';
  collectedAt: string;
  streams: StreamStatus[];
}

export interface StatusActivities {
  collectSyncStatus(): Promise<WarehouseStatus>;
}
