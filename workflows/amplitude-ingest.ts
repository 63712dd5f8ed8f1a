/** The Amplitude source's ingest, now the push ingest of every source: see push-ingest.ts. */
export { amplitudeIngestWorkflow, INGEST_DEFAULTS, type AmplitudeIngestInput, type AmplitudeIngestSettings, type AmplitudeIngestStatus, type AmplitudeIngestTotals } from './push-ingest';
