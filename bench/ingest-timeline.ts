import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { INGEST_FLUSH_ACTIVITY, ingestWorkflowPrefix, ingestWorkflowType, type IngestSource } from '../workflows/push-ingest-names';

/**
 * What the ingest workflows did and when, read back from their histories after a bench run: each
 * flush activity's execution (started -> completed, as the server dated them, or a local activity's
 * scheduled -> completed from its marker) and each run's start
 * (continue-as-new). Lined up with the seconds whose slowest answer passed 100 ms, it tells which
 * periodic work of the worker those seconds coincide with.
 */

export interface Interval {
  shard: string;
  start: number;
  end: number;
}

export interface IngestTimeline {
  flushes: Interval[];
  /** Epoch ms of each run's start after the first of its shard (a continue-as-new). */
  runStarts: { shard: string; at: number }[];
}

export async function readIngestTimeline(client: Client, since: number, source: IngestSource = 'amplitude'): Promise<IngestTimeline> {
  const prefix = `${ingestWorkflowPrefix(source)}-`;
  const flushes: Interval[] = [];
  const runStarts: IngestTimeline['runStarts'] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = '${ingestWorkflowType(source)}'` })) {
    const shard = wf.workflowId.replace(prefix, '');
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    const events = history.events ?? [];
    const started = new Map<string, number>();
    for (const e of events) {
      const at = tsToMs(e.eventTime);
      if (e.workflowExecutionStartedEventAttributes?.continuedExecutionRunId && at >= since) runStarts.push({ shard, at });
      if (e.activityTaskStartedEventAttributes) started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), at);
      const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
      if (done) {
        const start = started.get(String(done.scheduledEventId));
        if (start !== undefined && at >= since) flushes.push({ shard, start, end: at });
      }
      // Flushes run as local activities since the workflow's LOCAL_BATCHING patch: a marker per attempt.
      const la = e.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? localActivityMarker(e.markerRecordedEventAttributes.details?.data?.payloads?.[0]?.data) : undefined;
      if (la?.activityType === INGEST_FLUSH_ACTIVITY[source] && la.start !== undefined && la.end !== undefined && la.end >= since) flushes.push({ shard, start: la.start, end: la.end });
    }
  }
  return { flushes, runStarts };
}

/** The Temporal core's local activity marker data (JSON): type, first schedule and completion times. */
export function localActivityMarker(data: Uint8Array | null | undefined): { activityType?: string; start?: number; end?: number } | undefined {
  if (!data) return undefined;
  try {
    const m = JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, unknown>;
    const ms = (t: unknown): number | undefined => {
      if (typeof t === 'string') return Date.parse(t);
      if (t && typeof t === 'object' && 'seconds' in t) return Number((t as { seconds: unknown }).seconds) * 1000 + Number((t as { nanos?: unknown }).nanos ?? 0) / 1e6;
      return undefined;
    };
    return { activityType: typeof m.activity_type === 'string' ? m.activity_type : undefined, start: ms(m.original_schedule_time), end: ms(m.complete_time) };
  } catch {
    return undefined;
  }
}

/** Milliseconds of [from, to) covered by the union of `intervals` (overlapping flushes of several shards count once). */
export function coveredMs(intervals: { start: number; end: number }[], from: number, to: number): number {
  const clipped = intervals
    .map((i) => ({ start: Math.max(i.start, from), end: Math.min(i.end, to) }))
    .filter((i) => i.end > i.start)
    .sort((a, b) => a.start - b.start);
  let total = 0;
  let reach = from;
  for (const i of clipped) {
    const start = Math.max(i.start, reach);
    if (i.end > start) total += i.end - start;
    reach = Math.max(reach, i.end);
  }
  return total;
}

export interface SecondAttribution {
  second: number;
  /** Flushes running at some point of the second, the time at least one ran, and the longest of them (whole duration). */
  flushes: number;
  flushBusyMs: number;
  longestFlushMs: number;
  checkpoint: boolean;
  continueAsNew: string[];
}

/** Per second since `start`: the flushes, checkpoints and continue-as-new that fell in it. */
export function attribute(t: IngestTimeline, checkpoints: { at: number }[], start: number, seconds: number): SecondAttribution[] {
  return Array.from({ length: seconds }, (_, s) => {
    const from = start + 1000 * s;
    const to = from + 1000;
    const running = t.flushes.filter((f) => f.end > from && f.start < to);
    return {
      second: s,
      flushes: running.length,
      flushBusyMs: Math.round(coveredMs(running, from, to)),
      longestFlushMs: Math.round(Math.max(0, ...running.map((f) => f.end - f.start))),
      checkpoint: checkpoints.some((c) => c.at >= from && c.at < to),
      continueAsNew: t.runStarts.filter((r) => r.at >= from && r.at < to).map((r) => r.shard),
    };
  });
}

/** Mean of `pick` over the seconds that stalled and over the others: does the work go with the stalls? */
export function compareStalls(seconds: SecondAttribution[], stalled: Set<number>, pick: (a: SecondAttribution) => number): { stalled: number; other: number } {
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  return {
    stalled: mean(seconds.filter((a) => stalled.has(a.second)).map(pick)),
    other: mean(seconds.filter((a) => !stalled.has(a.second)).map(pick)),
  };
}
