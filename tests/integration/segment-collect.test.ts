import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Analytics } from '@segment/analytics-node';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../helpers/ports';
import { createLogger } from '../../config/logger';
import { startWebhookServer } from '../../webhook/start-server';
import { basicAuth, makeSegmentStack, ORIGIN, startSegmentWorker, trackCall, WRITE_KEY, type SegmentStack } from '../helpers/segment-collect';
import { temporalSuite } from '../helpers/temporal-suite';
import { sendUntilAdmitted } from '../helpers/ingest-settling';

/**
 * Website tracking end to end on the real dev server, the real workflow bundle and worker, DuckDB in a
 * temp dir, the Amplitude emulator and the Segment emulator (the forward's destination), with Segment's
 * own client (@segment/analytics-node) pointed at the endpoint. Expectations come from what was sent.
 */

const log = createLogger({ level: 'silent' });

const suite = temporalSuite();

const insertIds = (stack: SegmentStack) => stack.amplitude.store.list().map((e) => e.insertId ?? '');
const countOf = (ids: string[], id: string) => ids.filter((x) => x === id).length;

describe('Segment calls from analytics-node to silver, Amplitude and Segment', () => {
  let stack: SegmentStack;
  let worker: Awaited<ReturnType<typeof startSegmentWorker>>;
  beforeAll(async () => {
    stack = await makeSegmentStack(suite.env);
    worker = await startSegmentWorker(suite.env, suite.bundle, stack);
  }, 120_000);
  afterAll(async () => {
    await worker?.stop();
    await stack?.close();
  });

  it('lands track, identify, page, screen, group and alias once in silver, in Amplitude (as documented) and in Segment, with the same messageId', async () => {
    const analytics = new Analytics({ writeKey: WRITE_KEY, host: stack.server.url, flushAt: 3, flushInterval: 200, maxRetries: 3 });
    const id = (k: string) => `node-${k}-${randomUUID()}`;
    const ids = { track: id('t'), identify: id('i'), page: id('p'), screen: id('s'), group: id('g'), alias: id('a') };
    const user = `user-${randomUUID()}`;
    const errors: unknown[] = [];
    analytics.on('error', (e) => errors.push(e));
    analytics.track({ userId: user, event: 'Demo Requested', properties: { plan: 'enterprise', seats: 40 }, messageId: ids.track });
    analytics.identify({ userId: user, traits: { email: 'jane.doe@novade.net', title: 'Site Manager' }, messageId: ids.identify });
    analytics.page({ userId: user, name: 'Pricing', properties: { path: '/pricing', url: 'https://www.novade.com/pricing' }, messageId: ids.page });
    analytics.screen({ userId: user, name: 'Site Diary', messageId: ids.screen });
    analytics.group({ userId: user, groupId: 'acme-builders', traits: { plan: 'enterprise', name: 'Acme Builders' }, messageId: ids.group });
    analytics.alias({ userId: user, previousId: 'anon-previous-0001', messageId: ids.alias });
    await analytics.closeAndFlush({ timeout: 10_000 });
    expect(errors).toEqual([]);
    await stack.settle(6);

    expect((await stack.silverIds('tracks')).filter((x) => x === ids.track)).toHaveLength(1);
    expect((await stack.silverIds('identifies')).filter((x) => x === ids.identify)).toHaveLength(1);
    expect((await stack.silverIds('pages')).filter((x) => x === ids.page)).toHaveLength(1);
    expect((await stack.silverIds('screens')).filter((x) => x === ids.screen)).toHaveLength(1);
    expect((await stack.silverIds('groups')).filter((x) => x === ids.group)).toHaveLength(1);
    expect((await stack.silverIds('aliases')).filter((x) => x === ids.alias)).toHaveLength(1);
    const [row] = await stack.deps.warehouse.query<{ event: string; event_text: string; properties: string; context: string }>(
      'SELECT event, event_text, properties, context FROM silver.segment_live_tracks WHERE id = ?',
      [ids.track],
    );
    expect(row).toMatchObject({ event: 'demo_requested', event_text: 'Demo Requested' });
    expect(JSON.parse(row.properties)).toEqual({ plan: 'enterprise', seats: 40 });
    expect(JSON.parse(row.context)).toMatchObject({ library_name: '@segment/analytics-node', ip: '127.0.0.1' });

    // Amplitude: the backfill's mapping; group sets the group; alias needs the Portfolio add-on and says so.
    const amp = (messageId: string) => stack.amplitude.store.byInsertId(`seg:${messageId}`);
    expect(amp(ids.track)).toMatchObject({ eventType: 'demo_requested', userId: user, event: { event_properties: { plan: 'enterprise', seats: 40 } } });
    expect(amp(ids.identify)).toMatchObject({ eventType: '$identify', userId: user, event: { user_properties: { $set: { email: 'jane.doe@novade.net', title: 'Site Manager' } } } });
    expect(amp(ids.page)).toMatchObject({ eventType: 'Viewed Pricing' });
    expect(amp(ids.screen)).toMatchObject({ eventType: 'Viewed Site Diary' });
    expect(amp(ids.group)).toMatchObject({ eventType: '$identify', event: { groups: { company: 'acme-builders' } } });
    expect(amp(ids.alias)).toBeUndefined();
    const letters = await stack.deps.warehouse.query<{ record_key: string; stream: string; reason: string }>("SELECT record_key, stream, reason FROM ops.dead_letters WHERE flow = 'segment'");
    expect(letters).toEqual([{ record_key: ids.alias, stream: 'segment_live_amplitude', reason: expect.stringMatching(/usermap.*Portfolio/) }]);
    for (const messageId of Object.values(ids)) expect(countOf(insertIds(stack), `seg:${messageId}`)).toBeLessThanOrEqual(1);

    // Segment: every call forwarded once, unchanged but for the times it re-derives.
    for (const [type, messageId] of Object.entries(ids)) {
      const got = stack.segment.store.byMessageId(messageId);
      expect(got?.times, type).toBe(1);
      expect(got?.call.type).toBe(type);
    }
    expect(stack.segment.store.byMessageId(ids.track)?.call.message).toMatchObject({
      event: 'Demo Requested',
      userId: user,
      properties: { plan: 'enterprise', seats: 40 },
      context: { library: { name: '@segment/analytics-node' }, ip: '127.0.0.1' },
    });
  });

  it('accepts analytics.js batches and single calls (text/plain, CORS), dead-letters invalid items, and absorbs replays of a messageId', async () => {
    const before = (await stack.silverIds()).length;
    const calls = [trackCall(), trackCall({ type: 'page', event: undefined, name: 'Home' }), trackCall()];
    const invalid = { type: 'track', messageId: `bad-${randomUUID()}`, anonymousId: 'anon-12345' };
    const headers = { 'content-type': 'text/plain', origin: ORIGIN, authorization: basicAuth() };
    const r = await stack.post('b', { batch: [calls[0], invalid, calls[1]], sentAt: new Date().toISOString(), writeKey: WRITE_KEY }, headers);
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(r.body).toMatchObject({ accepted: 2, rejected: 1 });
    expect((await stack.post('t', calls[2], headers)).status).toBe(200);
    // The same calls again, as a client retries after a lost answer: alone, in a new batch, and mixed.
    expect((await stack.post('t', calls[2], headers)).status).toBe(200);
    expect((await stack.post('batch', { batch: calls }, headers)).status).toBe(200);
    const preflight = await fetch(`${stack.server.url}/v1/t`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,x-retry-count' } });
    expect(preflight.status).toBe(204);
    // Over the server's own body limit (1 MB) as well as Segment's: still Segment's 400, not a 413.
    const huge = await stack.post('batch', JSON.stringify({ batch: [trackCall({ properties: { blob: 'x'.repeat(1_100_000) } })] }));
    expect(huge.status).toBe(400);
    expect(huge.body.error).toBe('payload_too_large');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization.*X-Retry-Count/);

    await stack.settle(6 + 2 + 1 + 1 + 3);
    const ids = await stack.silverIds();
    expect(ids.length - before).toBe(3);
    for (const c of calls) {
      expect(countOf(ids, c.messageId as string)).toBe(1);
      expect(countOf(insertIds(stack), `seg:${String(c.messageId)}`)).toBe(1);
      // A client's replay is forwarded again and Segment keeps the first (it deduplicates on messageId, as the emulator does).
      expect(stack.segment.store.list().filter((k) => k.messageId === c.messageId)).toHaveLength(1);
    }
    const [letter] = await stack.deps.warehouse.query<{ stream: string; reason: string }>('SELECT stream, reason FROM ops.dead_letters WHERE record_key = ?', [invalid.messageId]);
    expect(letter).toMatchObject({ stream: 'segment_live_events', reason: expect.stringMatching(/event/) });
    // Bronze keeps the enriched call as made durable: receivedAt, corrected timestamp, no write key.
    const [bronze] = await stack.deps.warehouse.query<{ _payload: string }>('SELECT _payload FROM bronze.segment_live_events WHERE message_id = ? LIMIT 1', [calls[0].messageId as string]);
    expect(JSON.parse(bronze._payload)).toMatchObject({ messageId: calls[0].messageId, receivedAt: expect.any(String), timestamp: expect.any(String), context: expect.objectContaining({ ip: '127.0.0.1' }) });
    expect(JSON.stringify(bronze._payload)).not.toContain(WRITE_KEY);
  });

  it('stays fast and lossless while Amplitude and Segment answer 429/5xx storms: slower delivery, same single copy', async () => {
    stack.amplitude.faults.set({ 'POST /2/httpapi': { errorRate: 0.6, statuses: [429, 500, 502, 503, 'reset'], retryAfterSeconds: 1 } });
    stack.segment.faults.set({ 'POST /v1/batch': { errorRate: 0.6, statuses: [429, 500, 503], retryAfterSeconds: 1 } });
    const sent: string[] = [];
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const batch = Array.from({ length: 10 }, () => trackCall());
        const r = await stack.post('batch', { batch });
        statuses.push(r.status);
        if (r.status === 200) sent.push(...batch.map((c) => c.messageId as string));
      }
      // Acknowledgements never wait for the destinations.
      expect(statuses.every((s) => s === 200)).toBe(true);
      const ingest = await stack.ingestStatus();
      await stack.settle(ingest.received, 120_000);
    } finally {
      stack.amplitude.faults.clear();
      stack.segment.faults.clear();
    }
    expect(stack.amplitude.faults.injected.get('POST /2/httpapi') ?? 0).toBeGreaterThan(0);
    expect(stack.segment.faults.injected.get('POST /v1/batch') ?? 0).toBeGreaterThan(0);
    const amp = insertIds(stack);
    for (const id of sent) {
      expect(countOf(amp, `seg:${id}`), id).toBe(1);
      expect(stack.segment.store.byMessageId(id)?.times, id).toBe(1);
    }
    const silver = await stack.silverIds('tracks');
    for (const id of sent) expect(countOf(silver, id), id).toBe(1);
  }, 180_000);
});

describe('Segment endpoint when Temporal is down or the worker dies', () => {
  it('answers 503 with Retry-After (never 200) while Temporal is unreachable; the client retry then lands once', async () => {
    const stack = await makeSegmentStack(suite.env, { forward: false });
    const worker = await startSegmentWorker(suite.env, suite.bundle, stack);
    const deadPort = await freePort();
    const connection = Connection.lazy({ address: `127.0.0.1:${deadPort}`, connectTimeout: '500ms' });
    const client = new Client({ connection, namespace: 'default' });
    const cut = await startWebhookServer({ config: stack.config, log, client, port: 0, segmentIngest: { workflowIdPrefix: `cut-${stack.taskQueue}`, timeoutMs: 800 } });
    try {
      const call = trackCall();
      const res = await fetch(`${cut.url}/v1/t`, { method: 'POST', headers: { authorization: basicAuth() }, body: JSON.stringify(call) });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toMatchObject({ error: 'unavailable', message: expect.stringContaining('nothing was stored') });
      const batch = await fetch(`${cut.url}/v1/batch`, { method: 'POST', headers: { authorization: basicAuth() }, body: JSON.stringify({ batch: [trackCall(), trackCall()] }) });
      expect(batch.status).toBe(503);
      // Bad input is still a 400: retrying cannot fix it.
      expect((await fetch(`${cut.url}/v1/t`, { method: 'POST', headers: { authorization: basicAuth() }, body: '{' })).status).toBe(400);

      expect((await stack.post('t', call)).status).toBe(200);
      await stack.settle(1);
      expect(await stack.silverIds()).toEqual([call.messageId]);
    } finally {
      await cut.close();
      await connection.close().catch(() => undefined);
      await worker.stop();
      await stack.close();
    }
  });

  it('keeps every acknowledged call exactly once in silver, Amplitude and Segment when the worker is killed while calls flow', async () => {
    const stack = await makeSegmentStack(suite.env, { settings: { maxBatch: 50, maxAgeMs: 50, maxHistoryEvents: 100, flushTimeout: '3 seconds' } });
    try {
      let worker = await startSegmentWorker(suite.env, suite.bundle, stack, { graceMs: 1 });
      const acked = new Set<string>();
      const refused: unknown[] = [];
      let sending = true;
      const sender = async () => {
        while (sending) {
          const calls = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => trackCall());
          const send = () => (calls.length === 1 ? stack.post('t', calls[0]) : stack.post('batch', { batch: calls }));
          // Six senders as fast as they can go outrun the shards' admission budget: "ingest_busy" stored
          // nothing and Segment's clients send it again after Retry-After, so these do too.
          const { answer: r } = await sendUntilAdmitted(send);
          if (r.status === 200) for (const c of calls) acked.add(c.messageId as string);
          else refused.push({ status: r.status, body: r.body });
        }
      };
      const senders = Array.from({ length: 6 }, sender);
      const until = async (n: number) => {
        while (acked.size < n) await new Promise((r) => setTimeout(r, 10));
      };
      await until(200);
      // Killed with flushes and deliveries in flight: no grace, its activities never report back.
      await worker.stop();
      const killedAt = acked.size;
      await until(killedAt + 200);
      worker = await startSegmentWorker(suite.env, suite.bundle, stack);
      await until(killedAt + 400);
      sending = false;
      await Promise.all(senders);
      await stack.settle(acked.size, 120_000);
      await worker.stop();

      expect(refused).toEqual([]);
      const ids = await stack.silverIds('tracks');
      expect(ids.length).toBe(acked.size);
      expect(new Set(ids)).toEqual(acked);
      const amp = new Set(insertIds(stack));
      expect(amp.size).toBe(acked.size);
      for (const id of acked) expect(amp.has(`seg:${id}`), id).toBe(true);
      const forwarded = stack.segment.store.list().map((c) => c.messageId);
      expect(forwarded.length).toBe(acked.size);
      expect(new Set(forwarded)).toEqual(acked);
    } finally {
      await stack.close();
    }
  }, 240_000);
});
