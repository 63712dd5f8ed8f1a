import type { ActivityDeps } from './deps';
import { createSyncActivities } from './sync';
import { createAmplitudeIngestActivities } from './amplitude-ingest';

/** Every activity the worker registers; workflows import the type only. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSyncActivities(deps),
    ...createAmplitudeIngestActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
