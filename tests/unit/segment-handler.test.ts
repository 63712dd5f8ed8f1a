import { describe, expect, it } from 'vitest';
import type { IngestSignal } from '../../activities/push-ingest-types';
import { createSegmentHandler, type SegmentRequest } from '../../webhook/segment-handler';
import { createIngestGuard, DEAD_LETTER_BODY_CHARS, DEFAULT_INGEST_LIMITS, type IngestGuard } from '../../webhook/ingest-guard';
import { IngestBackpressureError, IngestContentError } from '../../webhook/temporal-ingest';

/**
 * The Segment-compatible endpoint without a server: every input class Segment's HTTP Tracking API
 * documents, with the status its clients act on (facts/segment-dual-tracking.md section 1).
 */

const KEY = 'wk_site_0123456789';
const NOW = Date.parse('2026-03-01T12:00:10.000Z');
const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

function setup(opts: { fail?: Error; corsOrigins?: string[]; guard?: IngestGuard; refuse?: (signal: IngestSignal) => Error | undefined } = {}) {
  const submitted: { signal: IngestSignal; key: string }[] = [];
  let ids = 0;
  const handler = createSegmentHandler({
    writeKeys: ['another-key', KEY],
    corsOrigins: opts.corsOrigins ?? ['https://www.novade.com'],
    now: () => NOW,
    newMessageId: () => `generated-${++ids}`,
    guard: opts.guard,
    ingest: {
      submit: async (signal, o) => {
        if (opts.fail) throw opts.fail;
        const refused = opts.refuse?.(signal);
        if (refused) throw refused;
        submitted.push({ signal, key: o.key });
      },
    },
  });
  const call = async (path: string, body: unknown, init: Partial<SegmentRequest> & { auth?: string | null } = {}) => {
    const headers: SegmentRequest['headers'] = { 'content-type': 'text/plain', ...init.headers };
    if (init.auth !== null) headers.authorization = init.auth ?? basic(KEY);
    const res = await handler({ method: init.method ?? 'POST', path, headers, body: typeof body === 'string' ? body : JSON.stringify(body), ip: init.ip ?? '203.0.113.7' });
    return { ...res, body: res.body as Record<string, unknown> };
  };
  const events = () => submitted.flatMap((s) => s.signal.events) as Record<string, unknown>[];
  const rejected = () => submitted.flatMap((s) => s.signal.rejected);
  return { handler, call, submitted, events, rejected };
}

const track = (over: Record<string, unknown> = {}) => ({ type: 'track', event: 'Form Submitted', userId: 'inspector@novade.net', messageId: `m-${Math.random().toString(36).slice(2)}`, properties: { formId: 7 }, ...over });

describe('auth', () => {
  it('accepts the write key as HTTP Basic user name or in the body, and answers 401 otherwise', async () => {
    const s = setup();
    expect((await s.call('/v1/track', track())).status).toBe(200);
    expect((await s.call('/v1/track', { ...track(), writeKey: KEY }, { auth: null })).status).toBe(200);
    // A wrong header does not hide a right body key.
    expect((await s.call('/v1/track', { ...track(), writeKey: KEY }, { auth: basic('wrong') })).status).toBe(200);
    for (const [body, auth] of [
      [track(), null],
      [track(), basic('wrong')],
      [{ ...track(), writeKey: 'wrong' }, null],
      [track(), `Bearer ${KEY}`],
      [track(), basic('')],
    ] as const) {
      const r = await s.call('/v1/track', body, { auth });
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('unauthorized');
      expect(r.body.message).toMatch(/SEGMENT_WRITE_KEYS/);
    }
    expect(s.events()).toHaveLength(3);
  });

  it('never stores the write key', async () => {
    const s = setup();
    await s.call('/v1/batch', { writeKey: KEY, batch: [{ ...track(), writeKey: KEY }] }, { auth: null });
    expect(JSON.stringify(s.submitted)).not.toContain(KEY);
  });
});

describe('routes', () => {
  it('dispatches the short routes analytics.js posts to on the body type, and the long ones on their name', async () => {
    const s = setup();
    const bodies = {
      '/v1/t': track(),
      '/v1/i': { type: 'identify', userId: 'u-12345', traits: { email: 'a@novade.net' } },
      '/v1/p': { type: 'page', anonymousId: 'anon-12345', name: 'Pricing', properties: { path: '/pricing' } },
      '/v1/s': { type: 'screen', anonymousId: 'anon-12345', name: 'Home' },
      '/v1/g': { type: 'group', userId: 'u-12345', groupId: 'acme' },
      '/v1/a': { type: 'alias', userId: 'u-12345', previousId: 'anon-12345' },
    };
    for (const [path, body] of Object.entries(bodies)) expect((await s.call(path, body)).status, path).toBe(200);
    expect(s.events().map((e) => e.type)).toEqual(['track', 'identify', 'page', 'screen', 'group', 'alias']);
    // Segment's long routes name the type, so a body without one is still that call.
    const { type: _t, ...untyped } = track();
    expect((await s.call('/v1/track', untyped)).status).toBe(200);
    expect(s.events().at(-1)?.type).toBe('track');
    for (const path of ['/v1/identify', '/v1/page', '/v1/screen', '/v1/group', '/v1/alias'])
      expect((await s.call(path, { type: path.slice(4), userId: 'u-12345', anonymousId: 'anon-12345', groupId: 'g1', previousId: 'p-12345' })).status, path).toBe(200);
  });

  it('answers analytics.js metrics 200 and keeps nothing; unknown routes 404; wrong methods 405', async () => {
    const s = setup();
    expect((await s.call('/v1/m', { series: [{ type: 'Counter', metric: 'analytics_js.invoke', value: 1 }] }, { auth: null })).status).toBe(200);
    expect(s.submitted).toHaveLength(0);
    expect((await s.call('/v1/x', track())).status).toBe(404);
    expect((await s.call('/v2/track', track())).status).toBe(404);
    expect((await s.call('/v1/track', '', { method: 'GET' })).status).toBe(405);
    expect((await s.call('/v1/projects/x/settings', '', { method: 'POST' })).status).toBe(405);
  });

  it('serves the settings analytics.js loads from cdnURL, pointing it back at this host', async () => {
    const s = setup();
    const r = await s.call(`/v1/projects/${KEY}/settings`, '', { method: 'GET', auth: null, headers: { host: 'collect.novade.com', 'x-forwarded-proto': 'https', origin: 'https://www.novade.com' } });
    expect(r.status).toBe(200);
    expect(r.headers?.['access-control-allow-origin']).toBe('https://www.novade.com');
    const io = (r.body.integrations as Record<string, Record<string, unknown>>)['Segment.io'];
    expect(io).toMatchObject({ apiKey: KEY, apiHost: 'collect.novade.com/v1', protocol: 'https' });
    expect((await s.call('/v1/projects/nope/settings', '', { method: 'GET', auth: null })).status).toBe(404);
  });
});

describe('CORS', () => {
  const preflight = { method: 'OPTIONS', auth: null, headers: { origin: 'https://www.novade.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-retry-count' } };

  it('answers the preflight analytics-next >= 1.84 sends (Authorization, X-Retry-Count) for configured origins only', async () => {
    const s = setup();
    for (const path of ['/v1/t', '/v1/batch', '/v1/b', '/v1/m']) {
      const r = await s.call(path, '', preflight);
      expect(r.status, path).toBe(204);
      expect(r.headers).toMatchObject({ 'access-control-allow-origin': 'https://www.novade.com', 'access-control-allow-methods': 'POST, OPTIONS' });
      expect(r.headers?.['access-control-allow-headers'].toLowerCase().split(', ')).toEqual(expect.arrayContaining(['authorization', 'x-retry-count', 'content-type']));
    }
    const other = await s.call('/v1/t', '', { ...preflight, headers: { ...preflight.headers, origin: 'https://evil.example' } });
    expect(other.status).toBe(403);
    expect(other.body.message).toMatch(/SEGMENT_CORS_ORIGINS/);
    expect(other.headers?.['access-control-allow-origin']).toBeUndefined();
  });

  it('labels answers to allowed origins, whatever the status, and allows any origin with *', async () => {
    const s = setup();
    const ok = await s.call('/v1/t', track(), { headers: { origin: 'https://www.novade.com' } });
    expect(ok.headers?.['access-control-allow-origin']).toBe('https://www.novade.com');
    const bad = await s.call('/v1/t', '{', { headers: { origin: 'https://www.novade.com' } });
    expect(bad.status).toBe(400);
    expect(bad.headers?.['access-control-allow-origin']).toBe('https://www.novade.com');
    expect((await s.call('/v1/t', track(), { headers: { origin: 'https://evil.example' } })).headers?.['access-control-allow-origin']).toBeUndefined();
    const any = setup({ corsOrigins: ['*'] });
    expect((await any.call('/v1/t', '', { ...preflight, headers: { ...preflight.headers, origin: 'http://localhost:3000' } })).status).toBe(204);
  });
});

describe('bad input', () => {
  it('answers 400 to what a retry cannot fix, each with its own error and a message saying what to change', async () => {
    const s = setup();
    const cases: [string, unknown, string, RegExp][] = [
      ['/v1/t', '{"type":', 'malformed_json', /not valid JSON/],
      ['/v1/t', '', 'malformed_json', /empty/],
      ['/v1/t', '[1,2]', 'invalid_body', /JSON object/],
      ['/v1/t', { ...track(), properties: { blob: 'x'.repeat(33 * 1024) } }, 'payload_too_large', /32 KB per call/],
      ['/v1/batch', { batch: Array.from({ length: 20 }, () => track({ properties: { blob: 'x'.repeat(30 * 1024) } })) }, 'payload_too_large', /500 KB per batch/],
      ['/v1/batch', { batch: Array.from({ length: 2_501 }, () => ({ type: 'track' })) }, 'too_many_calls', /2500/],
      ['/v1/batch', { batch: [] }, 'empty_batch', /at least one/],
      ['/v1/batch', { batch: 'track' }, 'invalid_body', /batch/],
      ['/v1/t', track({ userId: undefined }), 'invalid_call', /userId or an anonymousId/],
      ['/v1/t', track({ event: '' }), 'invalid_call', /event/],
      ['/v1/t', track({ event: undefined }), 'invalid_call', /needs "event"/],
      ['/v1/t', track({ messageId: 'm'.repeat(100) }), 'invalid_call', /fewer than 100 characters/],
      ['/v1/t', track({ timestamp: 'yesterday' }), 'invalid_call', /ISO-8601/],
      ['/v1/t', track({ type: 'purchase' }), 'invalid_call', /"type" must be one of/],
      ['/v1/g', { type: 'group', userId: 'u-12345' }, 'invalid_call', /groupId/],
      ['/v1/a', { type: 'alias', userId: 'u-12345' }, 'invalid_call', /previousId/],
      ['/v1/batch', { batch: [{ event: 'x', userId: 'u-12345' }, track({ userId: null })] }, 'invalid_calls', /None of the 2/],
      // 60 KB of top-level context is under 500 KB, but merged into each of 40 calls it is over 2 MB.
      ['/v1/batch', { context: { blob: 'x'.repeat(60_000) }, batch: Array.from({ length: 40 }, () => track()) }, 'payload_too_large', /once its top-level context is merged/],
    ];
    for (const [path, body, error, message] of cases) {
      const r = await s.call(path, body);
      expect(r.status, `${error} ${String(message)}`).toBe(400);
      expect(r.body.error, String(message)).toBe(error);
      expect(r.body.message).toMatch(message);
    }
    expect(s.events()).toHaveLength(0);
  });

  it('dead-letters invalid calls with their problems, and in a batch accepts the rest (200, each rejection listed)', async () => {
    const s = setup();
    const bad = track({ messageId: 'bad-one', anonymousId: undefined, userId: undefined });
    const single = await s.call('/v1/t', bad);
    expect(single.body.problems).toEqual([{ path: 'userId', message: expect.stringMatching(/userId or an anonymousId/) }]);
    expect(s.rejected()).toEqual([{ recordKey: 'bad-one', problems: single.body.problems, payload: expect.objectContaining({ event: 'Form Submitted' }) }]);

    const good = [track(), track()];
    const big = track({ messageId: 'too-big', properties: { blob: 'x'.repeat(33 * 1024) } });
    const r = await s.call('/v1/batch', { batch: [good[0], { type: 'track', userId: 'u-12345' }, big, 'not a call', good[1]] });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ success: true, accepted: 2, rejected: 3 });
    expect((r.body.rejections as { index: number; messageId?: string; problems: { path: string }[] }[]).map((x) => [x.index, x.messageId, x.problems[0].path])).toEqual([
      [1, undefined, 'batch[1].event'],
      [2, 'too-big', 'batch[2]'],
      [3, undefined, 'batch[3]'],
    ]);
    expect(s.events().map((e) => e.messageId)).toEqual(good.map((g) => g.messageId));
    expect(s.rejected().slice(1).map((x) => x.recordKey)).toEqual([`request:${NOW}:1`, 'too-big', `request:${NOW}:3`]);
  });
});

describe('Temporal not accepting the calls', () => {
  it('answers 503 with Retry-After when the calls could not be made durable, 429 when the ingest is behind', async () => {
    const down = setup({ fail: new Error('14 UNAVAILABLE: connection refused') });
    const r = await down.call('/v1/batch', { batch: [track()] });
    expect(r.status).toBe(503);
    expect(r.headers?.['retry-after']).toBe('5');
    expect(r.body.message).toMatch(/nothing was stored/);
    const behind = setup({ fail: new IngestBackpressureError('ingest shard 2 is behind.') });
    const b = await behind.call('/v1/t', track());
    expect(b.status).toBe(429);
    expect(Number(b.headers?.['retry-after'])).toBeGreaterThan(0);
    // An invalid call is refused for its content whatever Temporal's state: still 400.
    expect((await down.call('/v1/t', track({ event: '' }))).status).toBe(400);
  });
});

describe('enrichment', () => {
  it("corrects the client's clock: timestamp = receivedAt - (sentAt - originalTimestamp), with the call's or the batch's sentAt", async () => {
    const s = setup();
    // The client's clock is 1 hour ahead: it sent 2 s after the call happened.
    await s.call('/v1/t', track({ timestamp: '2026-03-01T13:00:08.000Z', sentAt: '2026-03-01T13:00:10.000Z' }));
    // analytics-node and analytics.js's batching mode put one sentAt on the batch.
    await s.call('/v1/batch', { sentAt: '2026-03-01T11:00:10.500Z', batch: [track({ timestamp: '2026-03-01T11:00:10.000Z' }), track({ timestamp: '2026-03-01T11:00:05.000Z', sentAt: '2026-03-01T11:00:06.000Z' })] });
    await s.call('/v1/t', track({ timestamp: '2026-03-01T09:00:00.000Z' }));
    await s.call('/v1/t', track());
    await s.call('/v1/t', track({ originalTimestamp: '2026-03-01T12:00:00.000Z', sentAt: '2026-03-01T12:00:04.000Z' }));
    const got = s.events().map((e) => [e.timestamp, e.originalTimestamp, e.sentAt, e.receivedAt]);
    expect(got).toEqual([
      ['2026-03-01T12:00:08.000Z', '2026-03-01T13:00:08.000Z', '2026-03-01T13:00:10.000Z', '2026-03-01T12:00:10.000Z'],
      ['2026-03-01T12:00:09.500Z', '2026-03-01T11:00:10.000Z', '2026-03-01T11:00:10.500Z', '2026-03-01T12:00:10.000Z'],
      ['2026-03-01T12:00:09.000Z', '2026-03-01T11:00:05.000Z', '2026-03-01T11:00:06.000Z', '2026-03-01T12:00:10.000Z'],
      // No sentAt: the client's time as is; no time at all: the time received.
      ['2026-03-01T09:00:00.000Z', '2026-03-01T09:00:00.000Z', undefined, '2026-03-01T12:00:10.000Z'],
      ['2026-03-01T12:00:10.000Z', undefined, undefined, '2026-03-01T12:00:10.000Z'],
      ['2026-03-01T12:00:06.000Z', '2026-03-01T12:00:00.000Z', '2026-03-01T12:00:04.000Z', '2026-03-01T12:00:10.000Z'],
    ]);
  });

  it('fills context.ip from the request when absent, merges batch-level context and integrations under the call', async () => {
    const s = setup();
    await s.call('/v1/t', track());
    await s.call('/v1/t', track(), { headers: { 'x-forwarded-for': '198.51.100.4, 10.0.0.1' } });
    await s.call('/v1/t', track({ context: { ip: '192.0.2.1' } }), { ip: '::ffff:10.1.2.3' });
    await s.call('/v1/t', track(), { ip: '::ffff:10.1.2.3' });
    await s.call('/v1/batch', {
      context: { library: { name: 'analytics-node', version: '3.1.0' }, page: { path: '/a', url: 'https://x/a' } },
      integrations: { Amplitude: false },
      batch: [track({ context: { page: { path: '/b' } }, integrations: { All: true } })],
    });
    const ctx = s.events().map((e) => e.context as Record<string, unknown>);
    expect(ctx.slice(0, 4).map((c) => c.ip)).toEqual(['203.0.113.7', '198.51.100.4', '192.0.2.1', '10.1.2.3']);
    expect(ctx[4]).toEqual({ library: { name: 'analytics-node', version: '3.1.0' }, page: { path: '/b', url: 'https://x/a' }, ip: '203.0.113.7' });
    expect(s.events()[4].integrations).toEqual({ Amplitude: false, All: true });
  });

  it('keeps the messageId as the dedup key: generated when absent, a repeat within a batch kept once', async () => {
    const s = setup();
    const { messageId: _m, ...noId } = track();
    await s.call('/v1/t', noId);
    expect(s.events()[0].messageId).toBe('generated-1');
    const dup = track({ messageId: 'same-id' });
    const r = await s.call('/v1/batch', { batch: [dup, { ...dup, event: 'Other' }, track()] });
    expect(r.body).toMatchObject({ accepted: 2, duplicates: 1, rejected: 0 });
    expect(s.events().filter((e) => e.messageId === 'same-id').map((e) => e.event)).toEqual(['Form Submitted']);
    // A replayed request goes to the shard of its first messageId.
    expect(s.submitted.at(-1)?.key).toBe('same-id');
    // Numeric ids are text, as Segment stores them.
    await s.call('/v1/i', { type: 'identify', userId: 12345, traits: { a: 1 } });
    expect(s.events().at(-1)?.userId).toBe('12345');
  });

  it('reads a text/plain body as analytics.js sends it, and keeps unknown fields', async () => {
    const s = setup();
    const body = JSON.stringify({ ...track(), _metadata: { bundled: ['Segment.io'], unbundled: [] }, custom: { deep: [1, 2] } });
    const r = await s.handler({ method: 'POST', path: '/v1/t', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: Buffer.from(body.replace('"type"', `"writeKey":"${KEY}","type"`)) });
    expect(r.status).toBe(200);
    expect(s.events()[0]).toMatchObject({ _metadata: { bundled: ['Segment.io'] }, custom: { deep: [1, 2] } });
  });
});

describe('ingest limits (WEBHOOK_EVENT_MAX_*)', () => {
  const nested = (levels: number) => JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`) as Record<string, unknown>;
  /** A body with the nesting written out, and the write key in it (never stored). */
  const deepCallText = (messageId: string, levels: number) => JSON.stringify({ ...track({ messageId }), writeKey: KEY }).replace('"formId":7', `"formId":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);

  it('refuses a single call over a limit with a 400 naming the setting, dead-lettering the raw body without the write key', async () => {
    const s = setup();
    // 5,000 levels fit in 32 KB and break JSON.stringify deep in a stack: it must never reach a signal.
    const r = await s.call('/v1/t', deepCallText('deep-one', 5_000), { auth: null });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'invalid_call', limit: 'WEBHOOK_EVENT_MAX_DEPTH' });
    expect(r.body.message).toMatch(/WEBHOOK_EVENT_MAX_DEPTH=64.*recorded as a dead letter/);
    expect((r.body.problems as { path: string }[])[0].path).toMatch(/^properties\.formId\.a\.a/);
    expect(s.events()).toHaveLength(0);
    const [letter] = s.rejected();
    expect(letter.recordKey).toBe('deep-one');
    expect(typeof letter.payload).toBe('string');
    expect(letter.payload).toContain('"messageId":"deep-one"');
    expect(letter.payload).not.toContain(KEY);
    // A lone surrogate escape is refused the same way (the warehouse's JSON columns would refuse it on every flush).
    const u = await s.call('/v1/t', JSON.stringify(track({ messageId: 'bad-text', properties: { note: 'a\ud800b' } })));
    expect(u.status).toBe(400);
    expect(u.body).toMatchObject({ error: 'invalid_call', limit: 'VALID_UNICODE' });
  });

  it('in a batch refuses only the calls over a limit (dead-lettered, listed with the setting) and accepts the rest', async () => {
    const s = setup();
    const good = [track(), track(), track()];
    const text = JSON.stringify({ writeKey: KEY, batch: [good[0], { ...track({ messageId: 'deep-1' }), properties: 'DEEP' }, good[1], track({ messageId: 'bad-text', traits: { n: '\udfff' } }), good[2]] }).replace(
      '"DEEP"',
      JSON.stringify(nested(200)),
    );
    const r = await s.call('/v1/batch', text, { auth: null });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ success: true, accepted: 3, rejected: 2 });
    const rejections = r.body.rejections as { index: number; messageId: string; limit: string; problems: { path: string; message: string }[] }[];
    expect(rejections.map((x) => [x.index, x.messageId, x.limit])).toEqual([
      [1, 'deep-1', 'WEBHOOK_EVENT_MAX_DEPTH'],
      [3, 'bad-text', 'VALID_UNICODE'],
    ]);
    expect(rejections[0].problems[0]).toEqual({ path: expect.stringMatching(/^batch\[1\]\.properties\.a\.a/), message: expect.stringMatching(/WEBHOOK_EVENT_MAX_DEPTH/) });
    expect(s.events().map((e) => e.messageId)).toEqual(good.map((g) => g.messageId));
    // One signal: the accepted calls and the dead letters; the raw body is stored once, without the write key.
    expect(s.submitted).toHaveLength(1);
    const letters = s.rejected();
    expect(letters.map((l) => l.recordKey)).toEqual(['deep-1', 'bad-text']);
    expect(letters[0].payload).toEqual(expect.stringContaining('"messageId":"deep-1"'));
    expect(letters[0].payload).not.toContain(KEY);
    expect(letters[1].payload).toBe('raw request body stored with dead letter deep-1');
    expect(letters.map((l) => l.problems[0].message).join(' ')).toMatch(/WEBHOOK_EVENT_MAX_DEPTH.*not valid Unicode/);
  });

  it('checks calls as they travel, after enrichment: a batch context merged into a call can put it over WEBHOOK_EVENT_MAX_BYTES', async () => {
    const s = setup({ guard: createIngestGuard({ ...DEFAULT_INGEST_LIMITS, maxEventBytes: 4_096 }) });
    const small = track();
    const bigger = track({ messageId: 'bigger', properties: { note: 'n'.repeat(1_500) } });
    const r = await s.call('/v1/batch', { context: { campaign: { content: 'c'.repeat(2_500) } }, batch: [small, bigger] });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ accepted: 1, rejected: 1, rejections: [{ index: 1, messageId: 'bigger', limit: 'WEBHOOK_EVENT_MAX_BYTES' }] });
    // Alone, the call fits: its dead letter keeps it as received, not the whole body.
    expect(s.rejected()).toEqual([{ recordKey: 'bigger', problems: [{ path: 'batch[1]', message: expect.stringMatching(/over the limit of 4096 \(WEBHOOK_EVENT_MAX_BYTES\)/) }], payload: bigger }]);
    expect((await s.call('/v1/t', bigger)).status).toBe(200);
  });

  it('never fails on calls too deep to encode or to merge: over 32 KB and nested, or a context merged thousands of levels deep', async () => {
    const s = setup();
    const good = track();
    // Over 32 KB and 10,000 levels deep: too deep for JSON.stringify to measure.
    const huge = JSON.stringify({ batch: [good, 'HUGE'] }).replace('"HUGE"', `{"type":"track","event":"x","userId":"u-1","messageId":"huge","properties":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    const r = await s.call('/v1/batch', huge);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ accepted: 1, rejected: 1, rejections: [{ index: 1, messageId: 'huge' }] });
    // Batch context and call context both 5,000 levels deep along the same keys: merging them recurses that deep.
    const deepCtx = `{"a":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`;
    const merged = JSON.stringify({ context: 'CTX', batch: [track({ messageId: 'merged', context: 'CTX' })] }).replaceAll('"CTX"', deepCtx);
    const m = await s.call('/v1/batch', merged);
    expect(m.status).toBe(400);
    expect(m.body).toMatchObject({ error: 'invalid_calls', rejections: [{ index: 0, messageId: 'merged', limit: 'WEBHOOK_EVENT_MAX_DEPTH' }] });
    expect(s.rejected().map((l) => l.recordKey)).toEqual(['huge', 'merged']);
    // Neither can travel as it came: each letter holds its request's raw body, bounded.
    for (const l of s.rejected()) expect(typeof l.payload === 'string' && l.payload.length <= DEAD_LETTER_BODY_CHARS, l.recordKey).toBe(true);
  });

  it('answers a request Temporal refuses for its content 400 not_storable, every call dead-lettered with the raw body; 503 only if even that is not durable', async () => {
    // Temporal refuses any signal carrying calls (as a blob over its limit would be), takes the letters.
    const s = setup({ refuse: (signal) => (signal.events.length > 0 ? new IngestContentError('3 INVALID_ARGUMENT: Blob data size exceeds limit.') : undefined) });
    const calls = [track({ messageId: 'c-1' }), track({ messageId: 'c-2' })];
    const r = await s.call('/v1/batch', { writeKey: KEY, batch: [...calls, { type: 'track', userId: 'u-1', messageId: 'c-3' }] }, { auth: null });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'not_storable', accepted: 0, rejected: 3, limit: 'TEMPORAL_PAYLOAD' });
    expect(r.body.message).toMatch(/Blob data size exceeds limit.*dead letter/);
    expect(s.events()).toHaveLength(0);
    const letters = s.rejected();
    expect(letters.map((l) => l.recordKey)).toEqual(['c-1', 'c-2', 'c-3']);
    expect(letters[0].payload).toEqual(expect.stringContaining('"messageId":"c-1"'));
    expect(letters[0].payload).not.toContain(KEY);
    expect(letters.slice(1).map((l) => l.payload)).toEqual(['raw request body stored with dead letter c-1', 'raw request body stored with dead letter c-1']);
    const single = await s.call('/v1/t', track({ messageId: 'c-4' }));
    expect(single).toMatchObject({ status: 400, body: { error: 'not_storable', rejected: 1 } });

    // The letters could not be stored either: the refusal may not have been about the content, so the client retries.
    const down = setup({ refuse: (signal) => (signal.events.length > 0 ? new IngestContentError('refused') : new Error('14 UNAVAILABLE: connection refused')) });
    const d = await down.call('/v1/t', track());
    expect(d.status).toBe(503);
    expect(d.headers?.['retry-after']).toBe('5');
  });
});
