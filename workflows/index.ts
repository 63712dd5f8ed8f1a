// The worker bundles this file: workflows only, no Node built-ins, no I/O.
export { syncStreamWorkflow } from './sync-stream';
export { syncSourceWorkflow } from './sync-source';
export { statusWorkflow } from './status';
export { driftWebhookWorkflow } from './drift-webhook';
export { organizeWorkflow } from './organize';
export { retentionWorkflow } from './retention';
export { amplitudeIngestWorkflow, pushIngestWorkflow } from './push-ingest';
export { segmentBackfillWorkflow } from './segment-backfill';
export { trackingDraftWorkflow, trackingViolationsWorkflow, trackingParityWorkflow } from './tracking';
export { segmentDeliveryWorkflow } from './segment-delivery';
