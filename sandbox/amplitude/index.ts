export { startAmplitudeEmulator, HTTPAPI_MAX_BYTES, BATCH_MAX_BYTES } from './server';
export type { AmplitudeEmulator, AmplitudeEmulatorOptions, RateLimitsInput, FailAfterIngestEndpoint } from './server';
export type { AmplitudeStore, EventFilter, RequestRecord, DuplicateRecord } from './store';
export type { StreamConfig, StreamConfigInput } from './stream';
export { AMPLITUDE_RETRY_DELAYS_MS } from './stream';
export { toExportEvent, exportTime } from './export-format';
export type { AmplitudeEvent, IngestedEvent, UploadAnswer } from './types';
