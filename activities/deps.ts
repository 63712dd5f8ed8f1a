import type { AppConfig } from '../config/config';
import type { Logger } from '../config/logger';
import type { SalesforceDescriber } from '../connectors/salesforce/describe';
import type { Warehouse } from '../connectors/warehouse/types';
import type { PlatformMetrics } from '../lib/metrics';
import type { EventSink } from '../ports/event-sink';
import type { SourceName, SourceReader } from '../ports/source-reader';
import type { StreamDeclaration } from '../streams/types';
import type { CompiledPlan } from '../tracking/plan-compile';
import type { StreamsFile } from '../streams/config/schema';

/** Everything activities need, built once per worker process (workers/deps.ts). */
export interface ActivityDeps {
  config: AppConfig;
  log: Logger;
  warehouse: Warehouse;
  /** The streams file the declarations were built from (STREAMS_FILE). */
  streamsFile: StreamsFile;
  streams: ReadonlyMap<string, StreamDeclaration>;
  readers: Partial<Record<SourceName, SourceReader>>;
  sink: EventSink;
  /** The worker's Prometheus metrics (lib/metrics.ts); activities keep their own when absent. */
  metrics?: PlatformMetrics;
  /** Salesforce describe, for streams whose fields come from it (streams/schema-sync.ts). */
  describer?: SalesforceDescriber;
  /** The tracking plan website calls are checked against (TRACKING_PLAN_DIR); none: calls are not checked. */
  trackingPlan?: CompiledPlan;
}
