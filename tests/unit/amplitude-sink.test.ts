import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { AmplitudeSink, THROTTLE_RETRY_MS, type AmplitudeSinkOptions } from '../../connectors/amplitude';
import { PermanentError, TransientError } from '../../lib/errors';
import { IMMEDIATE_RETRY_MS, retryDelayOf } from '../../activities/failures';
import type { AmplitudeEvent } from '../../mappings/amplitude-types';

let amp: AmplitudeEmulator;
const ENDPOINT = 'POST /2/httpapi';

beforeAll(async () => {
  amp = await startAmplitudeEmulator({ port: 0 });
});
afterAll(async () => {
  await amp?.close();
});
beforeEach(() => {
  amp.faults.clear();
  amp.store.clear();
  amp.setRateLimits({ httpApiPerIdPerSecond: 1_000_000 });
});

const sink = (over: Partial<AmplitudeSinkOptions> = {}) => new AmplitudeSink({ apiKey: SANDBOX.amplitude.apiKey, serverUrl: amp.url, minIdLength: 5, ...over });

let seq = 0;
function events(n: number, over: (i: number) => Partial<AmplitudeEvent> = () => ({})): AmplitudeEvent[] {
  const run = ++seq;
  return Array.from({ length: n }, (_, i) => ({
    event_type: 'Contact Created',
    user_id: `person${i}@example.com`,
    time: 1_700_000_000_000 + i,
    insert_id: `test:${run}:${i}`,
    event_properties: { i },
    ...over(i),
  }));
}

const catching = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('AmplitudeSink against the Amplitude emulator', () => {
  it('delivers in chunks under the HTTP V2 limits and counts only what got a 200', async () => {
    const batch = events(2_500);
    const report = await sink().send(batch);
    expect(report).toEqual({ sent: 2_500, rejected: [] });
    expect(amp.store.count()).toBe(2_500);
    const requests = amp.store.requests();
    expect(requests.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(Math.max(...requests.map((r) => r.eventCount))).toBeLessThan(2_000);
    expect(amp.store.byInsertId(batch[7].insert_id)?.event).toMatchObject({ event_type: 'Contact Created', user_id: 'person7@example.com', time: 1_700_000_000_007 });
  });

  it('splits chunks by size as well as by count', async () => {
    const big = events(40, () => ({ event_properties: { notes: 'x'.repeat(60_000) } }));
    const report = await sink().send(big);
    expect(report.sent).toBe(40);
    expect(amp.store.requests().length).toBeGreaterThanOrEqual(3);
  });

  it('rejects the events a 400 names, with the reason, and still delivers the rest', async () => {
    // HTTP V2 names only the first bad event per field: the sink must loop until the rest goes through.
    const batch = events(50, (i) => (i === 3 || i === 30 ? { user_id: 'null', device_id: undefined } : i === 10 ? { user_id: 'abc' } : {}));
    const report = await sink().send(batch);
    expect(report.sent).toBe(47);
    expect(report.rejected.map((r) => r.event.insert_id).sort()).toEqual([batch[10].insert_id, batch[3].insert_id, batch[30].insert_id].sort());
    expect(report.rejected.find((r) => r.event.insert_id === batch[3].insert_id)?.reason).toMatch(/^400 .*invalid user_id/);
    expect(report.rejected.find((r) => r.event.insert_id === batch[10].insert_id)?.reason).toMatch(/user_id shorter than min_id_length 5/);
    expect(amp.store.count()).toBe(47);
    expect(amp.store.byInsertId(batch[3].insert_id)).toBeUndefined();
  });

  it('splits a chunk Amplitude answers 413 to, and rejects a single event that is still too large', async () => {
    amp.faults.set({ [ENDPOINT]: { failNext: 1, statuses: [413] } });
    const batch = events(10);
    expect(await sink().send(batch)).toEqual({ sent: 10, rejected: [] });
    expect(amp.store.requests().map((r) => [r.status, r.eventCount])).toEqual([
      [200, 5],
      [200, 5],
    ]);
    amp.faults.set({ [ENDPOINT]: { failNext: 1, statuses: [413] } });
    const one = events(1);
    const report = await sink().send(one);
    expect(report).toEqual({ sent: 0, rejected: [{ event: one[0], reason: expect.stringContaining('413') }] });
  });

  it('fails with a TransientError on 429 that waits as Amplitude asks (Retry-After, else ~30 s)', async () => {
    amp.faults.set({ [ENDPOINT]: { failNext: 1, statuses: [429], retryAfterSeconds: 7 } });
    const err = await catching(sink().send(events(5)));
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).retryAfterMs).toBe(7_000);

    amp.setRateLimits({ httpApiPerIdPerSecond: 5, httpApiWindowSeconds: 1 });
    const throttled = await catching(sink().send(events(20, () => ({ user_id: 'busy.person@example.com' }))));
    expect(throttled).toBeInstanceOf(TransientError);
    expect((throttled as TransientError).retryAfterMs).toBe(THROTTLE_RETRY_MS);
    expect((throttled as Error).message).toMatch(/throttled 20 events \(429, 1 ids over 5 events\/s\)/);
  });

  it('fails with a TransientError on 5xx and on a connection reset or a hung request', async () => {
    amp.faults.set({ [ENDPOINT]: { failNext: 1, statuses: [503] } });
    expect(await catching(sink().send(events(3)))).toMatchObject({ name: 'TransientError', message: expect.stringContaining('Amplitude answered 503') });
    amp.faults.set({ [ENDPOINT]: { failNext: 1, statuses: ['reset'] } });
    expect(await catching(sink().send(events(3)))).toMatchObject({ name: 'TransientError', message: expect.stringContaining('did not answer') });
    amp.faults.set({ [ENDPOINT]: { failNext: 1, statuses: ['timeout'] } });
    expect(await catching(sink({ timeoutMs: 300 }).send(events(3)))).toMatchObject({ name: 'TransientError', message: expect.stringContaining('did not answer') });
    expect(amp.store.count()).toBe(0);
  });

  it('resends after a 500 that had ingested the events, and insert_id keeps them single', async () => {
    amp.failAfterIngest(ENDPOINT, 1, 500);
    const batch = events(4);
    const s = sink();
    expect(await catching(s.send(batch))).toBeInstanceOf(TransientError);
    expect(await s.send(batch)).toEqual({ sent: 4, rejected: [] });
    expect(amp.store.count()).toBe(4);
    expect(amp.store.duplicates().length).toBe(4);
  });

  it('after a 5xx the other chunks still go, and the error says part was acknowledged so the retry does not wait a backoff', async () => {
    const batch = events(50);
    let n = 0;
    const s = new AmplitudeSink({
      apiKey: SANDBOX.amplitude.apiKey,
      serverUrl: amp.url,
      minIdLength: 5,
      maxEventsPerRequest: 10,
      concurrency: 1,
      fetch: (input, init) => (++n === 2 ? Promise.resolve(new Response(JSON.stringify({ code: 502, error: 'Bad gateway' }), { status: 502 })) : fetch(input, init)),
    });
    const err = await catching(s.send(batch));
    expect(err).toMatchObject({ name: 'TransientError', kind: 'amplitude-server-error', progressed: true, message: expect.stringContaining('40 of the 50 events were acknowledged') });
    expect(retryDelayOf(err as TransientError)).toBe(IMMEDIATE_RETRY_MS);
    expect(amp.store.count()).toBe(40);
    expect(await s.send(batch)).toEqual({ sent: 50, rejected: [] });
    expect(amp.store.count()).toBe(50);
    // A 429 stops the call (the destination asked to slow down) and its wait is the one asked for.
    amp.faults.set({ [ENDPOINT]: { failNext: 1, statuses: [429], retryAfterSeconds: 3 } });
    const throttled = (await catching(sink({ maxEventsPerRequest: 10, concurrency: 1 }).send(events(30)))) as TransientError;
    expect({ kind: throttled.kind, progressed: throttled.progressed, delay: retryDelayOf(throttled) }).toEqual({ kind: 'amplitude-throttled', progressed: undefined, delay: 3_000 });
  });

  it('does not resend what a previous attempt already got a 200 for', async () => {
    const batch = events(50);
    // The third request fails: two chunks were acknowledged before it.
    let n = 0;
    const failing = new AmplitudeSink({
      apiKey: SANDBOX.amplitude.apiKey,
      serverUrl: amp.url,
      minIdLength: 5,
      maxEventsPerRequest: 10,
      concurrency: 1,
      fetch: (input, init) => (++n === 3 ? Promise.reject(new TypeError('fetch failed', { cause: new Error('ECONNRESET') })) : fetch(input, init)),
    });
    expect(await catching(failing.send(batch))).toMatchObject({ name: 'TransientError', message: expect.stringContaining('ECONNRESET') });
    expect(amp.store.count()).toBe(20);
    const before = amp.store.requests().length;
    expect(await failing.send(batch)).toEqual({ sent: 50, rejected: [] });
    expect(amp.store.requests().length - before).toBe(3);
    expect(amp.store.count()).toBe(50);
    expect(amp.store.duplicates()).toEqual([]);
    expect(await failing.send([])).toEqual({ sent: 0, rejected: [] });
  });

  it('fails for good, naming the setting, when the API key is refused', async () => {
    const err = await catching(sink({ apiKey: 'wrong-key' }).send(events(2)));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ kind: 'ConfigError', message: expect.stringContaining('AMPLITUDE_API_KEY') });
  });
});
