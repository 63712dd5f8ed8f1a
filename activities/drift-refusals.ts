import type { DeadLetter } from '../connectors/warehouse/types';
import type { ActivityDeps } from './deps';
import { alwaysRetried } from './failures';
import type { FlushInput, FlushResult, PushIngestActivities, RejectedEvent } from './push-ingest-types';

export const DRIFT_FLOW = 'drift';
/** Dead letters of Drift webhook requests refused for their content. */
export const DRIFT_WEBHOOK_STREAM = 'drift_webhook';

function deadLetter(r: RejectedEvent): DeadLetter {
  // The id follows the record key (a digest of the body): Drift redelivering the same refused body records nothing new.
  return { flow: DRIFT_FLOW, stream: DRIFT_WEBHOOK_STREAM, recordKey: r.recordKey, reason: r.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; '), payload: r.payload, id: `${DRIFT_WEBHOOK_STREAM}:${r.recordKey}` };
}

/**
 * The Drift source's flush on the shared push-ingest path. Accepted Drift events never travel here
 * (they start a targeted read, workflows/drift-webhook.ts): only the requests the webhook refused
 * with a 400 do, so that they land in ops.dead_letters like the Amplitude and Segment refusals.
 */
export function createDriftRefusalActivities(deps: Pick<ActivityDeps, 'warehouse' | 'log'>): Pick<PushIngestActivities, 'flushDriftRefusals'> {
  return {
    flushDriftRefusals: (input: FlushInput): Promise<FlushResult> =>
      alwaysRetried(async () => {
        const deadLettered = input.rejected.length ? await deps.warehouse.writeDeadLetters(input.rejected.map(deadLetter)) : 0;
        deps.log.debug({ batchId: input.batchId, deadLettered }, 'refused drift webhook requests dead-lettered');
        return { appended: 0, alreadyLoaded: false, inserted: 0, updated: 0, unchanged: 0, deadLettered };
      }),
  };
}
