import type { ActivityDeps } from './deps';
import { createSyncActivities } from './sync';
import { createStatusActivities } from './status';

/** Every activity the worker registers; workflows import the type only. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSyncActivities(deps),
    ...createStatusActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
