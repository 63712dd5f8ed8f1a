import { describe, expect, it } from 'vitest';
import type { Client, WorkflowClient } from '@temporalio/client';
import { defaultPayloadConverter, ValueError, type PayloadConverter } from '@temporalio/common';
import type { IngestSignal } from '../../activities/amplitude-ingest-types';
import { createLogger } from '../../config/logger';
import { buildConfig } from '../../config/config';
import { createAmplitudeHandler, type EventIngest } from '../../webhook/amplitude-handler';
import { handleDriftWebhook } from '../../webhook/drift';
import { boundedRawBody, createIngestGuard, DEFAULT_INGEST_LIMITS, hasLoneSurrogate, ingestLimits, isContentRefusal } from '../../webhook/ingest-guard';
import { WebhookMetrics } from '../../webhook/metrics';
import { IngestContentError, TemporalIngest } from '../../webhook/temporal-ingest';
import { exportEvent } from '../helpers/amplitude-webhook';

const log = createLogger({ level: 'silent' });
const nested = (levels: number): unknown => JSON.parse(`${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`);

describe('ingest guard', () => {
  const guard = createIngestGuard({ maxDepth: 8, maxEventBytes: 2_000, maxProperties: 50 });

  it('lets a real export event through with the default limits, and a value exactly at each bound', () => {
    expect(createIngestGuard().check(exportEvent(), 0)).toBeUndefined();
    expect(guard.check(nested(8), 0)).toBeUndefined();
    expect(guard.check({ list: Array.from({ length: 49 }, (_, i) => i) }, 0)).toBeUndefined();
  });

  it('names the index, the path and the setting of the first bound crossed', () => {
    expect(guard.check(nested(9), 3)).toEqual({ index: 3, path: 'a.a.a.a.a.a.a.a', limit: 'WEBHOOK_EVENT_MAX_DEPTH', message: expect.stringContaining('WEBHOOK_EVENT_MAX_DEPTH=8') });
    expect(guard.check({ list: Array.from({ length: 50 }, (_, i) => i) }, 0)).toMatchObject({ limit: 'WEBHOOK_EVENT_MAX_PROPERTIES', path: 'list' });
    expect(guard.check({ text: 'é'.repeat(1_000) }, 1)).toMatchObject({ index: 1, limit: 'WEBHOOK_EVENT_MAX_BYTES', message: expect.stringContaining('2011 bytes') });
    // Depth is caught by the walk, whatever the depth: the walk does not recurse.
    expect(createIngestGuard().check(nested(200_000), 0)).toMatchObject({ limit: 'WEBHOOK_EVENT_MAX_DEPTH', path: expect.stringContaining('(64 levels)') });
  });

  it('refuses what the configured payload converter refuses', () => {
    expect(createIngestGuard().check({ n: 10n }, 0)).toMatchObject({ limit: 'TEMPORAL_PAYLOAD', message: expect.stringContaining('Unable to convert') });
    const picky: PayloadConverter = {
      toPayload: (v) => {
        if (JSON.stringify(v).includes('secret')) throw new ValueError('no secrets');
        return defaultPayloadConverter.toPayload(v);
      },
      fromPayload: (p) => defaultPayloadConverter.fromPayload(p),
    };
    expect(createIngestGuard(DEFAULT_INGEST_LIMITS, picky).check({ a: 'secret' }, 0)).toMatchObject({ limit: 'TEMPORAL_PAYLOAD', message: expect.stringContaining('no secrets') });
  });

  it('reads its limits from the environment, with defaults and bounds', () => {
    expect(ingestLimits(buildConfig({}, '/tmp').env)).toEqual(DEFAULT_INGEST_LIMITS);
    expect(ingestLimits(buildConfig({ WEBHOOK_EVENT_MAX_DEPTH: '10', WEBHOOK_EVENT_MAX_BYTES: '4096', WEBHOOK_EVENT_MAX_PROPERTIES: '100' }, '/tmp').env)).toEqual({ maxDepth: 10, maxEventBytes: 4096, maxProperties: 100 });
    expect(() => buildConfig({ WEBHOOK_EVENT_MAX_DEPTH: '5000' }, '/tmp')).toThrow(/WEBHOOK_EVENT_MAX_DEPTH/);
  });

  it('cuts a raw body for a dead letter without splitting a surrogate pair', () => {
    expect(boundedRawBody(Buffer.from('{"a":1}'))).toBe('{"a":1}');
    expect(boundedRawBody('ab😀', 3)).toBe('ab');
    expect(boundedRawBody(Buffer.from('x'.repeat(100)), 10)).toBe('x'.repeat(10));
    expect(hasLoneSurrogate('ok 😀')).toBe(false);
    expect(hasLoneSurrogate('bad \ud800 x')).toBe(true);
    expect(hasLoneSurrogate('bad \udc00')).toBe(true);
  });

  it('tells content refusals (converter errors, INVALID_ARGUMENT) from outages', () => {
    expect(isContentRefusal(new Error('Unexpected error while making gRPC request', { cause: new ValueError('Unable to convert [object Object] to payload') }))).toBe(true);
    expect(isContentRefusal(new Error('Failed to signalWithStart Workflow', { cause: Object.assign(new Error('3 INVALID_ARGUMENT: Blob data size exceeds limit.'), { code: 3 }) }))).toBe(true);
    expect(isContentRefusal(new Error('Failed', { cause: Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }) }))).toBe(false);
    expect(isContentRefusal(new Error('timeout'))).toBe(false);
  });
});

interface Call {
  uuids: unknown[];
  settle(err?: Error): void;
}

function fakeClient(): { client: Client; calls: Call[] } {
  const calls: Call[] = [];
  const client = {
    connection: { withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn() },
    workflow: {
      signalWithStart: (_type: string, opts: { signalArgs: [IngestSignal] }) =>
        new Promise<void>((resolve, reject) => calls.push({ uuids: opts.signalArgs[0].events.map((e) => e.uuid), settle: (err) => (err ? reject(err) : resolve()) })),
    },
  };
  return { client: client as unknown as Client, calls };
}

const turn = () => new Promise((r) => setImmediate(r));
const unconvertible = () => new Error('Unexpected error while making gRPC request', { cause: new ValueError('Unable to convert [object Object] to payload') });

describe('TemporalIngest: a grouped signal refused for its content', () => {
  it('resends each request of the group alone: the culprit gets IngestContentError, the others are acknowledged', async () => {
    const { client, calls } = fakeClient();
    const metrics = new WebhookMetrics({ defaultMetrics: false });
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 1, lingerMs: 0, metrics });
    const submit = (uuid: string) => ingest.submit({ events: [{ uuid }], rejected: [] }, { key: uuid, bytes: 10 }).then(() => 'ok', (e: Error) => e);
    const results = Promise.all([submit('a'), submit('bad'), submit('c')]);
    await turn();
    expect(calls.map((c) => c.uuids)).toEqual([['a', 'bad', 'c']]);
    calls[0].settle(unconvertible());
    await turn();
    expect(calls.slice(1).map((c) => c.uuids)).toEqual([['a'], ['bad'], ['c']]);
    calls[1].settle();
    calls[2].settle(unconvertible());
    calls[3].settle();
    const [a, bad, c] = await results;
    expect(a).toBe('ok');
    expect(c).toBe('ok');
    expect(bad).toBeInstanceOf(IngestContentError);
    expect((bad as Error).message).toContain('Unable to convert');
    expect((await metrics.contentSplits.get()).values[0].value).toBe(1);
  });

  it('passes an outage through to every request of the group (they get 503 and are retried)', async () => {
    const { client, calls } = fakeClient();
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 1, lingerMs: 0 });
    const results = Promise.all(['a', 'b'].map((uuid) => ingest.submit({ events: [{ uuid }], rejected: [] }, { key: uuid, bytes: 10 }).catch((e: Error) => e)));
    await turn();
    calls[0].settle(Object.assign(new Error('14 UNAVAILABLE: connection refused'), { code: 14 }));
    const errs = await results;
    expect(calls).toHaveLength(1);
    for (const e of errs) expect((e as Error).message).toContain('UNAVAILABLE');
  });
});

describe('Amplitude handler: refusals for content', () => {
  const secret = 'a-secret-long-enough';
  const handlerWith = (ingest: EventIngest) => createAmplitudeHandler({ secret, secretHeader: 'x-secret', bodyLimitBytes: 1 << 20, ingest, log });
  const headers = { 'x-secret': secret };

  it('refuses an event over a limit with a 400 naming it, keeps the batch’s valid events, and dead-letters the raw body once', async () => {
    const signals: IngestSignal[] = [];
    const handler = handlerWith({ submit: async (s) => void signals.push(s) });
    const ok = exportEvent();
    const deep1 = exportEvent({ event_properties: nested(100) });
    const deep2 = exportEvent({ event_properties: nested(70) });
    const body = JSON.stringify([ok, deep1, deep2]);
    const res = await handler({ headers, body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ accepted: 1, rejected: 2, events: [{ index: 0, status: 'accepted' }, { index: 1, status: 'rejected', limit: 'WEBHOOK_EVENT_MAX_DEPTH' }, { index: 2, limit: 'WEBHOOK_EVENT_MAX_DEPTH' }] });
    expect(signals).toHaveLength(1);
    expect(signals[0].events).toEqual([ok]);
    expect(signals[0].rejected.map((r) => [r.recordKey, r.payload])).toEqual([
      [deep1.uuid, body],
      [deep2.uuid, `raw request body stored with dead letter ${deep1.uuid}`],
    ]);
    expect(signals[0].rejected[0].problems[0].path).toMatch(/^\[1\]\.event_properties\.a/);
  });

  it('maps IngestContentError to 400 with the raw body dead-lettered, and to 503 when even the dead letter cannot be stored', async () => {
    const ev = exportEvent();
    const letters: IngestSignal[] = [];
    const refusing = (letterFails: boolean): EventIngest => ({
      submit: async (s) => {
        if (s.events.length > 0) throw new IngestContentError('3 INVALID_ARGUMENT: Blob data size exceeds limit.');
        if (letterFails) throw new Error('14 UNAVAILABLE');
        letters.push(s);
      },
    });
    const res = await handlerWith(refusing(false))({ headers, body: JSON.stringify(ev) });
    expect(res).toMatchObject({ status: 400, body: { error: 'not_storable', accepted: 0, rejected: 1, events: [{ index: 0, uuid: ev.uuid, status: 'rejected', limit: 'TEMPORAL_PAYLOAD' }] } });
    expect(letters).toEqual([{ events: [], rejected: [{ recordKey: ev.uuid, problems: [{ path: '', message: expect.stringContaining('Blob data size') }], payload: JSON.stringify(ev) }] }]);
    expect((await handlerWith(refusing(true))({ headers, body: JSON.stringify(ev) })).status).toBe(503);
  });
});

describe('Drift handler: hostile bodies', () => {
  const token = 'drift-verification-token';
  const sent: unknown[] = [];
  let failWith: Error | undefined;
  const client = {
    signalWithStart: async (_wf: string, opts: { workflowId: string }) => {
      if (failWith) throw failWith;
      sent.push(opts.workflowId);
    },
  } as unknown as WorkflowClient;
  const deps = { client, taskQueue: 'q', verificationToken: token, log };
  const post = (data: unknown, type = 'new_meeting', orgId: unknown = 21) => handleDriftWebhook(deps, { type, token, orgId, data });

  it('answers 400, never 503, for ids Temporal cannot carry, bodies over the limits, and content Temporal refuses', async () => {
    expect((await post({ eventId: 'x'.repeat(5_000), slotStart: 1 })).status).toBe(400);
    expect((await post({ eventId: 'meet-\ud800', slotStart: 1 })).status).toBe(400);
    expect((await post({ eventId: 'meet\u0000', slotStart: 1 })).status).toBe(400);
    expect((await post({ eventId: 'm1', slotStart: 1 }, 'new_meeting', 'org/../x')).status).toBe(400);
    const deep = await post({ eventId: 'm1', slotStart: 1, extra: nested(5_000) });
    expect(deep).toMatchObject({ status: 400, body: { limit: 'WEBHOOK_EVENT_MAX_DEPTH' } });
    failWith = new Error('Failed to signalWithStart Workflow', { cause: Object.assign(new Error('3 INVALID_ARGUMENT: Blob data size exceeds limit.'), { code: 3 }) });
    expect(await post({ eventId: 'm1', slotStart: 1 })).toMatchObject({ status: 400, body: { limit: 'TEMPORAL_PAYLOAD' } });
    failWith = Object.assign(new Error('14 UNAVAILABLE'), { code: 14 });
    expect((await post({ eventId: 'm1', slotStart: 1 })).status).toBe(503);
    failWith = undefined;
    expect(sent).toEqual([]);
    expect(await post({ eventId: 'meet-😀-ok', slotStart: 1 })).toMatchObject({ status: 200 });
  });
});

describe('ingest guard: text the warehouse cannot store', () => {
  it('refuses lone surrogates in values and keys (DuckDB JSON refuses them), naming the path without the surrogate', () => {
    const guard = createIngestGuard();
    expect(guard.check(JSON.parse('{"p":{"v":"a\\ud800"}}'), 2)).toMatchObject({ index: 2, limit: 'VALID_UNICODE', path: 'p.v' });
    expect(guard.check(JSON.parse('{"p":{"\\udc00k":1}}'), 0)).toMatchObject({ limit: 'VALID_UNICODE', path: 'p.\ufffdk' });
    expect(guard.check({ ok: '😀 \u0000 \u200f' }, 0)).toBeUndefined();
  });
});
