import type { SegmentDestination } from '../workflows/segment-delivery-names';

/** What crosses the delivery workflow -> activity boundary: batch ids, never calls. */
export interface DeliverInput {
  destination: SegmentDestination;
  /** Ingest batch ids (`_batch_id` of bronze.segment_live_events), oldest first. */
  batchIds: string[];
}

export interface DeliverResult {
  batches: number;
  calls: number;
  /** Accepted by the destination (or already acknowledged by an earlier attempt). */
  sent: number;
  /** Refused for good (mapping or destination): dead-lettered with the reason. */
  rejected: number;
  /** Batch ids with no rows in bronze (purged by retention before delivery). */
  missing: number;
  /** Calls not sent because the destination is switched off (SEGMENT_FORWARD=off). */
  skipped: number;
}

export interface SegmentDeliveryActivities {
  deliverSegmentBatches(input: DeliverInput): Promise<DeliverResult>;
}
