import { proxyActivities } from '@temporalio/workflow';
import type { DraftInput, ParityInput, TrackingActivities, ViolationsInput, ViolationsReport } from '../activities/tracking-types';
import type { DraftStats } from '../tracking/draft';
import type { ParityReport } from '../tracking/parity';

/**
 * What `npx novade tracking plan draft | violations | parity` read. Workflows, so that the worker
 * (the warehouse's only writer) does the reading and the CLI never opens the DuckDB file itself.
 * A read that fails for a reason a retry cannot fix (a bad range) fails at once.
 */
const reads = proxyActivities<Pick<TrackingActivities, 'draftTrackingPlan' | 'trackingViolations' | 'trackingParity'>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidRequest', 'ConfigError'] },
});

export async function trackingDraftWorkflow(input: DraftInput): Promise<DraftStats> {
  return reads.draftTrackingPlan(input);
}

export async function trackingViolationsWorkflow(input: ViolationsInput): Promise<ViolationsReport> {
  return reads.trackingViolations(input);
}

export async function trackingParityWorkflow(input: ParityInput): Promise<ParityReport> {
  return reads.trackingParity(input);
}
