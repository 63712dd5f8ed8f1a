import { STREAMS_BY_SOURCE, type SyncSource } from './names';
import { driftStreamEnabled } from './drift';
import { defaultSalesforceStreamName, type StreamsFile } from './config/schema';

/**
 * The streams a scheduled run of each source syncs, in order, from the streams file: Salesforce
 * objects in the file's order (list accounts before the contacts that reference them), Drift's
 * REST streams in their fixed order (contacts first, so the others find the visitor's email),
 * minus those turned off. Workflows receive this list from an activity; they never read the file.
 */
export function syncStreamsOf(file: StreamsFile, source: SyncSource): string[] {
  if (source === 'salesforce') return (file.salesforce?.objects ?? []).map((o) => o.stream ?? defaultSalesforceStreamName(o.object));
  return STREAMS_BY_SOURCE.drift.filter((s) => driftStreamEnabled(file.drift, s));
}

export function syncStreamsBySource(file: StreamsFile): Record<SyncSource, string[]> {
  return { salesforce: syncStreamsOf(file, 'salesforce'), drift: syncStreamsOf(file, 'drift') };
}
