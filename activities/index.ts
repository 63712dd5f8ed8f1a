import type { ActivityDeps } from './deps';
import { createSyncActivities } from './sync';
import { createStatusActivities } from './status';
import { meterSyncActivities } from './metered-sync';
import { createOpsActivities } from './ops';
import { createAmplitudeIngestActivities } from './amplitude-ingest';
import { createBackfillActivities } from './backfill';
import { createTrackingActivities } from './tracking';
import { createSegmentIngestActivities } from './segment-ingest';
import { createDriftRefusalActivities } from './drift-refusals';
import { createSegmentDeliveryActivities, type SegmentDeliveryOptions } from './segment-delivery';
import { segmentHandover } from './segment-handover';
import type { DeliverySettings } from '../workflows/segment-delivery';

export interface ActivityOptions {
  /** Settings of the Segment delivery workflows the flush starts (tests shorten their timeouts). */
  segmentDelivery?: Partial<DeliverySettings>;
  segmentForward?: SegmentDeliveryOptions;
}

/** Every activity the worker registers; workflows import the type only. */
export function createActivities(deps: ActivityDeps, opts: ActivityOptions = {}) {
  return {
    ...createStatusActivities(deps),
    ...meterSyncActivities(createSyncActivities(deps), deps.metrics),
    ...createOpsActivities(deps),
    ...createAmplitudeIngestActivities(deps),
    ...createSegmentIngestActivities(deps, { handover: segmentHandover(deps.config, opts.segmentDelivery) }),
    ...createSegmentDeliveryActivities(deps, opts.segmentForward),
    ...createDriftRefusalActivities(deps),
    ...createBackfillActivities(deps),
    ...createTrackingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
