import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { logger } from '../../config/logger';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { Faults, installFaults, type FaultConfigInput, type InjectedFault } from '../faults';
import { InsertIdDeduplicator } from './dedup';
import { applyIdentification, ingestUpload, type IngestionContext } from './ingestion';
import { PerIdRateLimiter } from './rate-limiter';
import { AmplitudeStore, type EventFilter } from './store';
import { EventStream, streamConfigSchema, type StreamConfigInput } from './stream';
import type { OutboundStats } from './outbound-queue';
import type { IngestEndpoint, JsonObject, UploadAnswer } from './types';
import { validateUpload, type InvalidIndexReporting } from './validation';

/**
 * HTTP emulator of Amplitude's ingestion APIs: `POST /2/httpapi` (HTTP V2), `POST /batch` and `/identify`,
 * with their documented validation, limits and answers, so @amplitude/analytics-node and our own clients
 * run unchanged against it (only the server URL differs). Control routes under `/__sandbox/` let tests in
 * another process inspect what was ingested and change streaming, rates and faults at run time.
 */

export const HTTPAPI_MAX_BYTES = 1024 * 1024;
export const BATCH_MAX_BYTES = 20 * 1024 * 1024;

export interface RateLimitsInput {
  /** HTTP V2 events per second per user_id / device_id (documented: 30). */
  httpApiPerIdPerSecond?: number;
  /** Batch events per second per id (documented: 1,000, averaged over 30 s). */
  batchPerIdPerSecond?: number;
  /**
   * Seconds the rate is averaged over. Batch documents 30 s for EPDS/EPUS; HTTP V2 only says "a recent time
   * window", so it gets the same 30 s by default. A single request can never exceed threshold x window for
   * one id and succeed, however long the client waits.
   */
  httpApiWindowSeconds?: number;
  batchWindowSeconds?: number;
  /** How long an id stays throttled after a 429 (API-FACTS: about 30 s on HTTP V2); default 0. */
  throttlePenaltySeconds?: number;
  /** Batch's rolling 24 h quota per id (documented: 500,000 once flagged); default off. */
  batchDailyQuotaPerId?: number;
}

export interface AmplitudeEmulatorOptions {
  /** 0 picks a free port; default 4030. */
  port?: number;
  host?: string;
  apiKeys?: string[];
  faults?: FaultConfigInput;
  rateLimits?: RateLimitsInput;
  stream?: StreamConfigInput;
  now?: () => Date;
  /** How HTTP V2 lists bad events in a 400 (its page: the first per field; Batch always lists all). */
  httpApiInvalidIndexes?: InvalidIndexReporting;
}

export type FailAfterIngestEndpoint = 'POST /2/httpapi' | 'POST /batch';

export interface AmplitudeEmulator {
  url: string;
  port: number;
  store: AmplitudeStore;
  faults: Faults;
  setStream(config: StreamConfigInput | undefined): void;
  flushStream(timeoutMs?: number): Promise<void>;
  streamStats(): OutboundStats;
  setRateLimits(limits: RateLimitsInput): void;
  /**
   * The next `count` requests to `endpoint` are ingested normally but answered with `status`: the documented
   * 500/502/504 case where "the events may or may not be duplicated" on retry, which insert_id must absorb.
   */
  failAfterIngest(endpoint: FailAfterIngestEndpoint, count: number, status?: 500 | 502 | 504): void;
  close(): Promise<void>;
}

const rateLimitsSchema = z.object({
  httpApiPerIdPerSecond: z.number().positive().optional(),
  batchPerIdPerSecond: z.number().positive().optional(),
  httpApiWindowSeconds: z.number().positive().optional(),
  batchWindowSeconds: z.number().positive().optional(),
  throttlePenaltySeconds: z.number().min(0).optional(),
  batchDailyQuotaPerId: z.number().int().positive().optional(),
});

const failAfterIngestSchema = z.object({
  endpoint: z.enum(['POST /2/httpapi', 'POST /batch']),
  count: z.number().int().min(0),
  status: z.union([z.literal(500), z.literal(502), z.literal(504)]).default(500),
});

/** Error texts for the statuses Amplitude documents (and the ones a fault can inject). */
const SERVER_ERRORS: Record<number, string> = {
  400: 'Invalid request path',
  403: 'Forbidden',
  413: 'Payload too large',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

export async function startAmplitudeEmulator(opts: AmplitudeEmulatorOptions = {}): Promise<AmplitudeEmulator> {
  const log = logger().child({ component: 'sandbox-amplitude' });
  const now = opts.now ?? (() => new Date());
  const apiKeys = new Set(opts.apiKeys ?? [SANDBOX.amplitude.apiKey]);
  const limits = { ...opts.rateLimits };
  const limiters: Record<IngestEndpoint, PerIdRateLimiter> = {
    httpapi: new PerIdRateLimiter({ epsThreshold: 30, windowSeconds: 30, penaltySeconds: 0 }),
    batch: new PerIdRateLimiter({ epsThreshold: 1_000, windowSeconds: 30, penaltySeconds: 0 }),
  };
  const applyLimits = (l: RateLimitsInput) => {
    Object.assign(limits, l);
    limiters.httpapi.configure({ epsThreshold: limits.httpApiPerIdPerSecond ?? 30, windowSeconds: limits.httpApiWindowSeconds ?? 30, penaltySeconds: limits.throttlePenaltySeconds ?? 0 });
    limiters.batch.configure({ epsThreshold: limits.batchPerIdPerSecond ?? 1_000, windowSeconds: limits.batchWindowSeconds ?? 30, penaltySeconds: limits.throttlePenaltySeconds ?? 0, dailyQuota: limits.batchDailyQuotaPerId });
  };
  applyLimits(limits);

  const dedup = new InsertIdDeduplicator();
  const store = new AmplitudeStore(() => {
    dedup.clear();
    limiters.httpapi.reset();
    limiters.batch.reset();
  });
  const stream = new EventStream(now);
  stream.set(opts.stream);
  const faults = new Faults(opts.faults);
  const failures = new Map<FailAfterIngestEndpoint, { remaining: number; status: number }>();

  const app = Fastify({ logger: false });
  installFaults(app, faults, respondToFault);
  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ code: 413, error: 'Payload too large' });
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    return reply.code(status).send({ code: status, error: status === 500 ? SERVER_ERRORS[500] : err.message });
  });

  const ingestionFor = (endpoint: IngestEndpoint): IngestionContext => ({ store, dedup, limiter: limiters[endpoint], stream, now });

  // Ingestion routes read the raw bytes: Amplitude's own 400/413 answers depend on the size and on exactly how the JSON is broken.
  await app.register(async (scope: FastifyInstance) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 * 1024 }, (_req, body, done) => done(null, body));

    const upload = (endpoint: IngestEndpoint, route: FailAfterIngestEndpoint, maxBytes: number) => async (req: FastifyRequest, reply: FastifyReply) => {
      const { answer, eventCount } = handleUpload(req, endpoint, maxBytes);
      const failure = failures.get(route);
      let status = answer.code;
      let body: UploadAnswer = answer;
      if (answer.code === 200 && failure && failure.remaining > 0) {
        failure.remaining -= 1;
        status = failure.status;
        body = { code: failure.status, error: SERVER_ERRORS[failure.status] };
      }
      store.recordRequest({ at: now().getTime(), endpoint: route, status, eventCount, answer: body });
      return reply.code(status).send(body);
    };

    const handleUpload = (req: FastifyRequest, endpoint: IngestEndpoint, maxBytes: number): { answer: UploadAnswer; eventCount: number } => {
      const reject = (answer: UploadAnswer) => ({ answer, eventCount: 0 });
      const raw = Buffer.isBuffer(req.body) ? req.body : undefined;
      if (!raw || raw.length === 0) return reject({ code: 400, error: 'Missing request body' });
      if (!String(req.headers['content-type'] ?? '').includes('application/json')) return reject({ code: 400, error: 'Invalid JSON request body' });
      let bytes: Buffer;
      try {
        bytes = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      } catch {
        return reject({ code: 400, error: 'Invalid JSON request body' });
      }
      if (bytes.length > maxBytes) return reject({ code: 413, error: 'Payload too large' });
      let parsed: unknown;
      try {
        parsed = JSON.parse(bytes.toString('utf8'));
      } catch {
        return reject({ code: 400, error: 'Invalid JSON request body' });
      }
      const events = typeof parsed === 'object' && parsed !== null ? (parsed as JsonObject).events : undefined;
      const eventCount = Array.isArray(events) ? events.length : 0;
      const result = validateUpload(parsed, { apiKeys, indexReporting: endpoint === 'httpapi' ? (opts.httpApiInvalidIndexes ?? 'first') : 'all' });
      if (!result.ok) return { answer: result.answer, eventCount };
      const answer = ingestUpload({ endpoint, apiKey: result.apiKey, events: result.events, payloadBytes: raw.length, clientUploadTime: result.clientUploadTime }, ingestionFor(endpoint));
      return { answer, eventCount };
    };

    scope.post('/2/httpapi', upload('httpapi', 'POST /2/httpapi', HTTPAPI_MAX_BYTES));
    scope.post('/batch', upload('batch', 'POST /batch', BATCH_MAX_BYTES));

    const identify = async (req: FastifyRequest, reply: FastifyReply) => {
      const params = req.method === 'GET' ? new URLSearchParams(req.query as Record<string, string>) : new URLSearchParams(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
      const [status, text] = handleIdentify(params);
      store.recordRequest({ at: now().getTime(), endpoint: `${req.method} /identify`, status, eventCount: 0, answer: text });
      return reply.code(status).type('text/plain').send(text);
    };
    scope.post('/identify', identify);
    scope.get('/identify', identify);
  });

  /** The Identify API answers in plain text; its only documented error word is `missing_event`. */
  function handleIdentify(params: URLSearchParams): [number, string] {
    const key = params.get('api_key');
    if (!key || !apiKeys.has(key)) return [400, 'invalid_api_key'];
    let identification: unknown;
    try {
      identification = JSON.parse(params.get('identification') ?? '');
    } catch {
      return [400, 'missing_event'];
    }
    const list = Array.isArray(identification) ? identification : [identification];
    if (list.length === 0 || list.some((i) => typeof i !== 'object' || i === null || Array.isArray(i))) return [400, 'missing_event'];
    const ids = (list as JsonObject[]).map((i) => {
      const userId = typeof i.user_id === 'string' && i.user_id.length >= 5 ? i.user_id : undefined;
      const deviceId = typeof i.device_id === 'string' && i.device_id.length >= 5 ? i.device_id : undefined;
      return userId ?? deviceId;
    });
    if (ids.some((id) => id === undefined)) return [400, 'missing_event'];
    (list as JsonObject[]).forEach((i, n) => {
      const props = i.user_properties;
      if (typeof props === 'object' && props !== null && !Array.isArray(props)) applyIdentification(ids[n] as string, props as JsonObject, { store });
    });
    return [200, 'success'];
  }

  registerControlRoutes(app, { store, stream, applyLimits, failures, limits });

  await app.listen({ port: opts.port ?? SANDBOX.amplitude.port, host: opts.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? SANDBOX.amplitude.port);
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  log.info({ url }, 'Amplitude emulator listening');

  return {
    url,
    port,
    store,
    faults,
    setStream: (config) => stream.set(config),
    flushStream: (timeoutMs) => stream.flush(timeoutMs),
    streamStats: () => stream.stats(),
    setRateLimits: (l) => applyLimits(rateLimitsSchema.parse(l)),
    failAfterIngest: (endpoint, count, status = 500) => failures.set(endpoint, { remaining: count, status }),
    close: async () => {
      stream.close();
      await app.close();
    },
  };
}

/** Injected faults carry Amplitude's error body; a 429 has the throttling fields the SDK reads (empty: no id is named). */
function respondToFault(fault: InjectedFault, _req: FastifyRequest, reply: FastifyReply): unknown {
  const status = fault.status as number;
  if (status === 429) {
    return reply.send({ code: 429, error: 'Too many requests for some devices and users', eps_threshold: 30, throttled_devices: {}, throttled_users: {}, throttled_events: [], exceeded_daily_quota_users: {}, exceeded_daily_quota_devices: {} });
  }
  return reply.send({ code: status, error: SERVER_ERRORS[status] ?? 'Injected fault' });
}

interface ControlDeps {
  store: AmplitudeStore;
  stream: EventStream;
  applyLimits: (l: RateLimitsInput) => void;
  failures: Map<FailAfterIngestEndpoint, { remaining: number; status: number }>;
  limits: RateLimitsInput;
}

function registerControlRoutes(app: FastifyInstance, d: ControlDeps): void {
  const filterOf = (q: Record<string, string | undefined>): EventFilter => ({
    eventType: q.event_type,
    userId: q.user_id,
    deviceId: q.device_id,
    insertId: q.insert_id,
    endpoint: q.endpoint === 'httpapi' || q.endpoint === 'batch' ? q.endpoint : undefined,
    since: q.since !== undefined ? Number(q.since) : undefined,
  });
  const badRequest = (reply: FastifyReply, error: z.ZodError) => reply.code(400).send({ error: z.prettifyError(error) });

  app.get('/__sandbox/events', async (req) => {
    const events = d.store.list(filterOf(req.query as Record<string, string>));
    return { count: events.length, events };
  });
  app.get('/__sandbox/events/count', async (req) => ({ count: d.store.count(filterOf(req.query as Record<string, string>)) }));
  app.get('/__sandbox/events/by-insert-id/:insertId', async (req, reply) => {
    const event = d.store.byInsertId((req.params as { insertId: string }).insertId);
    return event ?? reply.code(404).send({ error: 'no event with that insert_id' });
  });
  app.delete('/__sandbox/events', async () => {
    d.store.clear();
    return {};
  });
  app.get('/__sandbox/users/:id/properties', async (req, reply) => d.store.userProperties((req.params as { id: string }).id) ?? reply.code(404).send({ error: 'no such user' }));
  app.get('/__sandbox/duplicates', async () => d.store.duplicates());
  app.get('/__sandbox/violations', async () => d.store.violations());
  app.get('/__sandbox/requests', async () => d.store.requests());

  app.get('/__sandbox/stream', async () => ({ target: d.stream.target ?? null, stats: d.stream.stats(), failures: d.stream.failures() }));
  app.put('/__sandbox/stream', async (req, reply) => {
    if (req.body === null || (typeof req.body === 'object' && Object.keys(req.body as object).length === 0)) {
      d.stream.set(undefined);
      return { target: null };
    }
    const parsed = streamConfigSchema.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    d.stream.set(parsed.data);
    return { target: d.stream.target };
  });
  app.post('/__sandbox/stream/flush', async (req) => {
    const timeoutMs = Number((req.query as { timeout_ms?: string }).timeout_ms ?? 30_000);
    await d.stream.flush(timeoutMs);
    return d.stream.stats();
  });

  app.put('/__sandbox/rate-limits', async (req, reply) => {
    const parsed = rateLimitsSchema.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    d.applyLimits(parsed.data);
    return d.limits;
  });
  app.put('/__sandbox/fail-after-ingest', async (req, reply) => {
    const parsed = failAfterIngestSchema.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    d.failures.set(parsed.data.endpoint, { remaining: parsed.data.count, status: parsed.data.status });
    return parsed.data;
  });
}
