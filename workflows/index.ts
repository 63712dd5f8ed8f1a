// The worker bundles this file: workflows only, no Node built-ins, no I/O.
export { syncStreamWorkflow } from './sync-stream';
export { syncSourceWorkflow } from './sync-source';
export { segmentBackfillWorkflow } from './segment-backfill';
