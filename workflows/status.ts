import { proxyActivities } from '@temporalio/workflow';
import type { StatusActivities, WarehouseStatus } from '../activities/status-types';

const { collectSyncStatus } = proxyActivities<StatusActivities>({
  // A status answer is only useful now: a few quick tries, then the CLI reports the failure.
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
});

/**
 * What `npx novade status` reads from the warehouse. A workflow, so that the worker (the warehouse's
 * only writer) does the reading and the CLI never opens the DuckDB file itself.
 */
export async function statusWorkflow(): Promise<WarehouseStatus> {
  return collectSyncStatus();
}
