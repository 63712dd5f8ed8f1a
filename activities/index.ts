import type { ActivityDeps } from './deps';
import { createSyncActivities } from './sync';

/** Every activity the worker registers; workflows import the type only. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSyncActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
