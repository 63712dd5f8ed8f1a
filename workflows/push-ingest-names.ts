import type { FlushActivityName } from '../activities/push-ingest-types';

/**
 * Names shared by the push-ingest workflow and the Temporal clients that signal it (the webhook, the
 * Segment collection endpoint). Plain constants, so a client can signal and query without importing
 * workflow code.
 *
 * The Amplitude source keeps the names it was first deployed under (`amplitudeIngestWorkflow`, the
 * `amplitudeEvents` signal, the `amplitudeIngestStatus` query): running shards and their recorded
 * histories use them, and a signal or query is routed by name. Other sources start the same workflow
 * function under its generic name.
 */
export const AMPLITUDE_INGEST_WORKFLOW = 'amplitudeIngestWorkflow';
export const PUSH_INGEST_WORKFLOW = 'pushIngestWorkflow';
export const AMPLITUDE_EVENTS_SIGNAL = 'amplitudeEvents';
export const AMPLITUDE_INGEST_STATUS_QUERY = 'amplitudeIngestStatus';
/** Generic aliases: every source's events travel in the same signal, answered by the same query. */
export const INGEST_EVENTS_SIGNAL = AMPLITUDE_EVENTS_SIGNAL;
export const INGEST_STATUS_QUERY = AMPLITUDE_INGEST_STATUS_QUERY;

/** A push source: where its events come from decides the flush activity and the workflow ids. */
export type IngestSource = 'amplitude' | 'segment' | 'drift';
export const INGEST_SOURCES: readonly IngestSource[] = ['amplitude', 'segment', 'drift'];

/** The flush activity of each source. Amplitude's name is in recorded histories: it never changes. */
export const INGEST_FLUSH_ACTIVITY: Record<IngestSource, FlushActivityName> = { amplitude: 'flushAmplitudeEvents', segment: 'flushSegmentCalls', drift: 'flushDriftRefusals' };

/** Workflow type a source's shards run as (Amplitude's predates the generic name). */
export function ingestWorkflowType(source: IngestSource): string {
  return source === 'amplitude' ? AMPLITUDE_INGEST_WORKFLOW : PUSH_INGEST_WORKFLOW;
}

/** Default workflow id prefix of a source's shards: `amplitude-ingest-<n>`, `segment-ingest-<n>`. */
export function ingestWorkflowPrefix(source: IngestSource): string {
  return `${source}-ingest`;
}

/** Workflow id of one ingest shard: events are spread over a few long-running workflows by key hash. */
export function ingestWorkflowId(prefix: string, shard: number): string {
  return `${prefix}-${shard}`;
}
