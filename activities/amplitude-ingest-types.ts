import type { FieldProblem } from '../mappings/amplitude-export';

/** What crosses the webhook -> workflow -> activity boundary of the Amplitude ingest. */

/** An event the webhook refused, kept for ops.dead_letters with the reasons. */
export interface RejectedEvent {
  /** uuid when the event had a usable one, else `request:<n>` from its position. */
  recordKey: string;
  problems: FieldProblem[];
  payload: unknown;
}

/** One signal: the events of one or more requests, grouped by the webhook within a few milliseconds. */
export interface IngestSignal {
  /** Export events that passed validation, as received (unknown fields included). */
  events: Record<string, unknown>[];
  rejected: RejectedEvent[];
}

export interface FlushInput extends IngestSignal {
  /** Deterministic per workflow run and flush number: a retried flush appends nothing twice. */
  batchId: string;
}

export interface FlushResult {
  appended: number;
  alreadyLoaded: boolean;
  inserted: number;
  updated: number;
  unchanged: number;
  deadLettered: number;
}

export interface AmplitudeIngestActivities {
  flushAmplitudeEvents(input: FlushInput): Promise<FlushResult>;
  /**
   * Waits `ms` and does nothing else: run as a local activity, it keeps the ingest workflow's task
   * open meanwhile, and signals that reach a workflow with an open task are delivered together in the
   * next one instead of each starting a task of its own (see workflows/amplitude-ingest.ts).
   */
  gatherSignals(ms: number): Promise<void>;
}
