import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { AmplitudeSink, BATCH_THROTTLE_RETRY_MS } from '../../connectors/amplitude/sink';
import { TransientError } from '../../lib/errors';
import type { AmplitudeEvent } from '../../mappings/amplitude-types';

let amp: AmplitudeEmulator;
beforeAll(async () => {
  amp = await startAmplitudeEmulator({ port: 0 });
});
afterAll(async () => {
  await amp?.close();
});
beforeEach(() => {
  amp.faults.clear();
  amp.store.clear();
  amp.setRateLimits({ batchPerIdPerSecond: 1_000 });
});

const batchSink = () => new AmplitudeSink({ apiKey: SANDBOX.amplitude.apiKey, serverUrl: amp.url, minIdLength: 5, endpoint: 'batch', maxEventsPerRequest: 2_000, maxBytesPerRequest: 10_000_000 });
const events = (n: number, user = (i: number) => `person${i % 50}@example.com`): AmplitudeEvent[] =>
  Array.from({ length: n }, (_, i) => ({ event_type: 'login', user_id: user(i), time: 1_700_000_000_000 + i, insert_id: `seg:batch-${n}-${i}` }));
const catching = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('AmplitudeSink on the Batch API', () => {
  it('posts to /batch in requests of up to 2,000 events', async () => {
    expect(await batchSink().send(events(4_500))).toEqual({ sent: 4_500, rejected: [] });
    const requests = amp.store.requests();
    // Chunks go out concurrently: compare them in size order.
    expect(requests.map((r) => [r.endpoint, r.eventCount, r.status]).sort((a, b) => Number(b[1]) - Number(a[1]))).toEqual([
      ['POST /batch', 2_000, 200],
      ['POST /batch', 2_000, 200],
      ['POST /batch', 500, 200],
    ]);
    expect(amp.store.count({ endpoint: 'batch' })).toBe(4_500);
  });

  it('an id over its Batch throughput is a retryable failure that waits as Amplitude asks (~15 s without Retry-After)', async () => {
    amp.setRateLimits({ batchPerIdPerSecond: 1, batchWindowSeconds: 30 });
    const err = await catching(batchSink().send(events(100, () => 'heavy.user@example.com')));
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).retryAfterMs).toBe(BATCH_THROTTLE_RETRY_MS);
    expect((err as Error).message).toMatch(/Amplitude throttled 100 events \(429, 1 ids over/);
    amp.faults.set({ 'POST /batch': { failNext: 1, statuses: [429], retryAfterSeconds: 3 } });
    amp.setRateLimits({ batchPerIdPerSecond: 1_000 });
    const withHeader = await catching(batchSink().send(events(10)));
    expect((withHeader as TransientError).retryAfterMs).toBe(3_000);
  });
});
