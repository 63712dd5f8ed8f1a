import { createInstance, Identify, Types } from '@amplitude/analytics-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';

/**
 * The real @amplitude/analytics-node against the emulator: each documented answer must drive the SDK down
 * the code path it takes against Amplitude (success, drop on 400, split on 413, wait on 429, retry on 5xx).
 */

const KEY = 'sandbox-amplitude-key';
let emu: AmplitudeEmulator;

beforeAll(async () => {
  emu = await startAmplitudeEmulator({ port: 0 });
});
afterAll(async () => {
  await emu.close();
});
afterEach(() => {
  emu.store.clear();
  emu.faults.clear();
  emu.setRateLimits({ httpApiPerIdPerSecond: 30, httpApiWindowSeconds: 30, batchDailyQuotaPerId: undefined });
});

async function sdk(options: Types.NodeOptions = {}, apiKey = KEY) {
  const client = createInstance();
  await client.init(apiKey, { serverUrl: `${emu.url}/2/httpapi`, flushIntervalMillis: 50, logLevel: Types.LogLevel.None, ...options }).promise;
  return client;
}

const statuses = () => emu.store.requests().map((r) => r.status);

describe('@amplitude/analytics-node against the Amplitude emulator', () => {
  it('valid events: the SDK gets 200 and the emulator keeps them under their insert_id', async () => {
    const client = await sdk();
    const results = await Promise.all([
      client.track('Opportunity Won', { amount: 1200 }, { user_id: 'user-00001', insert_id: 'sf:Opportunity:006A:won' }).promise,
      client.track('Chat Started', undefined, { device_id: 'drift-16000000001' }).promise,
    ]);
    expect(results.map((r) => [r.code, r.message])).toEqual([
      [200, 'Event tracked successfully'],
      [200, 'Event tracked successfully'],
    ]);
    expect(emu.store.count()).toBe(2);
    expect(emu.store.byInsertId('sf:Opportunity:006A:won')?.event.event_properties).toEqual({ amount: 1200 });
    expect(emu.store.requests()[0].answer).toMatchObject({ code: 200, events_ingested: 2 });
  });

  it('invalid field (400): the SDK drops only the event Amplitude names and delivers the rest', async () => {
    const client = await sdk();
    const [good1, bad, good2] = await Promise.all([
      client.track('Lead Created', undefined, { user_id: 'user-00001' }).promise,
      client.track('Lead Created', undefined, { user_id: 'anonymous' }).promise,
      client.track('Lead Created', undefined, { user_id: 'user-00003' }).promise,
    ]);
    expect(bad).toMatchObject({ code: 400, message: 'Invalid field values on some events' });
    expect([good1.code, good2.code]).toEqual([200, 200]);
    expect(emu.store.list().map((e) => e.userId)).toEqual(['user-00001', 'user-00003']);
    expect(emu.store.requests()[0].answer).toMatchObject({ code: 400, events_with_invalid_fields: { user_id: [1] } });
  });

  it('HTTP V2 names one bad event per field per answer, so the SDK needs a round per bad event', async () => {
    const client = await sdk();
    const results = await Promise.all(['user-00001', 'anonymous', 'null', 'user-00004'].map((id) => client.track('Lead Created', undefined, { user_id: id }).promise));
    expect(results.map((r) => r.code)).toEqual([200, 400, 400, 200]);
    expect(statuses()).toEqual([400, 400, 200]);
  });

  it('an id shorter than min_id_length (400 events_with_invalid_id_lengths): the SDK drops that event', async () => {
    const client = await sdk();
    const [short, ok] = await Promise.all([client.track('Contact Updated', undefined, { user_id: 'ab' }).promise, client.track('Contact Updated', undefined, { user_id: 'user-00002' }).promise]);
    expect(short.code).toBe(400);
    expect(ok.code).toBe(200);
    expect(emu.store.requests()[0].answer).toMatchObject({ events_with_invalid_id_lengths: { user_id: [0] } });
  });

  it('invalid API key (400): the SDK drops the whole batch with the documented error', async () => {
    const client = await sdk({}, 'not-a-project-key');
    const results = await Promise.all([client.track('A', undefined, { user_id: 'user-00001' }).promise, client.track('B', undefined, { user_id: 'user-00002' }).promise]);
    for (const r of results) {
      expect(r.code).toBe(400);
      expect(r.message.startsWith('Invalid API key')).toBe(true);
    }
    expect(emu.store.count()).toBe(0);
  });

  it('oversized (413 above 1 MB): the SDK halves its batches until they fit, and every event arrives', async () => {
    // A long interval so all 200 events are queued before the first flush, even on a busy machine.
    const client = await sdk({ flushQueueSize: 200, flushIntervalMillis: 1_000 });
    const blob = 'x'.repeat(8_000);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => client.track('Note Synced', { blob }, { user_id: `user-${String(i).padStart(5, '0')}` }).promise));
    expect(results.every((r) => r.code === 200)).toBe(true);
    expect(statuses()[0]).toBe(413);
    expect(statuses().slice(1).every((s) => s === 200)).toBe(true);
    expect(emu.store.requests()[1].eventCount).toBe(100);
    expect(emu.store.count()).toBe(200);
  });

  it('one event above 1 MB (413): the SDK cannot split it and drops it', async () => {
    const client = await sdk();
    const result = await client.track('Huge', { blob: 'x'.repeat(1_100_000) }, { user_id: 'user-00001' }).promise;
    expect(result).toMatchObject({ code: 413, message: 'Payload too large' });
  });

  it('throttled (429): the SDK waits 30 s for the throttled user, then the retry is accepted', { timeout: 60_000 }, async () => {
    emu.setRateLimits({ httpApiPerIdPerSecond: 1, httpApiWindowSeconds: 10 });
    const client = await sdk();
    const first = await Promise.all(Array.from({ length: 10 }, (_, i) => client.track('Page Viewed', { i }, { user_id: 'user-00001' }).promise));
    expect(first.every((r) => r.code === 200)).toBe(true);

    const started = Date.now();
    const eleventh = await client.track('Page Viewed', { i: 10 }, { user_id: 'user-00001' }).promise;
    expect(eleventh.code).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(29_000);
    const throttled = emu.store.requests().find((r) => r.status === 429);
    expect(throttled?.answer).toMatchObject({ code: 429, error: 'Too many requests for some devices and users', eps_threshold: 1, throttled_users: { 'user-00001': 2 }, throttled_events: [0] });
    expect(emu.store.count({ userId: 'user-00001' })).toBe(11);
  });

  it('daily quota exceeded (429 exceeded_daily_quota_users) on Batch: the SDK drops those events', async () => {
    emu.setRateLimits({ batchDailyQuotaPerId: 2 });
    // One request for the three (the quota counts per request): a flush interval long enough that a loaded machine cannot split them.
    const client = await sdk({ serverUrl: `${emu.url}/batch`, useBatch: true, flushIntervalMillis: 1_000 });
    const results = await Promise.all(Array.from({ length: 3 }, () => client.track('Backfilled', undefined, { user_id: 'user-00009' }).promise));
    expect(results.map((r) => r.code)).toEqual([429, 429, 429]);
    expect(emu.store.requests()[0].answer).toMatchObject({ code: 429, exceeded_daily_quota_users: { 'user-00009': 3 } });
    expect(emu.store.count()).toBe(0);
  });

  it('a 500 after ingestion: the SDK retries and insert_id absorbs the duplicate', async () => {
    emu.failAfterIngest('POST /2/httpapi', 1, 500);
    const client = await sdk();
    const result = await client.track('Opportunity Won', undefined, { user_id: 'user-00001', insert_id: 'sf:Opportunity:006B:won' }).promise;
    expect(result.code).toBe(200);
    expect(statuses()).toEqual([500, 200]);
    expect(emu.store.count()).toBe(1);
    expect(emu.store.duplicates().map((d) => d.insertId)).toEqual(['sf:Opportunity:006B:won']);
  });

  it('an injected 503: the SDK retries and the event arrives once', async () => {
    emu.faults.set({ 'POST /2/httpapi': { failNext: 1, statuses: [503], retryAfterSeconds: 1 } });
    const client = await sdk();
    const result = await client.track('Lead Converted', undefined, { user_id: 'user-00001' }).promise;
    expect(result.code).toBe(200);
    expect(emu.faults.injected.get('POST /2/httpapi')).toBe(1);
    expect(emu.store.count()).toBe(1);
  });

  it('connection reset before any answer: the SDK drops the events with code 0', async () => {
    emu.faults.set({ 'POST /2/httpapi': { failNext: 1, statuses: ['reset'] } });
    const client = await sdk();
    const result = await client.track('Lost', undefined, { user_id: 'user-00001' }).promise;
    expect(result.code).toBe(0);
    expect(emu.store.count()).toBe(0);
  });

  it('identify: $identify operations from the SDK update the user properties', async () => {
    const client = await sdk();
    const identify = new Identify().set('plan', 'pro').setOnce('first_source', 'drift').add('logins', 2).append('channels', 'chat');
    expect((await client.identify(identify, { user_id: 'user-00042' }).promise).code).toBe(200);
    expect((await client.identify(new Identify().setOnce('first_source', 'salesforce').add('logins', 1).unset('plan'), { user_id: 'user-00042' }).promise).code).toBe(200);
    expect(emu.store.userProperties('user-00042')).toEqual({ first_source: 'drift', logins: 3, channels: ['chat'] });
  });
});
