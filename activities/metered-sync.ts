import { PlatformMetrics, newestTimestamp } from '../lib/metrics';
import type { SyncActivities } from './sync-types';

/** The sync activities, counting what they move into the worker's Prometheus metrics. */
export function meterSyncActivities(acts: SyncActivities, metrics: PlatformMetrics | undefined): SyncActivities {
  if (!metrics) return acts;
  const flowOf = (stream: string) => stream.split('_')[0];
  return {
    ...acts,
    syncStreamPage: async (input) => {
      const page = await acts.syncStreamPage(input);
      const labels = { flow: flowOf(input.stream), stream: input.stream };
      metrics.records.inc({ ...labels, kind: 'read' }, page.read);
      metrics.records.inc({ ...labels, kind: 'written' }, page.written);
      metrics.records.inc({ ...labels, kind: 'sent' }, page.sent);
      metrics.records.inc({ ...labels, kind: 'rejected' }, page.rejected);
      return page;
    },
    finishStreamRun: async (summary) => {
      await acts.finishStreamRun(summary);
      const labels = { flow: summary.flow, stream: summary.stream };
      metrics.runs.inc({ ...labels, status: summary.status });
      const seconds = (Date.parse(summary.finishedAt) - Date.parse(summary.startedAt)) / 1000;
      if (Number.isFinite(seconds)) metrics.runDuration.observe({ ...labels, status: summary.status }, Math.max(0, seconds));
      const newest = newestTimestamp(summary.cursorAfter);
      if (newest !== undefined) metrics.cursorLag.set(labels, Math.max(0, (Date.now() - newest) / 1000));
    },
  };
}
