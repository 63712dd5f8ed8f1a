/** The Amplitude source's names, now shared by every push source: see push-ingest-names.ts. */
export { AMPLITUDE_EVENTS_SIGNAL, AMPLITUDE_INGEST_STATUS_QUERY, AMPLITUDE_INGEST_WORKFLOW, ingestWorkflowId } from './push-ingest-names';
