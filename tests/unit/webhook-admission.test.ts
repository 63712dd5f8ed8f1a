import { describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { IngestSignal } from '../../activities/push-ingest-types';
import { IngestBusyError, TemporalIngest } from '../../webhook/temporal-ingest';
import { WebhookMetrics } from '../../webhook/metrics';

/**
 * Admission control of the webhook's ingest client: what one shard may be sent within a window,
 * against a Temporal client that accepts every signal at once and records when and what it got.
 */

interface Sent {
  workflowId: string;
  at: number;
  bytes: number;
  ids: string[];
}

function fakeClient(): { client: Client; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = {
    connection: { withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn() },
    workflow: {
      signalWithStart: async (_type: string, opts: { workflowId: string; signalArgs: [IngestSignal & { bytes?: number }] }) => {
        const s = opts.signalArgs[0];
        sent.push({ workflowId: opts.workflowId, at: performance.now(), bytes: s.events.reduce((n, e) => n + Number(e.bytes), 0), ids: s.events.map((e) => String(e.id)) });
      },
    },
  };
  return { client: client as unknown as Client, sent };
}

const submit = (ingest: TemporalIngest, id: string, bytes: number) =>
  ingest.submit({ events: [{ id, bytes }], rejected: [] }, { key: id, bytes }).then(
    () => ({ id, ok: true as const }),
    (err: unknown) => ({ id, ok: false as const, err }),
  );

/** The most bytes and signals any window of `windowMs` saw, per workflow. */
function peaks(sent: Sent[], windowMs: number): Map<string, { bytes: number; signals: number }> {
  const out = new Map<string, { bytes: number; signals: number }>();
  for (const s of sent) {
    const inWindow = sent.filter((o) => o.workflowId === s.workflowId && o.at >= s.at && o.at < s.at + windowMs);
    const p = out.get(s.workflowId) ?? { bytes: 0, signals: 0 };
    out.set(s.workflowId, { bytes: Math.max(p.bytes, inWindow.reduce((n, o) => n + o.bytes, 0)), signals: Math.max(p.signals, inWindow.length) });
  }
  return out;
}

describe('ingest admission control', () => {
  it('never sends a shard more than its bytes within the window; the rest waits, then is refused with a Retry-After', async () => {
    const { client, sent } = fakeClient();
    const metrics = new WebhookMetrics({ defaultMetrics: false });
    const admission = { windowMs: 400, maxSignals: 50, maxBytes: 1_000, maxWaitMs: 150 };
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 2, lingerMs: 0, maxSignalBytes: 300, admission, metrics });
    // 20 requests of 300 bytes: 6,000 bytes for two shards that take 1,000 each per 400 ms.
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => submit(ingest, `r${i}`, 300)));
    const acked = outcomes.filter((o) => o.ok).map((o) => o.id);
    const refused = outcomes.filter((o) => !o.ok);
    for (const [, p] of peaks(sent, admission.windowMs)) expect(p.bytes).toBeLessThanOrEqual(admission.maxBytes);
    // Three per shard fit in a window; the admission wait (150 ms) ends before the window frees them.
    expect(acked).toHaveLength(6);
    expect(refused).toHaveLength(14);
    for (const r of refused) {
      expect(r.err).toBeInstanceOf(IngestBusyError);
      expect((r.err as IngestBusyError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    }
    expect(sent.flatMap((s) => s.ids).sort()).toEqual([...acked].sort());
    expect((await metrics.admissionRefusals.get()).values[0].value).toBe(14);
    await ingest.close();
  });

  it('lets waiting requests through as the window frees room, in larger signals, within the signal budget', async () => {
    const { client, sent } = fakeClient();
    const admission = { windowMs: 200, maxSignals: 2, maxBytes: 100_000, maxWaitMs: 5_000 };
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 1, lingerMs: 0, admission });
    // Requests arrive 10 ms apart: with an idle client each would leave alone.
    const pending: ReturnType<typeof submit>[] = [];
    for (let i = 0; i < 30; i++) {
      pending.push(submit(ingest, `r${i}`, 100));
      await new Promise((r) => setTimeout(r, 10));
    }
    const outcomes = await Promise.all(pending);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(sent.flatMap((s) => s.ids).sort()).toEqual(outcomes.map((o) => o.id).sort());
    for (const [, p] of peaks(sent, admission.windowMs)) expect(p.signals).toBeLessThanOrEqual(admission.maxSignals);
    // The requests that waited for room left together.
    expect(sent.length).toBeLessThan(30);
    await ingest.close();
  });

  it('sends one request larger than the byte budget alone, to a shard with nothing in its window', async () => {
    const { client, sent } = fakeClient();
    const admission = { windowMs: 300, maxSignals: 10, maxBytes: 1_000, maxWaitMs: 2_000 };
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 1, lingerMs: 0, admission });
    const [big, small] = await Promise.all([submit(ingest, 'big', 1_500), submit(ingest, 'small', 100)]);
    expect([big.ok, small.ok]).toEqual([true, true]);
    // The small one waited until the big one left the window.
    expect(sent.map((s) => s.ids)).toEqual([['big'], ['small']]);
    expect(sent[1].at - sent[0].at).toBeGreaterThanOrEqual(admission.windowMs - 5);
    await ingest.close();
  });
});
