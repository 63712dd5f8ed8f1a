export { startSegmentEmulator, DEDUP_WINDOW_MS, type SegmentEmulator, type SegmentEmulatorOptions } from './server';
export { intake, SEGMENT_LIMITS, writeKeyFromAuthorization, deepMerge, type IntakeResult } from './intake';
export { InducedLoss, lostByRate, lossConfigSchema, type LossConfig, type LossConfigInput } from './loss';
export { SegmentStore, type MessageFilter, type RequestRecord, type DuplicateRecord, type DroppedCall } from './store';
export { WarehouseSync, castCell, type WarehouseTarget, type WarehouseTiming, type WarehouseStats } from './warehouse-sync';
export { warehouseRows, baseColumns, flatten, inferType, TABLE_OF, type TableRow, type WarehouseRow } from './warehouse-rows';
export { snakecase } from './snakecase';
export { CALL_TYPES, ROUTES, type CallType, type ReceivedCall, type RejectedCall, type Json, type JsonObject } from './types';
