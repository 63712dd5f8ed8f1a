import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { FlushInput, FlushResult, IngestSignal, PushIngestActivities } from '../../activities/push-ingest-types';
import { IngestBusyError, TemporalIngest, type TemporalIngestOptions } from '../../webhook/temporal-ingest';
import { ingestWorkflowId } from '../../workflows/push-ingest-names';
import { temporalSuite } from '../helpers/temporal-suite';

/**
 * Admission control against the hazard of local batching, on the real dev server and workflow bundle:
 * a shard's first flush (a local activity) is held for 6 s, its workflow task open all along, while
 * 40 requests of about 100 KB each (4 MB) are sent to that shard. Temporal force-closes a task once more
 * than 2 MiB of signals wait for it, and a shard whose local flush was in flight then fails every later
 * task with a nondeterminism error ("Missing associated machine for LocalActivity"): its acknowledged
 * calls stay in its history, never flushed. With admission control the webhook's client sends the shard
 * at most 1 MiB per 10 s, the other requests wait and are refused (IngestBusyError, the routes' 503 +
 * Retry-After) after the admission wait, and every request acknowledged reaches the flush.
 */

const EventType = temporal.api.enums.v1.EventType;

const suite = temporalSuite();

const REQUESTS = 40;
const CALLS_PER_REQUEST = 10;
/** About 10 KB per call: one request weighs about 100 KB as a signal. */
const FILLER = 'x'.repeat(10_000);
const HOLD_MS = 6_000;

/** A flush that records what it got; the first one is held, so the task stays open while requests pile up. */
function flushActivities(): { activities: PushIngestActivities; flushed: Set<string> } {
  const flushed = new Set<string>();
  let first = true;
  const flush = async (input: FlushInput): Promise<FlushResult> => {
    if (first) {
      first = false;
      await new Promise((r) => setTimeout(r, HOLD_MS));
    }
    for (const e of input.events) flushed.add(String(e.messageId));
    return { appended: input.events.length, alreadyLoaded: false, inserted: input.events.length, updated: 0, unchanged: 0, deadLettered: 0 };
  };
  return {
    flushed,
    activities: { flushAmplitudeEvents: flush, flushSegmentCalls: flush, flushDriftRefusals: flush, gatherSignals: (ms: number) => new Promise((r) => setTimeout(r, ms)) },
  };
}

async function run(admission: TemporalIngestOptions['admission']) {
  const taskQueue = `ingest-admission-${randomUUID()}`;
  const prefix = `admission-${randomUUID().slice(0, 8)}`;
  const { activities, flushed } = flushActivities();
  const worker = await Worker.create({ connection: suite.env.nativeConnection, taskQueue, workflowBundle: suite.bundle, activities, stickyQueueScheduleToStartTimeout: '1s' });
  const running = worker.run();
  const ingest = new TemporalIngest({ client: suite.env.client, taskQueue, source: 'segment', workflowIdPrefix: prefix, shards: 1, lingerMs: 0, admission });
  const handle = suite.env.client.workflow.getHandle(ingestWorkflowId(prefix, 0));
  const send = (n: number) => {
    const events = Array.from({ length: CALLS_PER_REQUEST }, (_, i) => ({ messageId: `m-${n}-${i}`, type: 'track', filler: FILLER }));
    const signal = { events, rejected: [] };
    return ingest.submit(signal, { key: `k-${n}`, bytes: Buffer.byteLength(JSON.stringify(signal)) }).then(
      () => ({ n, ok: true as const }),
      (err: unknown) => ({ n, ok: false as const, err }),
    );
  };
  try {
    // The first request starts the shard; its flush is then held with the task open.
    expect((await send(0)).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 2_500));
    const outcomes = [{ n: 0, ok: true as const }, ...(await Promise.all(Array.from({ length: REQUESTS - 1 }, (_, i) => send(i + 1))))];
    const acked = outcomes.filter((o) => o.ok).flatMap((o) => Array.from({ length: CALLS_PER_REQUEST }, (_, i) => `m-${o.n}-${i}`));
    const refused = outcomes.filter((o) => !o.ok).map((o) => (o as { err: unknown }).err);
    // Durable progress is what the history records, not what a local activity saw: a local flush run
    // inside a task the server then refuses is run again. Wait until the history holds every
    // acknowledged request and a task completed after them, or give up (the shard is stuck).
    const deadline = Date.now() + 30_000;
    let progress = { recorded: new Set<string>(), failedTasks: 0, completedAfter: false };
    const isDurable = () => progress.completedAfter && acked.every((id) => progress.recorded.has(id) && flushed.has(id));
    while (Date.now() < deadline) {
      const events = (await handle.fetchHistory()).events ?? [];
      const recorded = new Set<string>();
      let completedAfter = false;
      for (const e of events) {
        const payload = e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
        if (payload) {
          completedAfter = false;
          for (const ev of defaultPayloadConverter.fromPayload<IngestSignal>(payload).events) recorded.add(String(ev.messageId));
        }
        if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) completedAfter = true;
      }
      progress = { recorded, failedTasks: events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).length, completedAfter };
      if (isDurable()) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    if (process.env.DUMP_HISTORY) {
      const h = await handle.fetchHistory();
      console.log((h.events ?? []).map((e) => `${e.eventId} ${EventType[e.eventType ?? 0]} ${JSON.stringify(e.workflowTaskFailedEventAttributes ?? e.markerRecordedEventAttributes?.markerName ?? '').slice(0, 300)}`).join('\n'));
    }
    return { acked, refused, flushed, recorded: progress.recorded, failedTasks: progress.failedTasks, durable: isDurable() };
  } finally {
    await ingest.close();
    await handle.terminate('test over').catch(() => undefined);
    worker.shutdown();
    await running;
  }
}

describe('ingest admission control (a local flush held open while large signals arrive)', () => {
  it('without it, Temporal force-closes the open task and the shard never records what it acknowledged', async () => {
    const r = await run(false);
    expect(r.refused).toEqual([]);
    expect(r.acked).toHaveLength(REQUESTS * CALLS_PER_REQUEST);
    // Acknowledged, yet 30 s later still not in the history: the shard is stuck.
    expect(r.durable).toBe(false);
    expect(r.acked.filter((id) => !r.recorded.has(id)).length).toBeGreaterThan(0);
  }, 120_000);

  it('with it, the shard is sent at most its budget, the rest is refused with a Retry-After, and every acknowledged call is flushed', async () => {
    const r = await run({ windowMs: 10_000, maxSignals: 64, maxBytes: 1024 * 1024, maxWaitMs: 2_000 });
    expect(r.failedTasks).toBe(0);
    expect(r.durable).toBe(true);
    // About 1 MiB of 100 KB requests went (the first one included), the rest was refused as busy.
    expect(r.acked.length / CALLS_PER_REQUEST).toBeGreaterThanOrEqual(5);
    expect(r.acked.length / CALLS_PER_REQUEST).toBeLessThanOrEqual(12);
    expect(r.refused.length).toBe(REQUESTS - r.acked.length / CALLS_PER_REQUEST);
    for (const err of r.refused) {
      expect(err).toBeInstanceOf(IngestBusyError);
      expect((err as IngestBusyError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    }
    expect(r.acked.filter((id) => !r.flushed.has(id))).toEqual([]);
  }, 120_000);
});
