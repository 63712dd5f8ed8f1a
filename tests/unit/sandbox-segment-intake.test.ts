import { describe, expect, it } from 'vitest';
import { deepMerge, intake, SEGMENT_LIMITS, writeKeyFromAuthorization } from '../../sandbox/segment/intake';
import { InducedLoss, lostByRate } from '../../sandbox/segment/loss';
import { SegmentStore } from '../../sandbox/segment/store';
import type { Route } from '../../sandbox/segment/types';

const KEY = 'sandbox-segment-write-key';
const KEYS = new Set([KEY]);
const NOW = new Date('2025-03-01T12:00:00.000Z');
const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

function run(route: Route, body: unknown, opts: { authorization?: string; raw?: Buffer; ip?: string } = {}) {
  return intake({ route, body: opts.raw ?? Buffer.from(JSON.stringify(body)), authorization: opts.authorization ?? basic(KEY), ip: opts.ip ?? '203.0.113.7', now: NOW }, KEYS);
}

function accepted(result: ReturnType<typeof run>) {
  if (result.status !== 200) throw new Error(`expected 200, got 400 ${result.message}`);
  return result;
}

describe('Segment intake: auth', () => {
  it('reads the write key from Basic auth ("key:"), also without the colon', () => {
    expect(writeKeyFromAuthorization(basic('abc123'))).toBe('abc123');
    expect(writeKeyFromAuthorization('Basic YWJjMTIzOg==')).toBe('abc123');
    expect(writeKeyFromAuthorization(`Basic ${Buffer.from('abc123').toString('base64')}`)).toBe('abc123');
    expect(writeKeyFromAuthorization('Bearer token')).toBeUndefined();
    expect(writeKeyFromAuthorization(undefined)).toBeUndefined();
  });

  it('takes the body writeKey when there is no Basic header', () => {
    const r = accepted(run('track', { userId: 'u1', event: 'A', writeKey: KEY }, { authorization: '' }));
    expect(r.writeKey).toBe(KEY);
    expect(r.knownKey).toBe(true);
    expect(r.calls[0].message).not.toHaveProperty('writeKey');
  });

  it('answers 400 without any write key, and 200 (known: false) for an unknown one', () => {
    expect(run('track', { userId: 'u1', event: 'A' }, { authorization: '' })).toMatchObject({ status: 400, message: expect.stringMatching(/write key/) });
    expect(run('track', { userId: 'u1', event: 'A' }, { authorization: basic('someone-else') })).toMatchObject({ status: 200, knownKey: false });
  });
});

describe('Segment intake: limits and bad input', () => {
  it('400 for invalid JSON and for a body that is not an object', () => {
    expect(run('track', undefined, { raw: Buffer.from('{"userId": ') })).toMatchObject({ status: 400, message: 'Invalid JSON' });
    expect(run('track', [1, 2])).toMatchObject({ status: 400 });
  });

  it('400 above 32 KB for a single call, not at 32 KB', () => {
    const base = JSON.stringify({ userId: 'u1', event: 'A', properties: { pad: '' } });
    const exact = JSON.stringify({ userId: 'u1', event: 'A', properties: { pad: 'x'.repeat(SEGMENT_LIMITS.callBytes - base.length) } });
    expect(Buffer.byteLength(exact)).toBe(SEGMENT_LIMITS.callBytes);
    expect(run('track', undefined, { raw: Buffer.from(exact) }).status).toBe(200);
    const over = exact.replace('"pad":"', '"pad":"x');
    expect(run('track', undefined, { raw: Buffer.from(over) })).toMatchObject({ status: 400, message: expect.stringMatching(/too large/) });
  });

  it('400 above 500 KB per batch, and for one call above 32 KB inside a batch', () => {
    const call = (pad: number) => ({ type: 'track', userId: 'u1', event: 'A', properties: { pad: 'x'.repeat(pad) } });
    expect(run('batch', { batch: Array.from({ length: 20 }, () => call(30_000)) }).status).toBe(400);
    expect(run('batch', { batch: Array.from({ length: 15 }, () => call(30_000)) }).status).toBe(200);
    expect(run('batch', { batch: [call(10), call(33_000)] })).toMatchObject({ status: 400, message: expect.stringMatching(/call 1/) });
  });

  it('above 2,500 calls a batch is answered 200 and every call rejected', () => {
    const r = accepted(run('b', { batch: Array.from({ length: 2_501 }, (_, i) => ({ type: 'track', userId: 'u1', event: 'A', messageId: `m${i}` })) }));
    expect(r.calls).toHaveLength(0);
    expect(r.rejected).toHaveLength(2_501);
    expect(r.rejected[0].reason).toMatch(/2500/);
    expect(accepted(run('b', { batch: Array.from({ length: 2_500 }, () => ({ type: 'track', userId: 'u1', event: 'A' })) })).calls).toHaveLength(2_500);
  });

  it('rejects (200) calls with no userId/anonymousId, tracks without event, batch items without a valid type, long messageIds', () => {
    const r = accepted(
      run('batch', {
        batch: [
          { type: 'track', event: 'A', messageId: 'no-ids' },
          { type: 'track', userId: 'u1', messageId: 'no-event' },
          { type: 'purchase', userId: 'u1', messageId: 'bad-type' },
          { userId: 'u1', event: 'A', messageId: 'no-type' },
          { type: 'track', userId: 'u1', event: 'A', messageId: 'x'.repeat(100) },
          { type: 'group', userId: 'u1', messageId: 'no-group-id' },
          { type: 'alias', userId: 'u1', messageId: 'no-previous-id' },
          { type: 'identify', anonymousId: 'a1', messageId: 'fine' },
        ],
      }),
    );
    expect(r.calls.map((c) => c.messageId)).toEqual(['fine']);
    expect(r.rejected.map((x) => [x.index, x.reason.split(':')[0].split(' ')[0]])).toEqual([
      [0, 'no_user_anon_id'],
      [1, 'track'],
      [2, 'each'],
      [3, 'each'],
      [4, 'messageId'],
      [5, 'group'],
      [6, 'alias'],
    ]);
  });
});

describe('Segment intake: enrichment', () => {
  it('timestamp = receivedAt - (sentAt - originalTimestamp), with the call-level sentAt of analytics.js', () => {
    const r = accepted(run('t', { type: 'track', userId: 'u1', event: 'A', timestamp: '2025-03-01T11:59:00.000Z', sentAt: '2025-03-01T11:59:30.000Z' }));
    const c = r.calls[0];
    expect(c.receivedAt).toBe('2025-03-01T12:00:00.000Z');
    // The client clock runs 30 s behind between creation and sending: the event happened 30 s before receipt.
    expect(c.timestamp).toBe('2025-03-01T11:59:30.000Z');
    expect(c.message).toMatchObject({ originalTimestamp: '2025-03-01T11:59:00.000Z', sentAt: '2025-03-01T11:59:30.000Z', timestamp: c.timestamp, receivedAt: c.receivedAt });
  });

  it('uses the batch-level sentAt of analytics-node and the batching mode, and corrects a fast clock', () => {
    const r = accepted(run('batch', { sentAt: '2025-03-01T12:10:00.000Z', batch: [{ type: 'track', userId: 'u1', event: 'A', timestamp: '2025-03-01T12:09:55.000Z' }] }));
    expect(r.calls[0].timestamp).toBe('2025-03-01T11:59:55.000Z');
    expect(r.calls[0].message.sentAt).toBe('2025-03-01T12:10:00.000Z');
  });

  it('without a client timestamp the server time is the timestamp; without sentAt no correction', () => {
    expect(accepted(run('track', { userId: 'u1', event: 'A' })).calls[0].timestamp).toBe(NOW.toISOString());
    expect(accepted(run('track', { userId: 'u1', event: 'A', timestamp: '2024-01-01T00:00:00Z' })).calls[0].timestamp).toBe('2024-01-01T00:00:00.000Z');
  });

  it('the route names the type of a single call; a batch item its own', () => {
    expect(accepted(run('p', { userId: 'u1', name: 'Home', type: 'page' })).calls[0].type).toBe('page');
    expect(accepted(run('identify', { userId: 'u1' })).calls[0].type).toBe('identify');
    expect(accepted(run('batch', { batch: [{ type: 'screen', userId: 'u1', name: 'Home' }] })).calls[0].type).toBe('screen');
  });

  it('keeps the messageId, or assigns one', () => {
    expect(accepted(run('track', { userId: 'u1', event: 'A', messageId: 'm-1' })).calls[0].messageId).toBe('m-1');
    expect(accepted(run('track', { userId: 'u1', event: 'A' })).calls[0].messageId).toMatch(/^api-[0-9a-f-]{36}$/);
  });

  it('merges batch context and integrations into each call, the call winning', () => {
    const r = accepted(
      run('batch', {
        context: { device: { type: 'phone', name: 'iPhone' }, locale: 'en-SG' },
        integrations: { All: true },
        batch: [{ type: 'track', userId: 'u1', event: 'A', context: { device: { name: 'Pixel' } }, integrations: { Amplitude: false } }],
      }),
    );
    expect(r.calls[0].message.context).toEqual({ device: { type: 'phone', name: 'Pixel' }, locale: 'en-SG' });
    expect(r.calls[0].message.integrations).toEqual({ All: true, Amplitude: false });
    expect(deepMerge({ a: { b: 1 } }, { a: 2 })).toEqual({ a: 2 });
  });

  it('fills context.ip from the request for analytics.js and context.direct, never over a sent one', () => {
    const ip = (context: object) => accepted(run('track', { userId: 'u1', event: 'A', context })).calls[0].message.context;
    expect(ip({ library: { name: 'analytics.js', version: 'npm:next-1.84.1' } })).toMatchObject({ ip: '203.0.113.7' });
    expect(ip({ direct: true })).toMatchObject({ ip: '203.0.113.7' });
    expect(ip({ library: { name: 'analytics.js' }, ip: '198.51.100.1' })).toMatchObject({ ip: '198.51.100.1' });
    expect(ip({ library: { name: '@segment/analytics-node' } })).not.toHaveProperty('ip');
  });
});

describe('Segment emulator: deduplication and induced loss', () => {
  it('remembers messageIds for the window only', () => {
    const store = new SegmentStore();
    const call = { messageId: 'm1', type: 'track' as const, writeKey: KEY, receivedAt: NOW.toISOString(), timestamp: NOW.toISOString(), message: {} };
    expect(store.isDuplicate('m1', 'track', 0, 1000)).toBe(false);
    store.add(call, 0);
    expect(store.isDuplicate('m1', 'track', 999, 1000)).toBe(true);
    expect(store.isDuplicate('m1', 'track', 1000, 1000)).toBe(false);
    expect(store.byMessageId('m1')?.times).toBe(2);
    expect(store.duplicates()).toEqual([{ at: 999, messageId: 'm1', type: 'track' }]);
  });

  it('loses listed messageIds, and a rate chosen per messageId whatever the order', () => {
    const loss = new InducedLoss();
    loss.set({ messageIds: ['gone'], rate: 0.25, seed: 3 });
    expect(loss.decide('gone', 'track')).toMatch(/listed/);
    const ids = Array.from({ length: 4_000 }, (_, i) => `msg-${i}`);
    const lost = ids.filter((id) => loss.decide(id, 'page') !== undefined);
    expect(lost.length / ids.length).toBeGreaterThan(0.22);
    expect(lost.length / ids.length).toBeLessThan(0.28);
    expect([...ids].reverse().filter((id) => lostByRate(id, 0.25, 3)).reverse()).toEqual(lost);
    loss.set({ rate: 1, types: ['identify'] });
    expect(loss.decide('x', 'track')).toBeUndefined();
    expect(loss.decide('x', 'identify')).toBeDefined();
  });
});
