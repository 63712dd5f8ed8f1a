import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';

/** The Amplitude emulator's documented answers over plain HTTP, and its inspection and fault knobs. */

const KEY = 'sandbox-amplitude-key';
const DAY = 86_400_000;
let clock = Date.UTC(2026, 10, 1, 12, 0, 0);
let emu: AmplitudeEmulator;

beforeAll(async () => {
  emu = await startAmplitudeEmulator({ port: 0, now: () => new Date(clock) });
});
afterAll(async () => {
  await emu.close();
});
afterEach(() => {
  emu.store.clear();
  emu.faults.clear();
  emu.setRateLimits({ httpApiPerIdPerSecond: 30, batchPerIdPerSecond: 1_000, httpApiWindowSeconds: 30, batchWindowSeconds: 30, throttlePenaltySeconds: 0 });
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function send(path: string, body: unknown, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${emu.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), ...init });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

const event = (i: number, extra: Record<string, unknown> = {}) => ({ event_type: 'Synced', user_id: `user-${String(i).padStart(5, '0')}`, time: clock - 1_000, ...extra });
const upload = (events: unknown[], extra: Record<string, unknown> = {}) => ({ api_key: KEY, events, ...extra });

describe('Amplitude emulator over HTTP', () => {
  it('HTTP V2 answers 200 {code, events_ingested, payload_size_bytes, server_upload_time}', async () => {
    const body = JSON.stringify(upload([event(1), event(2)]));
    const answer = await send('/2/httpapi', body);
    expect(answer).toMatchObject({ status: 200, body: { code: 200, events_ingested: 2, payload_size_bytes: Buffer.byteLength(body), server_upload_time: clock } });
  });

  it('accepts a gzip-encoded body', async () => {
    const answer = await send('/batch', gzipSync(JSON.stringify(upload([event(1)]))), { headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' } });
    expect(answer.body).toMatchObject({ code: 200, events_ingested: 1 });
  });

  it('answers 400 "Invalid JSON request body" and "Missing request body"', async () => {
    expect(await send('/2/httpapi', '{"api_key": ')).toMatchObject({ status: 400, body: { code: 400, error: 'Invalid JSON request body' } });
    expect(await send('/2/httpapi', '')).toMatchObject({ status: 400, body: { code: 400, error: 'Missing request body' } });
  });

  it('answers 400 with missing_field, events_with_missing_fields and events_with_invalid_fields', async () => {
    expect((await send('/2/httpapi', { events: [event(1)] })).body).toEqual({ code: 400, error: 'Request missing required field', missing_field: 'api_key' });
    const answer = await send('/batch', upload([event(1), { user_id: 'user-00002' }, event(3, { time: 'yesterday' })]));
    expect(answer).toMatchObject({ status: 400, body: { code: 400, error: 'Request missing required field', events_with_missing_fields: { event_type: [1] }, events_with_invalid_fields: { time: [2] } } });
    expect(emu.store.count()).toBe(0);
  });

  it('HTTP V2 answers 413 above 2,000 events, and accepts 2,000', async () => {
    expect(await send('/2/httpapi', upload(Array.from({ length: 2_001 }, (_, i) => event(i))))).toMatchObject({ status: 413, body: { code: 413, error: 'Payload too large' } });
    expect((await send('/2/httpapi', upload(Array.from({ length: 2_000 }, (_, i) => event(i))))).body).toMatchObject({ code: 200, events_ingested: 2_000 });
  });

  it('Batch answers 413 above 2,000 events', async () => {
    expect((await send('/batch', upload(Array.from({ length: 2_001 }, (_, i) => event(i))))).status).toBe(413);
  });

  it('HTTP V2 answers 413 above 1 MB where Batch accepts the same body; Batch answers 413 above 20 MB', async () => {
    const big = upload([event(1, { event_properties: { blob: 'x'.repeat(1_100_000) } })]);
    expect(await send('/2/httpapi', big)).toMatchObject({ status: 413, body: { code: 413 } });
    expect((await send('/batch', big)).status).toBe(200);
    const huge = upload(Array.from({ length: 21 }, (_, i) => event(i, { event_properties: { blob: 'x'.repeat(1_000_000) } })));
    expect(await send('/batch', huge)).toMatchObject({ status: 413, body: { code: 413, error: 'Payload too large' } });
  });

  it('HTTP V2 answers 429 when an id goes over 30 events/s (averaged over 30 s), naming ids, rates and events', async () => {
    const burst = Array.from({ length: 901 }, () => ({ event_type: 'Tick', user_id: 'user-00001', device_id: 'device-0001' }));
    const answer = await send('/2/httpapi', upload([event(7), ...burst]));
    expect(answer.status).toBe(429);
    expect(answer.body).toMatchObject({
      code: 429,
      error: 'Too many requests for some devices and users',
      eps_threshold: 30,
      throttled_users: { 'user-00001': 31 },
      throttled_devices: { 'device-0001': 31 },
      exceeded_daily_quota_users: {},
      exceeded_daily_quota_devices: {},
    });
    expect((answer.body.throttled_events as number[]).slice(0, 2)).toEqual([1, 2]);
    expect(emu.store.count()).toBe(0);
    // 900 of the same id fit in the 30 s window.
    expect((await send('/2/httpapi', upload(burst.slice(1)))).status).toBe(200);
  });

  it('Batch allows 1,000 events/s per id averaged over 30 s, then answers 429', async () => {
    const batch = upload(Array.from({ length: 2_000 }, () => ({ event_type: 'Backfill', user_id: 'user-00001' })));
    for (let i = 0; i < 15; i++) expect((await send('/batch', batch)).status).toBe(200);
    const answer = await send('/batch', upload([{ event_type: 'Backfill', user_id: 'user-00001' }]));
    expect(answer).toMatchObject({ status: 429, body: { eps_threshold: 1_000, throttled_users: { 'user-00001': 1_001 }, throttled_events: [0] } });
    clock += 31_000;
    expect((await send('/batch', upload([{ event_type: 'Backfill', user_id: 'user-00001' }]))).status).toBe(200);
  });

  it('per-id rates can be changed at run time over PUT /__sandbox/rate-limits', async () => {
    const put = await fetch(`${emu.url}/__sandbox/rate-limits`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ httpApiPerIdPerSecond: 1, httpApiWindowSeconds: 2 }) });
    expect(put.status).toBe(200);
    expect((await send('/2/httpapi', upload([event(1), event(1)]))).status).toBe(200);
    expect((await send('/2/httpapi', upload([event(1)]))).status).toBe(429);
  });

  it('insert_id deduplicates within 7 days: HTTP V2 per device_id, Batch on insert_id alone; duplicates still count as ingested', async () => {
    const e = { event_type: 'Meeting Booked', user_id: 'user-00001', device_id: 'device-0001', insert_id: 'drift:meeting:1' };
    expect((await send('/2/httpapi', upload([e]))).body.events_ingested).toBe(1);
    expect((await send('/2/httpapi', upload([e]))).body.events_ingested).toBe(1);
    expect(emu.store.count()).toBe(1);
    expect((await send('/2/httpapi', upload([{ ...e, device_id: 'device-0002' }]))).status).toBe(200);
    expect(emu.store.count()).toBe(2);
    await send('/batch', upload([{ ...e, device_id: 'device-0003' }]));
    expect(emu.store.count()).toBe(2);
    expect(emu.store.duplicates()).toHaveLength(2);

    clock += 7 * DAY;
    await send('/2/httpapi', upload([e]));
    expect(emu.store.count()).toBe(3);
  });

  it('removes ids shorter than min_id_length from the stored event, and min_id_length can lower the bar', async () => {
    await send('/2/httpapi', upload([{ event_type: 'Chat', user_id: 'abc', device_id: 'device-0001' }]));
    expect(emu.store.list()[0]).toMatchObject({ userId: undefined, deviceId: 'device-0001' });
    await send('/2/httpapi', upload([{ event_type: 'Chat', user_id: 'abc' }], { options: { min_id_length: 3 } }));
    expect(emu.store.list()[1].userId).toBe('abc');
  });

  it('/identify (form-encoded) applies user_properties operations and plain keys', async () => {
    const form = (identification: unknown, apiKey = KEY) => new URLSearchParams({ api_key: apiKey, identification: JSON.stringify(identification) }).toString();
    const post = (body: string) => fetch(`${emu.url}/identify`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
    let res = await post(form({ user_id: 'user-00001', user_properties: { company: 'Straits Builders', plan: 'trial' } }));
    expect([res.status, await res.text()]).toEqual([200, 'success']);
    res = await post(form([{ user_id: 'user-00001', user_properties: { $set: { plan: 'pro' }, $setOnce: { company: 'Other' }, $add: { seats: 5 }, $append: { sources: 'drift' }, $unset: { trial_end: '-' } } }]));
    expect(res.status).toBe(200);
    expect(emu.store.userProperties('user-00001')).toEqual({ company: 'Straits Builders', plan: 'pro', seats: 5, sources: ['drift'] });
    expect(emu.store.count()).toBe(0);

    res = await post(form({ user_id: 'user-00001' }, 'wrong-key'));
    expect(res.status).toBe(400);
    res = await post(new URLSearchParams({ api_key: KEY }).toString());
    expect([res.status, await res.text()]).toEqual([400, 'missing_event']);
  });

  it('$identify events apply operations; operations on other events and mixed dictionaries are reported as violations', async () => {
    await send('/2/httpapi', upload([{ event_type: '$identify', user_id: 'user-00001', user_properties: { $set: { plan: 'pro' }, $add: { logins: 1 } } }]));
    await send('/2/httpapi', upload([{ event_type: 'Login', user_id: 'user-00001', user_properties: { $add: { logins: 1 } } }]));
    await send('/2/httpapi', upload([{ event_type: '$identify', user_id: 'user-00001', user_properties: { $set: { a: 1 }, b: 2 } }]));
    expect(emu.store.userProperties('user-00001')).toEqual({ plan: 'pro', logins: 1, a: 1 });
    expect(emu.store.violations()).toHaveLength(2);
    expect(emu.store.list({ eventType: 'Login' })[0].userPropertiesAfter).toEqual({ plan: 'pro', logins: 1 });
  });

  it('exposes what it ingested over /__sandbox: count, list with filters, by insert_id, clear', async () => {
    await send('/2/httpapi', upload([event(1, { insert_id: 'seg:1' }), event(2, { insert_id: 'seg:2', event_type: 'Other' })]));
    const get = async <T>(path: string): Promise<T> => (await fetch(`${emu.url}${path}`)).json() as Promise<T>;
    expect(await get('/__sandbox/events/count')).toEqual({ count: 2 });
    expect(await get('/__sandbox/events/count?event_type=Other')).toEqual({ count: 1 });
    expect((await get<{ events: Array<{ insertId: string }> }>('/__sandbox/events?user_id=user-00001')).events[0].insertId).toBe('seg:1');
    expect((await get<{ eventType: string }>('/__sandbox/events/by-insert-id/seg:2')).eventType).toBe('Other');
    expect((await get<Array<{ status: number }>>('/__sandbox/requests')).map((r) => r.status)).toEqual([200]);
    await fetch(`${emu.url}/__sandbox/events`, { method: 'DELETE' });
    expect(await get('/__sandbox/events/count')).toEqual({ count: 0 });
  });

  it('fault injection: a 503 with Retry-After in Amplitude\'s error body, set at run time over PUT /__sandbox/faults', async () => {
    const put = await fetch(`${emu.url}/__sandbox/faults`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ 'POST /batch': { failNext: 1, statuses: [503], retryAfterSeconds: 7 } }) });
    expect(put.status).toBe(200);
    const answer = await send('/batch', upload([event(1)]));
    expect(answer).toMatchObject({ status: 503, body: { code: 503, error: 'Service unavailable' } });
    expect(answer.headers.get('retry-after')).toBe('7');
    expect((await send('/batch', upload([event(1)]))).status).toBe(200);
  });

  it('fault injection: an injected 429 carries the throttling fields the SDK reads', async () => {
    emu.faults.set({ 'POST /2/httpapi': { failNext: 1, statuses: [429], retryAfterSeconds: 30 } });
    const answer = await send('/2/httpapi', upload([event(1)]));
    expect(answer).toMatchObject({ status: 429, body: { code: 429, throttled_events: [], throttled_users: {}, throttled_devices: {} } });
    expect(answer.headers.get('retry-after')).toBe('30');
  });

  it('fault injection: connection reset, timeout (no answer) and latency', async () => {
    emu.faults.set({ 'POST /2/httpapi': { failNext: 1, statuses: ['reset'] } });
    await expect(send('/2/httpapi', upload([event(1)]))).rejects.toThrow();

    emu.faults.set({ 'POST /2/httpapi': { failNext: 1, statuses: ['timeout'] } });
    await expect(send('/2/httpapi', upload([event(1)]), { signal: AbortSignal.timeout(300) })).rejects.toThrow();

    emu.faults.set({ 'POST /2/httpapi': { latencyMs: 200 } });
    const started = Date.now();
    expect((await send('/2/httpapi', upload([event(1)]))).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('a 500/502/504 after ingestion keeps the events (the documented "may have been accepted" case)', async () => {
    await fetch(`${emu.url}/__sandbox/fail-after-ingest`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ endpoint: 'POST /batch', count: 1, status: 504 }) });
    expect((await send('/batch', upload([event(1, { insert_id: 'x' })]))).body).toEqual({ code: 504, error: 'Gateway timeout' });
    expect(emu.store.count()).toBe(1);
  });
});
