/**
 * Names shared by the ingest workflow and the webhook's Temporal client. Plain constants, so the
 * webhook can signal and query without importing workflow code.
 */
export const AMPLITUDE_INGEST_WORKFLOW = 'amplitudeIngestWorkflow';
export const AMPLITUDE_EVENTS_SIGNAL = 'amplitudeEvents';
export const AMPLITUDE_INGEST_STATUS_QUERY = 'amplitudeIngestStatus';

/** Workflow id of one ingest shard: events are spread over a few long-running workflows by uuid hash. */
export function ingestWorkflowId(prefix: string, shard: number): string {
  return `${prefix}-${shard}`;
}
