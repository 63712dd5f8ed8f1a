/** Names shared by the Segment delivery workflows and what signals them (the Segment flush activity). */
export const SEGMENT_DELIVERY_WORKFLOW = 'segmentDeliveryWorkflow';
export const SEGMENT_BATCHES_SIGNAL = 'segmentBatches';
export const SEGMENT_DELIVERY_STATUS_QUERY = 'segmentDeliveryStatus';

/** Where collected Segment calls go after the warehouse. */
export type SegmentDestination = 'amplitude' | 'segment';
export const SEGMENT_DESTINATIONS: readonly SegmentDestination[] = ['amplitude', 'segment'];

/**
 * One delivery workflow per destination and ingest: `<ingest prefix>-deliver-<destination>`, e.g.
 * `segment-ingest-deliver-amplitude` next to the shards `segment-ingest-<n>`.
 */
export function deliveryWorkflowId(ingestPrefix: string, destination: SegmentDestination): string {
  return `${ingestPrefix}-deliver-${destination}`;
}

/** The ingest prefix of a shard's workflow id (`segment-ingest-3` -> `segment-ingest`). */
export function ingestPrefixOf(shardWorkflowId: string): string {
  return shardWorkflowId.replace(/-\d+$/, '');
}
