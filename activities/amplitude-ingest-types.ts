/** The Amplitude source's activity types, now shared by every push source: see push-ingest-types.ts. */
import type { PushIngestActivities } from './push-ingest-types';
export type { FlushInput, FlushResult, IngestSignal, RejectedEvent } from './push-ingest-types';

export type AmplitudeIngestActivities = Pick<PushIngestActivities, 'flushAmplitudeEvents' | 'gatherSignals'>;
