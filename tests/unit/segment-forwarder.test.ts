import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SegmentForwarder, SegmentHttpError } from '../../connectors/segment';
import { PermanentError } from '../../lib/errors';

/**
 * The Segment forward client against a small local HTTP server standing in for api.segment.io: what
 * it sends, how it splits, and each failure it reports.
 */

interface Received {
  auth?: string;
  body: { batch: Record<string, unknown>[]; sentAt: string; writeKey: string };
  bytes: number;
}

type Reply = (r: Received) => { status: number; headers?: Record<string, string>; body?: string };

let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function segmentApi(reply: Reply): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      expect(req.url).toBe('/v1/batch');
      const r: Received = { auth: req.headers.authorization, body: JSON.parse(raw.toString('utf8')) as Received['body'], bytes: raw.length };
      received.push(r);
      const out = reply(r);
      res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers });
      res.end(out.body ?? '{"success":true}');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, received };
}

const call = (i: number, extra: Record<string, unknown> = {}) => ({
  type: 'track',
  event: 'Demo Requested',
  messageId: `m-${i}`,
  anonymousId: 'anon-12345',
  timestamp: '2026-03-01T12:00:09.000Z',
  originalTimestamp: '2026-03-01T13:00:08.000Z',
  sentAt: '2026-03-01T13:00:10.000Z',
  receivedAt: '2026-03-01T12:00:10.000Z',
  context: { ip: '203.0.113.7' },
  ...extra,
});

describe('SegmentForwarder', () => {
  it('posts calls unchanged to /v1/batch with Basic auth, our corrected timestamp and a sentAt of now', async () => {
    const api = await segmentApi(() => ({ status: 200 }));
    const f = new SegmentForwarder({ endpoint: `${api.url}/`, writeKey: 'wk-forward', now: () => Date.parse('2026-03-01T12:05:00.000Z') });
    expect(await f.send([call(1), call(2)])).toEqual({ sent: 2, rejected: [] });
    expect(api.received).toHaveLength(1);
    const [r] = api.received;
    expect(r.auth).toBe(`Basic ${Buffer.from('wk-forward:').toString('base64')}`);
    expect(r.body.sentAt).toBe('2026-03-01T12:05:00.000Z');
    expect(r.body.batch[0]).toEqual({
      type: 'track',
      event: 'Demo Requested',
      messageId: 'm-1',
      anonymousId: 'anon-12345',
      timestamp: '2026-03-01T12:00:09.000Z',
      originalTimestamp: '2026-03-01T13:00:08.000Z',
      context: { ip: '203.0.113.7' },
    });
    // Acknowledged calls are not sent again by a retry in the same process.
    expect(await f.send([call(1), call(2), call(3)])).toEqual({ sent: 3, rejected: [] });
    expect(api.received[1].body.batch.map((c) => c.messageId)).toEqual(['m-3']);
  });

  it("splits at Segment's limits: 2,500 calls and 500 KB per batch", async () => {
    const api = await segmentApi(() => ({ status: 200 }));
    const f = new SegmentForwarder({ endpoint: api.url, writeKey: 'wk', concurrency: 1 });
    const many = Array.from({ length: 2_600 }, (_, i) => ({ type: 'track', event: 'E', messageId: `m-${i}`, anonymousId: 'anon-12345' }));
    expect((await f.send(many)).sent).toBe(2_600);
    expect(api.received.map((r) => r.body.batch.length)).toEqual([2_500, 100]);
    const big = Array.from({ length: 40 }, (_, i) => call(10_000 + i, { properties: { blob: 'x'.repeat(30_000) } }));
    expect((await f.send(big)).sent).toBe(40);
    for (const r of api.received.slice(2)) expect(r.bytes).toBeLessThanOrEqual(500 * 1024);
    expect(api.received.slice(2).reduce((n, r) => n + r.body.batch.length, 0)).toBe(40);
  });

  it('isolates the call Segment refuses (400) by halving, and rejects calls over 32 KB without sending them', async () => {
    const api = await segmentApi((r) => (r.body.batch.some((c) => c.messageId === 'm-5') ? { status: 400, body: '{"message":"bad event"}' } : { status: 200 }));
    const f = new SegmentForwarder({ endpoint: api.url, writeKey: 'wk' });
    const report = await f.send([...Array.from({ length: 8 }, (_, i) => call(i)), call(99, { properties: { blob: 'x'.repeat(33 * 1024) } })]);
    expect(report.sent).toBe(7);
    expect(report.rejected.map((r) => [r.call.messageId, r.reason])).toEqual([
      ['m-99', expect.stringMatching(/32 KB/)],
      ['m-5', expect.stringMatching(/400.*bad event/)],
    ]);
  });

  it('reports 429 with the Retry-After (or X-RateLimit-Reset) wait, 5xx and no answer as retryable, 401 as a key to fix', async () => {
    const statuses: { status: number; headers?: Record<string, string> }[] = [
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 429, headers: { 'x-ratelimit-reset': '3' } },
      { status: 429 },
      { status: 503 },
      { status: 401 },
    ];
    const api = await segmentApi(() => statuses.shift()!);
    const f = new SegmentForwarder({ endpoint: api.url, writeKey: 'wk' });
    const failure = async () => f.send([call(Math.random())]).then(() => undefined, (e: unknown) => e);
    const a = await failure();
    expect(a).toBeInstanceOf(SegmentHttpError);
    expect(a).toMatchObject({ status: 429, retryAfterMs: 7_000 });
    expect(await failure()).toMatchObject({ status: 429, retryAfterMs: 3_000 });
    expect(await failure()).toMatchObject({ status: 429, retryAfterMs: 10_000 });
    const down = await failure();
    expect(down).toBeInstanceOf(SegmentHttpError);
    expect(down).toMatchObject({ status: 503 });
    const key = await failure();
    expect(key).toBeInstanceOf(PermanentError);
    expect((key as Error).message).toMatch(/SEGMENT_FORWARD_WRITE_KEY/);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const gone = await failure();
    expect(gone).toBeInstanceOf(SegmentHttpError);
    expect(gone).toMatchObject({ status: undefined });
  });
});
