import type { FieldProblem } from '../mappings/amplitude-export';

/** What crosses the endpoint -> workflow -> activity boundary of the push ingest (every source). */

/** An event the endpoint refused, kept for ops.dead_letters with the reasons. */
export interface RejectedEvent {
  /** The event's own id when it had a usable one (uuid, messageId), else `request:<n>` from its position. */
  recordKey: string;
  problems: FieldProblem[];
  payload: unknown;
}

/** One signal: the events of one or more requests, grouped by the endpoint within a few milliseconds. */
export interface IngestSignal {
  /** Events that passed validation, as the source's flush activity expects them. */
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

/**
 * The activities the push-ingest workflow calls: one flush per source (chosen by the workflow's
 * `source`) and the gather. The Amplitude flush keeps its first name, which recorded histories hold.
 */
export interface PushIngestActivities {
  flushAmplitudeEvents(input: FlushInput): Promise<FlushResult>;
  flushSegmentCalls(input: FlushInput): Promise<FlushResult>;
  /** Drift's source carries only the webhook requests refused with a 400, for ops.dead_letters. */
  flushDriftRefusals(input: FlushInput): Promise<FlushResult>;
  /**
   * Waits `ms` and does nothing else: run as a local activity, it keeps the ingest workflow's task
   * open meanwhile, and signals that reach a workflow with an open task are delivered together in the
   * next one instead of each starting a task of its own (see workflows/push-ingest.ts).
   */
  gatherSignals(ms: number): Promise<void>;
}

export type FlushActivityName = 'flushAmplitudeEvents' | 'flushSegmentCalls' | 'flushDriftRefusals';
