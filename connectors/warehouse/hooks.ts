export type WriteOp = 'appendBronze' | 'mergeSilver' | 'writeDeadLetters' | 'recordChecks' | 'writeTrackingViolations' | 'recordSchemaChanges';

/**
 * Test seam of both adapters. `beforeCommit` runs once a write is fully staged and just before it
 * becomes visible; whatever it throws must leave the warehouse as it was, which is how the contract
 * suite checks that a failure mid-batch never shows half a batch.
 */
export interface WarehouseHooks {
  beforeCommit?(op: WriteOp, table: string): void | Promise<void>;
}
