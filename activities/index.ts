import type { ActivityDeps } from './deps';
import { createSyncActivities } from './sync';
import { createStatusActivities } from './status';
import { meterSyncActivities } from './metered-sync';
import { createOpsActivities } from './ops';
import { createAmplitudeIngestActivities } from './amplitude-ingest';
import { createBackfillActivities } from './backfill';
import { createTrackingActivities } from './tracking';

/** Every activity the worker registers; workflows import the type only. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createStatusActivities(deps),
    ...meterSyncActivities(createSyncActivities(deps), deps.metrics),
    ...createOpsActivities(deps),
    ...createAmplitudeIngestActivities(deps),
    ...createBackfillActivities(deps),
    ...createTrackingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
