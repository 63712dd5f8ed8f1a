import { Context } from '@temporalio/activity';
import type { AppConfig } from '../config/config';
import type { DeliveryInput, DeliverySettings } from '../workflows/segment-delivery';
import { deliveryWorkflowId, ingestPrefixOf, SEGMENT_BATCHES_SIGNAL, SEGMENT_DELIVERY_WORKFLOW, type SegmentDestination } from '../workflows/segment-delivery-names';
import type { SegmentBatchHandover } from './segment-ingest';

/**
 * Hands a flushed Segment batch to the delivery workflow of each destination (signal-with-start, from
 * the flush activity: it runs on the worker, whose client it uses). Amplitude always; Segment while
 * dual tracking is on (SEGMENT_FORWARD), so switching it off stops new forwards at once. The delivery
 * workflows sit next to the shard that flushed (`<prefix>-deliver-<destination>`) on its task queue.
 */
export function segmentHandover(config: Pick<AppConfig, 'segment'>, settings?: Partial<DeliverySettings>): (batch: SegmentBatchHandover) => Promise<void> {
  return async ({ batchId }) => {
    const ctx = Context.current();
    const { workflowExecution, taskQueue } = ctx.info;
    if (!workflowExecution) throw new Error('the Segment flush hands over from a workflow activity: it has no workflow to name the delivery after');
    const prefix = ingestPrefixOf(workflowExecution.workflowId);
    const destinations: SegmentDestination[] = config.segment.forward.enabled ? ['amplitude', 'segment'] : ['amplitude'];
    await Promise.all(
      destinations.map((destination) =>
        ctx.client.workflow.signalWithStart(SEGMENT_DELIVERY_WORKFLOW, {
          workflowId: deliveryWorkflowId(prefix, destination),
          taskQueue,
          args: [{ destination, ...(settings ? { settings } : {}) } satisfies DeliveryInput],
          signal: SEGMENT_BATCHES_SIGNAL,
          signalArgs: [{ batchIds: [batchId] }],
        }),
      ),
    );
  };
}
