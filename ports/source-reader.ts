import type { JsonValue } from './json';

/**
 * The port a source connector implements (connectors/salesforce, connectors/drift) and the stream
 * pipeline reads through (streams/pipeline.ts): plain TypeScript, no Temporal.
 */

export type SourceName = 'salesforce' | 'drift';

/** A position in a stream; JSON so it lives in ops.sync_state and in workflow history. */
export type Cursor = JsonValue | null;

/** `targeted`: specific records a webhook named, read outside the stream's cursor sequence. */
export type ReadMode = 'rest' | 'bulk' | 'targeted';

/** What a reader needs to know of a stream's declaration (streams/types.ts). */
export interface SourceStream {
  /** `<source>_<object>`: also the bronze and silver table name. */
  name: string;
  source: SourceName;
  /** Object name at the source, e.g. `Contact`, or `conversations`. */
  object: string;
  primaryKey: string;
  cursorField: string;
  /** Fields requested from the source. */
  fields: string[];
  /**
   * Whether records deleted at the source are read too (default true). Salesforce reads them with
   * queryAll (they arrive with IsDeleted = true); `false` reads with query, which never returns them.
   */
  deletes?: boolean;
}

export interface SourcePage {
  records: unknown[];
  nextCursor: Cursor;
  nextMode: ReadMode;
  done: boolean;
  apiCalls: number;
  apiUsage?: { used: number; limit: number };
}

export interface SourceReader {
  /** Chooses how a run reads (e.g. Bulk API for a first load of a big object). */
  plan(decl: SourceStream, cursor: Cursor, full: boolean): Promise<{ cursor: Cursor; mode: ReadMode }>;
  readPage(decl: SourceStream, cursor: Cursor, mode: ReadMode, opts: ReadOptions): Promise<SourcePage>;
}

export interface ReadOptions {
  runId: string;
  /** Called while a long read is in progress; the activity turns it into a Temporal heartbeat. */
  progress: (details: unknown) => void;
  /** Details of the last heartbeat of a previous attempt, to resume a long read. */
  resumeFrom?: unknown;
}
