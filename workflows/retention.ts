import { proxyActivities } from '@temporalio/workflow';
import type { OpsActivities, RetentionResult } from '../activities/ops-types';

export interface RetentionInput {
  streams?: string[];
}

const { organizeTargets, purgeOldBronze } = proxyActivities<OpsActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5, nonRetryableErrorTypes: ['ConfigError', 'UnknownStream'] },
});

/**
 * The scheduled bronze clean-up (RETENTION_INTERVAL): deletes bronze rows older than
 * BRONZE_RETENTION. With BRONZE_RETENTION empty (the default) it keeps everything and says so.
 * Silver, ops tables and the batch ledger are never touched.
 */
export async function retentionWorkflow(input: RetentionInput = {}): Promise<RetentionResult> {
  const streams = input.streams ?? (await organizeTargets());
  return purgeOldBronze({ streams });
}
