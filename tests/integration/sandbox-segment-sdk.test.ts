import { Analytics } from '@segment/analytics-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSegmentEmulator, type SegmentEmulator } from '../../sandbox/segment';

/**
 * The real @segment/analytics-node against the Segment emulator (only `host` differs from
 * production): every call type arrives once under the messageId the client gave it, bad input gets
 * Segment's statuses, and the client's retry path runs on the emulator's 429s, 5xx and resets.
 */

const KEY = 'sandbox-segment-write-key';
let emu: SegmentEmulator;

beforeAll(async () => {
  emu = await startSegmentEmulator({ port: 0, writeKeys: [KEY] });
});
afterAll(async () => {
  await emu.close();
});
afterEach(() => {
  emu.store.clear();
  emu.faults.clear();
  emu.loss.set(undefined);
  emu.failAfterAccept(0);
});

interface Sent {
  messageIds: string[];
  statuses: number[];
  sentAt: number[];
}

function client(opts: Partial<ConstructorParameters<typeof Analytics>[0]> = {}): { analytics: Analytics; sent: Sent } {
  const analytics = new Analytics({ writeKey: KEY, host: emu.url, flushAt: 50, flushInterval: 100, maxRetries: 3, httpRequestTimeout: 2_000, ...opts });
  const sent: Sent = { messageIds: [], statuses: [], sentAt: [] };
  analytics.on('http_request', (r) => {
    sent.sentAt.push(Date.now());
    for (const e of (JSON.parse(String(r.body)) as { batch: { messageId: string }[] }).batch) sent.messageIds.push(e.messageId);
  });
  analytics.on('http_response', (r) => sent.statuses.push(r.status));
  return { analytics, sent };
}

/** Resolves with the messageId the client assigned, or rejects with the delivery failure. */
function delivered(send: (cb: (err?: unknown, ctx?: { event: { messageId?: string } }) => void) => void): Promise<string> {
  return new Promise((resolve, reject) => send((err, ctx) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(ctx?.event.messageId ?? ''))));
}

const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${emu.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`, ...headers }, body });

describe('@segment/analytics-node against the Segment emulator', () => {
  it('track, identify, page, screen, group and alias arrive once each, in one /v1/batch, under the client messageIds', async () => {
    const { analytics, sent } = client();
    const ids = await Promise.all([
      delivered((cb) => analytics.track({ userId: 'ada@example.com', event: 'Demo Requested', properties: { plan: 'enterprise' } }, cb)),
      delivered((cb) => analytics.identify({ userId: 'ada@example.com', traits: { email: 'ada@example.com', firstName: 'Ada' } }, cb)),
      delivered((cb) => analytics.page({ anonymousId: 'anon-00001', name: 'Pricing', properties: { path: '/pricing' } }, cb)),
      delivered((cb) => analytics.screen({ userId: 'ada@example.com', name: 'Projects' }, cb)),
      delivered((cb) => analytics.group({ userId: 'ada@example.com', groupId: 'acme', traits: { name: 'Acme' } }, cb)),
      delivered((cb) => analytics.alias({ userId: 'ada@example.com', previousId: 'anon-00001' }, cb)),
    ]);
    await analytics.closeAndFlush();
    expect(sent.statuses).toEqual([200]);
    expect(ids.every((id) => /^node-next-/.test(id))).toBe(true);
    expect(emu.store.list().map((c) => [c.type, c.messageId])).toEqual([
      ['track', ids[0]],
      ['identify', ids[1]],
      ['page', ids[2]],
      ['screen', ids[3]],
      ['group', ids[4]],
      ['alias', ids[5]],
    ]);
    for (const id of ids) expect(emu.store.byMessageId(id)?.times).toBe(1);
    const track = emu.store.byMessageId(ids[0])!.call;
    expect(track.message).toMatchObject({ event: 'Demo Requested', properties: { plan: 'enterprise' }, context: { library: { name: '@segment/analytics-node' } } });
    expect(track.message).not.toHaveProperty('writeKey');
    expect(emu.store.requests()).toEqual([expect.objectContaining({ route: '/v1/batch', status: 200, calls: 6 })]);
  });

  it('batches: 120 calls with flushAt 50 arrive in three requests, each call once', async () => {
    const { analytics, sent } = client({ flushAt: 50, flushInterval: 300 });
    const ids = await Promise.all(Array.from({ length: 120 }, (_, i) => delivered((cb) => analytics.track({ anonymousId: `visitor-${i % 7}`, event: 'Page Scrolled', properties: { depth: i } }, cb))));
    await analytics.closeAndFlush();
    expect(sent.statuses).toEqual([200, 200, 200]);
    expect(emu.store.count()).toBe(120);
    expect(new Set(emu.store.list().map((c) => c.messageId))).toEqual(new Set(ids));
  });

  it('the skew-corrected timestamp: a client clock 10 minutes fast is corrected by the batch sentAt', async () => {
    const fast = 10 * 60_000;
    const { analytics } = client({
      httpClient: (url, init) => {
        const body = JSON.parse(String(init.body)) as { sentAt: string };
        body.sentAt = new Date(Date.parse(body.sentAt) + fast).toISOString();
        return fetch(url, { ...init, body: JSON.stringify(body) });
      },
    });
    const created = Date.now();
    const id = await delivered((cb) => analytics.track({ userId: 'ada@example.com', event: 'Clock Test', timestamp: new Date(created + fast) }, cb));
    await analytics.closeAndFlush();
    const call = emu.store.byMessageId(id)!.call;
    expect(Math.abs(Date.parse(call.timestamp) - created)).toBeLessThan(2_000);
    expect(Date.parse(call.message.originalTimestamp as string)).toBe(created + fast);
  });

  it('429 with Retry-After: the client waits the seconds asked and delivers on the retry, once', async () => {
    const before = emu.faults.injected.get('POST /v1/batch') ?? 0;
    emu.faults.set({ 'POST /v1/batch': { failNext: 1, statuses: [429], retryAfterSeconds: 1 } });
    const { analytics, sent } = client();
    const id = await delivered((cb) => analytics.track({ userId: 'ada@example.com', event: 'Rate Limited' }, cb));
    await analytics.closeAndFlush();
    expect(sent.statuses).toEqual([429, 200]);
    expect(sent.sentAt[1] - sent.sentAt[0]).toBeGreaterThanOrEqual(950);
    expect(emu.store.byMessageId(id)?.times).toBe(1);
    expect(emu.faults.injected.get('POST /v1/batch')).toBe(before + 1);
  });

  it('429 answers carry Retry-After and X-RateLimit-Reset in seconds', async () => {
    emu.faults.set({ '*': { failNext: 1, statuses: [429], retryAfterSeconds: 7 } });
    const res = await post('/v1/track', JSON.stringify({ userId: 'u1', event: 'A' }));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('x-ratelimit-reset')).toBe('7');
  });

  it('5xx and connection resets are retried by the client until delivered', async () => {
    const before = emu.faults.injected.get('POST /v1/batch') ?? 0;
    emu.faults.set({ 'POST /v1/batch': { failNext: 2, statuses: [503, 'reset'] } });
    const { analytics, sent } = client({ maxRetries: 5 });
    const id = await delivered((cb) => analytics.identify({ userId: 'ada@example.com', traits: { plan: 'pro' } }, cb));
    await analytics.closeAndFlush();
    expect(sent.statuses.at(-1)).toBe(200);
    expect(sent.sentAt).toHaveLength(3);
    expect(emu.faults.injected.get('POST /v1/batch')).toBe(before + 2);
    expect(emu.store.byMessageId(id)?.times).toBe(1);
  });

  it('a 500 after the calls were taken in: the retry is recognised by messageId and kept once', async () => {
    emu.failAfterAccept(1, 502);
    const { analytics, sent } = client();
    const id = await delivered((cb) => analytics.track({ userId: 'ada@example.com', event: 'Replayed' }, cb));
    await analytics.closeAndFlush();
    expect(sent.statuses).toEqual([502, 200]);
    expect(emu.store.count()).toBe(1);
    expect(emu.store.byMessageId(id)?.times).toBe(2);
    expect(emu.store.duplicates()).toEqual([expect.objectContaining({ messageId: id })]);
  });

  it('induced loss: the client gets 200, the lost calls are listed by messageId and never kept', async () => {
    const { analytics, sent } = client();
    const lostId = 'node-lost-00001';
    emu.loss.set({ messageIds: [lostId] });
    await Promise.all([
      delivered((cb) => analytics.track({ userId: 'ada@example.com', event: 'Kept' }, cb)),
      delivered((cb) => analytics.track({ userId: 'ada@example.com', event: 'Lost', messageId: lostId }, cb)),
    ]);
    await analytics.closeAndFlush();
    expect(sent.statuses).toEqual([200]);
    expect(emu.store.list().map((c) => c.message.event)).toEqual(['Kept']);
    expect(emu.store.dropped().map((d) => d.call.messageId)).toEqual([lostId]);
    const over = await (await fetch(`${emu.url}/__sandbox/dropped`)).json();
    expect(over).toEqual([expect.objectContaining({ reason: expect.stringMatching(/induced loss/) })]);
  });
});

describe('Segment emulator: statuses for bad input (HTTP API page, "Errors")', () => {
  it('400 for invalid JSON, never retried by the client', async () => {
    const res = await post('/v1/track', '{"userId": "u1", "event": ');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ success: false, message: 'Invalid JSON' });
    expect(emu.store.requests()).toEqual([expect.objectContaining({ status: 400, calls: 0 })]);
  });

  it('400 above 32 KB per call and 500 KB per batch; the client drops a 400 without retrying', async () => {
    expect((await post('/v1/t', JSON.stringify({ type: 'track', userId: 'u1', event: 'A', properties: { pad: 'x'.repeat(33_000) } }))).status).toBe(400);
    const batch = { batch: Array.from({ length: 17 }, () => ({ type: 'track', userId: 'u1', event: 'A', properties: { pad: 'x'.repeat(31_000) } })) };
    expect((await post('/v1/batch', JSON.stringify(batch))).status).toBe(400);

    emu.faults.set({ 'POST /v1/batch': { failNext: 1, statuses: [400] } });
    const { analytics, sent } = client();
    await expect(delivered((cb) => analytics.track({ userId: 'u1', event: 'Refused' }, cb))).rejects.toThrow(/400/);
    await analytics.closeAndFlush();
    expect(sent.statuses).toEqual([400]);
    expect(emu.store.count()).toBe(0);
  });

  it('400 without a write key; 200 with an unknown one, the calls dropped (Segment validates keys downstream)', async () => {
    expect((await post('/v1/track', JSON.stringify({ userId: 'u1', event: 'A' }), { authorization: '' })).status).toBe(400);
    const res = await post('/v1/track', JSON.stringify({ userId: 'u1', event: 'A', messageId: 'm-unknown-key' }), { authorization: `Basic ${Buffer.from('not-a-source:').toString('base64')}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
    expect(emu.store.count()).toBe(0);
    expect(emu.store.rejected()).toEqual([expect.objectContaining({ messageId: 'm-unknown-key', reason: expect.stringMatching(/unknown write key/) })]);
  });

  it('the body writeKey authenticates, with text/plain as analytics.js sends it', async () => {
    const res = await post('/v1/p', JSON.stringify({ type: 'page', anonymousId: 'a1', name: 'Home', writeKey: KEY, messageId: 'ajs-next-1' }), { authorization: '', 'content-type': 'text/plain' });
    expect(res.status).toBe(200);
    expect(emu.store.byMessageId('ajs-next-1')?.call.type).toBe('page');
  });

  it('200 with the call rejected: no userId/anonymousId, track without event, more than 2,500 calls', async () => {
    expect((await post('/v1/track', JSON.stringify({ event: 'A', messageId: 'no-ids' }))).status).toBe(200);
    expect((await post('/v1/track', JSON.stringify({ userId: 'u1', messageId: 'no-event' }))).status).toBe(200);
    const big = { batch: Array.from({ length: 2_501 }, (_, i) => ({ type: 'track', userId: 'u1', event: 'A', messageId: `b${i}` })) };
    expect((await post('/v1/batch', JSON.stringify(big))).status).toBe(200);
    expect(emu.store.count()).toBe(0);
    const reasons = emu.store.rejected().map((r) => r.reason);
    expect(reasons.slice(0, 2)).toEqual([expect.stringMatching(/^no_user_anon_id/), expect.stringMatching(/without an event name/)]);
    expect(reasons).toHaveLength(2 + 2_501);
  });

  it('answers the CORS preflight analytics.js >= 1.84 triggers', async () => {
    const res = await fetch(`${emu.url}/v1/t`, { method: 'OPTIONS', headers: { origin: 'https://www.novade.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-retry-count' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://www.novade.com');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/authorization/);
  });

  it('inspection over HTTP: by messageId, filtered lists and counts', async () => {
    await post('/v1/batch', JSON.stringify({ batch: [{ type: 'track', userId: 'u1', event: 'A', messageId: 'i-1' }, { type: 'identify', userId: 'u2', messageId: 'i-2' }] }));
    expect(await (await fetch(`${emu.url}/__sandbox/messages/i-1`)).json()).toMatchObject({ times: 1, call: { type: 'track', messageId: 'i-1' } });
    expect((await fetch(`${emu.url}/__sandbox/messages/nope`)).status).toBe(404);
    expect(await (await fetch(`${emu.url}/__sandbox/messages/count?type=identify`)).json()).toEqual({ count: 1 });
    expect(await (await fetch(`${emu.url}/__sandbox/messages?user_id=u1`)).json()).toMatchObject({ count: 1, messages: [{ messageId: 'i-1' }] });
    const put = await fetch(`${emu.url}/__sandbox/loss`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rate: 2 }) });
    expect(put.status).toBe(400);
  });
});
