import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';

/** Amplitude event streaming from the emulator to a webhook, as our webhook will receive it. */

const KEY = 'sandbox-amplitude-key';
let emu: AmplitudeEmulator;
let receiver: FastifyInstance;
let receiverUrl: string;
const received: Array<{ headers: Record<string, unknown>; body: Record<string, unknown> }> = [];
/** Statuses the receiver answers, in order; 200 once exhausted. */
let script: number[] = [];

beforeAll(async () => {
  emu = await startAmplitudeEmulator({ port: 0 });
  receiver = Fastify();
  receiver.post('/amplitude', async (req, reply) => {
    received.push({ headers: req.headers, body: req.body as Record<string, unknown> });
    return reply.code(script.shift() ?? 200).send({ ok: true });
  });
  await receiver.listen({ port: 0, host: '127.0.0.1' });
  const address = receiver.server.address();
  receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/amplitude`;
});
afterAll(async () => {
  await emu.close();
  await receiver.close();
});
afterEach(() => {
  emu.setStream(undefined);
  emu.store.clear();
  received.length = 0;
  script = [];
});

const send = (path: string, events: unknown[]) =>
  fetch(`${emu.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ api_key: KEY, events }) });

const fastRetries = { retryDelaysMs: [20, 20], innerRetry: { maxTries: 3, initialDelayMs: 5, maxElapsedMs: 1_000 } };

describe('Amplitude event streaming to a webhook', () => {
  it('POSTs each ingested event once, on its own, as export JSON with the preset and custom headers', async () => {
    emu.setStream({ url: receiverUrl, headers: { 'X-Webhook-Secret': 'sandbox-webhook-secret' } });
    await send('/2/httpapi', [
      { event_type: 'Opportunity Won', user_id: 'user-00001', insert_id: 'sf:1', time: Date.UTC(2026, 0, 2, 3, 4, 5, 6), event_properties: { amount: 5 } },
      { event_type: 'Chat Started', device_id: 'drift-16000000001', insert_id: 'drift:1' },
    ]);
    await emu.flushStream(5_000);
    expect(received).toHaveLength(2);
    const byType = Object.fromEntries(received.map((r) => [r.body.event_type, r]));
    expect(byType['Opportunity Won'].headers).toMatchObject({ 'content-type': 'application/json', 'user-agent': 'Amplitude/Webhook/1.0', 'x-webhook-secret': 'sandbox-webhook-secret' });
    expect(byType['Opportunity Won'].body).toMatchObject({ $insert_id: 'sf:1', user_id: 'user-00001', device_id: null, event_time: '2026-01-02 03:04:05.006', event_properties: { amount: 5 } });
    expect(byType['Opportunity Won'].body.uuid).toBe(emu.store.byInsertId('sf:1')?.uuid);
    expect(byType['Chat Started'].body).toMatchObject({ $insert_id: 'drift:1', user_id: null, device_id: 'drift-16000000001' });
    expect(emu.streamStats()).toMatchObject({ delivered: 2, failed: 0, pending: 0 });
  });

  it('does not stream duplicates or $identify events', async () => {
    emu.setStream({ url: receiverUrl });
    const e = { event_type: 'Lead Created', user_id: 'user-00001', insert_id: 'sf:lead:1' };
    await send('/2/httpapi', [e]);
    await send('/batch', [e, { event_type: '$identify', user_id: 'user-00001', user_properties: { $set: { a: 1 } } }]);
    await emu.flushStream(5_000);
    expect(received.map((r) => r.body.$insert_id)).toEqual(['sf:lead:1']);
  });

  it('retries 5xx and 429 within an attempt, then on the outer schedule, until delivered', async () => {
    emu.setStream({ url: receiverUrl, ...fastRetries });
    script = [500, 429, 503, 502];
    await send('/2/httpapi', [{ event_type: 'Retry Me', user_id: 'user-00001' }]);
    await emu.flushStream(5_000);
    expect(received).toHaveLength(5);
    expect(emu.streamStats()).toMatchObject({ delivered: 1, failed: 0, attempts: 2 });
  });

  it('a 4xx is not retried within an attempt, only on the outer schedule; it gives up after the last attempt', async () => {
    emu.setStream({ url: receiverUrl, ...fastRetries });
    script = [400, 401, 403];
    await send('/2/httpapi', [{ event_type: 'Rejected', user_id: 'user-00001' }]);
    await emu.flushStream(5_000);
    expect(received).toHaveLength(3);
    expect(emu.streamStats()).toMatchObject({ delivered: 0, failed: 1, attempts: 3, pending: 0 });
  });

  it('defaults to Amplitude\'s schedule: nine more attempts over 4 hours', async () => {
    emu.setStream({ url: receiverUrl });
    const res = await fetch(`${emu.url}/__sandbox/stream`);
    const { target } = (await res.json()) as { target: { retryDelaysMs: number[] } };
    expect(target.retryDelaysMs).toHaveLength(9);
    expect(target.retryDelaysMs.reduce((a, b) => a + b, 0)).toBe(4 * 3_600_000);
  });

  it('stream target and headers can be set at run time over PUT /__sandbox/stream, with at most 5 custom headers', async () => {
    const put = (body: unknown) => fetch(`${emu.url}/__sandbox/stream`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const tooMany = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`X-H${i}`, 'v']));
    expect((await put({ url: receiverUrl, headers: tooMany })).status).toBe(400);
    expect((await put({ url: receiverUrl, headers: { 'X-Secret': 's' } })).status).toBe(200);
    await send('/2/httpapi', [{ event_type: 'Remote', user_id: 'user-00001' }]);
    const flushed = await (await fetch(`${emu.url}/__sandbox/stream/flush`, { method: 'POST' })).json();
    expect(flushed).toMatchObject({ delivered: 1 });
    expect(received[0].headers['x-secret']).toBe('s');
    expect((await put({})).status).toBe(200);
    await send('/2/httpapi', [{ event_type: 'Not Streamed', user_id: 'user-00001' }]);
    expect(received).toHaveLength(1);
  });
});
