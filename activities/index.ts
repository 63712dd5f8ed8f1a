import type { ActivityDeps } from './deps';
import { createSyncActivities } from './sync';
import { createBackfillActivities } from './backfill';

/** Every activity the worker registers; workflows import the type only. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSyncActivities(deps),
    ...createBackfillActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
