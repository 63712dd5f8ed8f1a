import { condition, continueAsNew, defineQuery, defineSignal, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { DeliverResult, SegmentDeliveryActivities } from '../activities/segment-delivery-types';
import { addBatchId, emptyBatchIdSet, markDelivered, pendingCount, pruneBatchIds, takeBatchIds, type BatchIdSet } from './batch-id-set';
import { SEGMENT_BATCHES_SIGNAL, SEGMENT_DELIVERY_STATUS_QUERY, type SegmentDestination } from './segment-delivery-names';

/**
 * The outbox of one destination (Amplitude, or Segment while dual tracking is on) for collected
 * Segment calls. Why a workflow of its own per destination, fed batch ids:
 * - Acknowledgements never wait for a destination: the ingest shards flush to the warehouse and hand
 *   the batch id over (a signal from the flush activity), whatever state Amplitude or Segment is in.
 *   A destination outage only grows this workflow's pending set.
 * - The history carries batch ids, not calls: the activity reads the calls back from bronze, where
 *   the flush put them before handing over. Ids are stored as ranges (batch-id-set.ts), so hours of
 *   outage still fit in a continue-as-new.
 * - Exactly once in effect: an id handed over twice (a retried flush) is recognised; an activity
 *   retried after a partial delivery skips the batches its heartbeats recorded, and the destinations
 *   deduplicate the rest (Amplitude on insert_id seg:<messageId>, Segment on messageId).
 * - Each destination is retried alone, by Temporal, with no limit on attempts (the calls are already
 *   acknowledged to the site), honouring the Retry-After of a 429.
 */

export interface DeliveryTotals extends Omit<DeliverResult, 'batches'> {
  batches: number;
  deliveries: number;
  /** Handovers of an id already held (a retried flush). */
  repeats: number;
}

export interface DeliveryStatus extends DeliveryTotals {
  destination: SegmentDestination;
  pending: number;
  runs: number;
}

export interface DeliverySettings {
  /** Batch ids per activity (an ingest batch holds up to 1,000 calls). */
  maxBatchesPerDelivery: number;
  /** Continue-as-new after this many history events even if the server does not suggest it yet. */
  maxHistoryEvents: number;
  /** Delivered ingest runs remembered, to recognise a repeated handover. */
  keepRuns: number;
  activityTimeout: Duration;
  heartbeatTimeout: Duration;
}

export const DELIVERY_DEFAULTS: DeliverySettings = { maxBatchesPerDelivery: 20, maxHistoryEvents: 5_000, keepRuns: 200, activityTimeout: '10 minutes', heartbeatTimeout: '1 minute' };

export interface DeliveryInput {
  destination: SegmentDestination;
  settings?: Partial<DeliverySettings>;
  carry?: { ids: BatchIdSet; totals: DeliveryTotals; runs: number };
}

export const segmentBatchesSignal = defineSignal<[{ batchIds: string[] }]>(SEGMENT_BATCHES_SIGNAL);
export const segmentDeliveryStatusQuery = defineQuery<DeliveryStatus>(SEGMENT_DELIVERY_STATUS_QUERY);

export async function segmentDeliveryWorkflow(input: DeliveryInput): Promise<void> {
  const s: DeliverySettings = { ...DELIVERY_DEFAULTS, ...input.settings };
  const { deliverSegmentBatches } = proxyActivities<SegmentDeliveryActivities>({
    startToCloseTimeout: s.activityTimeout,
    heartbeatTimeout: s.heartbeatTimeout,
    // No maximumAttempts: the calls are acknowledged, an outage only delays them.
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
  const ids = input.carry?.ids ?? emptyBatchIdSet();
  const totals: DeliveryTotals = input.carry?.totals ?? { batches: 0, calls: 0, sent: 0, rejected: 0, missing: 0, skipped: 0, deliveries: 0, repeats: 0 };
  const runs = (input.carry?.runs ?? 0) + 1;

  setHandler(segmentBatchesSignal, ({ batchIds }) => {
    for (const id of batchIds) if (!addBatchId(ids, id)) totals.repeats++;
  });
  setHandler(segmentDeliveryStatusQuery, () => ({ destination: input.destination, ...totals, pending: pendingCount(ids), runs }));

  for (;;) {
    await condition(() => pendingCount(ids) > 0);
    const batchIds = takeBatchIds(ids, s.maxBatchesPerDelivery);
    const r = await deliverSegmentBatches({ destination: input.destination, batchIds });
    markDelivered(ids, batchIds);
    pruneBatchIds(ids, s.keepRuns);
    totals.deliveries++;
    totals.batches += r.batches;
    totals.calls += r.calls;
    totals.sent += r.sent;
    totals.rejected += r.rejected;
    totals.missing += r.missing;
    totals.skipped += r.skipped;
    const info = workflowInfo();
    // A signal racing this makes the server refuse it and replay the task with the signal handled, so it is in the carry.
    if (info.continueAsNewSuggested || info.historyLength >= s.maxHistoryEvents)
      await continueAsNew<typeof segmentDeliveryWorkflow>({ destination: input.destination, settings: input.settings, carry: { ids, totals, runs } });
  }
}
