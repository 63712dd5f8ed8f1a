import { condition, continueAsNew, defineQuery, defineSignal, patched, proxyActivities, proxyLocalActivities, setHandler, sleep, workflowInfo, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { IngestSignal, PushIngestActivities, RejectedEvent } from '../activities/push-ingest-types';
import { INGEST_EVENTS_SIGNAL, INGEST_FLUSH_ACTIVITY, INGEST_STATUS_QUERY, type IngestSource } from './push-ingest-names';

export const ingestEventsSignal = defineSignal<[IngestSignal]>(INGEST_EVENTS_SIGNAL);

export interface IngestTotals {
  received: number;
  rejected: number;
  flushed: number;
  flushes: number;
}

export interface IngestStatus extends IngestTotals {
  /** Accepted by Temporal, not yet in silver (buffered or being flushed). */
  pending: number;
  runs: number;
}

export const ingestStatusQuery = defineQuery<IngestStatus>(INGEST_STATUS_QUERY);

export interface IngestSettings {
  /** Flush once this many events are buffered... */
  maxBatch: number;
  /** A flush carries at most about this many bytes of JSON: activity inputs must stay under Temporal's 2 MB payload limit. */
  maxBatchBytes: number;
  /** ...or once the oldest buffered event has waited this long. */
  maxAgeMs: number;
  /** Continue-as-new after this many history events even if the server does not suggest it yet. */
  maxHistoryEvents: number;
  /**
   * ...or this many history bytes. When a signal races the continue-as-new, the server refuses the
   * completion, the worker replays the whole run and signals wait meanwhile ("workflow is closing"):
   * the smaller the run, the shorter that wait. Events cross the history once (their signal; before
   * LOCAL_BATCHING also the flush activity's input).
   */
  maxHistoryBytes: number;
  /** Activity timeout of one flush; tests shorten it so a killed worker's flush is retried quickly. */
  flushTimeout: Duration;
}

// Patch ids keep the names the Amplitude source's histories recorded; they apply to every source.
const CAN_ON_HISTORY_BYTES = 'amplitude-ingest-continue-as-new-on-history-bytes';
const LARGER_RUNS = 'amplitude-ingest-larger-flushes-and-runs';
const LOCAL_BATCHING = 'amplitude-ingest-local-batching';
/** Segment's shards batch locally too, now that the webhook bounds what may wait for one shard's task. */
const SEGMENT_LOCAL_BATCHING = 'segment-ingest-local-batching';
/** A quarter of the server's limits on what may wait for one workflow task (see the gather). */
const GATHER_SIGNALS = 25;
const GATHER_BYTES = 512 * 1024;
const MIN_GATHER_MS = 50;

/**
 * Each flush costs a (local) activity, a workflow task or two, a bronze append and a silver MERGE whatever its
 * size, and each run a continue-as-new (with a replay whenever a signal races it): at 1,000 events/s
 * on 2 shared cores, rarer flushes and longer runs leave more CPU for the acknowledgements. A race no
 * longer holds acknowledgements (the webhook sends refused signals to another shard), so the run's
 * length no longer shows in the latency.
 */
export const INGEST_DEFAULTS: IngestSettings = { maxBatch: 1_000, maxBatchBytes: 1_000_000, maxAgeMs: 2_000, maxHistoryEvents: 10_000, maxHistoryBytes: 2_000_000, flushTimeout: '2 minutes' };
/** Runs started before LARGER_RUNS replay with the defaults they ran with. */
const INGEST_DEFAULTS_BEFORE_LARGER_RUNS: IngestSettings = { ...INGEST_DEFAULTS, maxBatch: 500, maxAgeMs: 1_000, maxHistoryEvents: 5_000, maxHistoryBytes: 1_000_000 };

/** UTF-8 size of a string, without Node's Buffer (not available to workflow code). */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export interface IngestInput {
  shard: number;
  /**
   * Whose events this shard holds; decides the flush activity. Absent means Amplitude: shards started
   * before other sources existed carry no source, and Amplitude's starts still leave it out.
   */
  source?: IngestSource;
  settings?: Partial<IngestSettings>;
  /** What the previous run hands over at continue-as-new: events that arrived during its last flush. */
  carry?: { events: IngestSignal['events']; rejected: RejectedEvent[]; totals: IngestTotals; runs: number };
}

/**
 * One shard of a push source's ingest (DESIGN.md, "Ingest path"). The endpoint signals-with-start it
 * and acknowledges once the signal is accepted, so every acknowledged event is in this workflow's
 * history until a flush has written it to bronze and silver. Runs forever, continuing as new before
 * its history grows large. One implementation for every source: only the flush activity differs.
 */
export async function pushIngestWorkflow(input: IngestInput): Promise<void> {
  // patched() before any command: a replay of an older run takes the old branch, a new run records the marker.
  const s: IngestSettings = { ...(patched(LARGER_RUNS) ? INGEST_DEFAULTS : INGEST_DEFAULTS_BEFORE_LARGER_RUNS), ...input.settings };
  /**
   * Since LOCAL_BATCHING, after each flush the workflow keeps its task open for the batch age with a
   * local activity that only waits (the gather), and flushes in local activities too. The server
   * starts a workflow task for each signal that reaches a workflow with no task open, and holds the
   * others for the next one: with a timer instead, every signal (about 30 a second at 1,000 events/s)
   * cost a workflow task on the server and the worker, and signals waited for the workflow behind
   * them. That, not CPU, set the webhook's p99 (worker stopped: 44 ms; running: 140-170 ms with a core
   * idle). The batch also no longer crosses the history a second time as an activity input.
   *
   * A task held open by local activities is force-closed by the server once more than 100 signals or
   * 2 MiB of them wait for it, and the worker then carries the local activity in flight over into the
   * next task, where the replay (which never saw the failed task) takes its decisions on other inputs:
   * a nondeterminism error on every later attempt, and the shard stops flushing. The webhook's
   * admission control (webhook/temporal-ingest.ts) keeps what it sends one shard within any window
   * longer than a task can stay open well under both limits, so neither is reached. Segment's shards
   * batch locally since SEGMENT_LOCAL_BATCHING; runs started before it flush with a timer and regular
   * activities (a workflow task per signal, each flush's calls crossing the history a second time).
   */
  // Drift's shard carries only refused requests, a few a day: it keeps the timer.
  const source = input.source ?? 'amplitude';
  const localBatching = source === 'amplitude' ? patched(LOCAL_BATCHING) : source === 'segment' ? patched(SEGMENT_LOCAL_BATCHING) : false;
  // No maximumAttempts: never give up on acknowledged events, a warehouse outage only delays them.
  const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;
  const flushes = localBatching
    ? proxyLocalActivities<PushIngestActivities>({ startToCloseTimeout: s.flushTimeout, retry } satisfies LocalActivityOptions)
    : proxyActivities<PushIngestActivities>({ startToCloseTimeout: s.flushTimeout, retry } satisfies ActivityOptions);
  const flush = flushes[INGEST_FLUSH_ACTIVITY[input.source ?? 'amplitude']];
  const { gatherSignals } = proxyLocalActivities<PushIngestActivities>({ startToCloseTimeout: s.maxAgeMs + 10_000, retry } satisfies LocalActivityOptions);

  const events: IngestSignal['events'] = [...(input.carry?.events ?? [])];
  const rejected: RejectedEvent[] = [...(input.carry?.rejected ?? [])];
  const totals: IngestTotals = { ...(input.carry?.totals ?? { received: 0, rejected: 0, flushed: 0, flushes: 0 }) };
  const runs = (input.carry?.runs ?? 0) + 1;
  let inFlight = 0;
  // An event's size is measured once: the same events are measured again by the carry check after
  // each flush, and stringifying them was a visible share of the worker's workflow thread.
  const sizes = new WeakMap<object, number>();
  const sizeOf = (item: object): number => {
    let n = sizes.get(item);
    if (n === undefined) sizes.set(item, (n = utf8Length(JSON.stringify(item))));
    return n;
  };
  /** Signals (and their bytes) delivered since the last gather began: what the server buffered meanwhile. */
  let arrived = { signals: 0, bytes: 0 };

  setHandler(ingestEventsSignal, (sig) => {
    events.push(...sig.events);
    rejected.push(...sig.rejected);
    totals.received += sig.events.length;
    totals.rejected += sig.rejected.length;
    if (localBatching) {
      arrived.signals++;
      for (const e of sig.events) arrived.bytes += sizeOf(e);
      for (const r of sig.rejected) arrived.bytes += sizeOf(r);
    }
  });
  setHandler(ingestStatusQuery, () => ({ ...totals, pending: events.length + rejected.length + inFlight, runs }));

  // Shards fill at the same pace: staggered limits keep their continue-as-new (and the replays a race
  // with a signal causes) from landing in the same second.
  const historyBytesLimit = s.maxHistoryBytes * (1 + (input.shard % 4) / 8);
  let seq = 0;
  let gatherMs = s.maxAgeMs;
  const pending = () => events.length + rejected.length;
  /** How many leading items of `list` fit in one flush (at least one, so a big event still moves). */
  const fitting = <T extends object>(list: T[], budget: number): number => {
    let n = 0;
    let bytes = 0;
    while (n < list.length && n < s.maxBatch) {
      bytes += sizeOf(list[n]);
      if (n > 0 && bytes > budget) break;
      n++;
    }
    return n;
  };
  /**
   * Continues as new when the history is due for it, carrying what is left of a partial batch.
   * Returns whether it was due but the buffer too large to carry (a backlog to drain first).
   */
  const continueIfDue = async (): Promise<boolean> => {
    const info = workflowInfo();
    // Carry at most a partial batch: a large carry could exceed Temporal's payload limit, so a backlog
    // (after an outage) is drained in this run first.
    const small = events.length < s.maxBatch && rejected.length < s.maxBatch && fitting(events, s.maxBatchBytes) === events.length && fitting(rejected, s.maxBatchBytes / 2) === rejected.length;
    // patched(): runs started before this limit existed replay without it (no nondeterminism).
    const bytesDue = info.historySize >= historyBytesLimit && patched(CAN_ON_HISTORY_BYTES);
    const due = info.continueAsNewSuggested || info.historyLength >= s.maxHistoryEvents || bytesDue;
    if (small && due) {
      // A signal that lands while this task completes makes the server refuse the continue-as-new;
      // the task is replayed with that signal handled first, so it is in `carry`, never dropped.
      await continueAsNew<typeof pushIngestWorkflow>({ shard: input.shard, ...(input.source ? { source: input.source } : {}), settings: input.settings, carry: { events, rejected, totals, runs } });
    }
    return due;
  };
  /**
   * Completes the workflow task (a 1 ms timer) so that the server delivers what it holds. Since
   * LOCAL_BATCHING a task stays open through its flushes, and two server rules make a long one costly:
   * after a refused continue-as-new the server refuses every signal to the run ("workflow is closing")
   * until the next task completes, and it force-closes a task (its local activities then run again)
   * once more than 100 signals wait for it. A backlog (after an outage, or a worker killed mid-task)
   * is therefore drained one flush per task, and a task that finds a continue-as-new due but cannot
   * carry the buffer hands the task back before its first flush.
   */
  const yieldTask = () => sleep(1);
  for (;;) {
    await condition(() => pending() > 0);
    // Since LOCAL_BATCHING the task stays open through the flush and the gather, and signals wait on
    // the server meanwhile: a continue-as-new there is refused and replayed. At the start of a task
    // they have just been delivered, so that is where it is tried; not before the run's first flush,
    // or a run started with a carry larger than its history allowance would only pass it on.
    if (localBatching && seq > 0 && (await continueIfDue())) await yieldTask();
    // Age is measured with a workflow timer from the first buffered event (since LOCAL_BATCHING: by the gather below), never with the clock.
    if (!localBatching) await condition(() => events.length >= s.maxBatch, s.maxAgeMs);
    while (pending() > 0) {
      const batchEvents = events.splice(0, fitting(events, s.maxBatchBytes));
      const batch = { events: batchEvents, rejected: rejected.splice(0, fitting(rejected, s.maxBatchBytes / 2)) };
      inFlight = batch.events.length + batch.rejected.length;
      const info = workflowInfo();
      await flush({ batchId: `${info.workflowId}:${info.runId}:${seq++}`, ...batch });
      inFlight = 0;
      totals.flushed += batch.events.length;
      totals.flushes++;
      // Drain only full batches now; a partial remainder waits for its own age or count.
      if (events.length < s.maxBatch) break;
      if (localBatching) await yieldTask();
    }
    if (!localBatching) {
      await continueIfDue();
    } else {
      // The server force-closes a task once more than 100 signals or 2 MiB wait for it
      // (history.maximumBufferedEventsBatch / maximumBufferedEventsSizeInBytes): the gather shortens
      // while the last one brought more than a quarter of either, and grows back to the batch age.
      const load = Math.max(arrived.signals / GATHER_SIGNALS, arrived.bytes / GATHER_BYTES);
      gatherMs = load > 1 ? Math.max(MIN_GATHER_MS, Math.floor(gatherMs / load)) : Math.min(s.maxAgeMs, gatherMs * 2);
      arrived = { signals: 0, bytes: 0 };
      await gatherSignals(gatherMs);
    }
  }
}

/**
 * The Amplitude source's shards run under this name (recorded histories and running shards hold it);
 * the same function as pushIngestWorkflow.
 */
export const amplitudeIngestWorkflow = pushIngestWorkflow;

/** The former Amplitude-only names of these types. */
export type AmplitudeIngestInput = IngestInput;
export type AmplitudeIngestSettings = IngestSettings;
export type AmplitudeIngestStatus = IngestStatus;
export type AmplitudeIngestTotals = IngestTotals;
