import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { logger } from '../../config/logger';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { Faults, installFaults, type FaultConfigInput, type InjectedFault } from '../faults';
import { intake } from './intake';
import { InducedLoss, lossConfigSchema, type LossConfigInput } from './loss';
import { SegmentStore, type MessageFilter } from './store';
import { CALL_TYPES, ROUTES, type CallType, type ReceivedCall, type Route } from './types';
import { WarehouseSync, warehouseTimingSchema, type WarehouseTarget, type WarehouseTiming } from './warehouse-sync';

/**
 * HTTP emulator of Segment's Tracking API (api.segment.io, events.eu1.segmentapis.com):
 * `POST /v1/{track,identify,page,screen,group,alias,batch}` and analytics.js's `/v1/{t,i,p,s,g,a,b}`,
 * with Segment's auth, limits, answers, messageId deduplication and timestamp correction, so
 * @segment/analytics-node, analytics.js and our forwarder run unchanged against it (only the host
 * differs). Like Segment's warehouse sync it writes what it keeps into the BigQuery emulator's
 * Segment dataset. Control routes under `/__sandbox/` inspect what arrived and inject faults and loss.
 */

export interface SegmentEmulatorOptions {
  /** 0 picks a free port; default 4040. */
  port?: number;
  host?: string;
  /** Write keys of the sources that exist; calls with another key are answered 200 and dropped, as Segment does. */
  writeKeys?: string[];
  faults?: FaultConfigInput;
  loss?: LossConfigInput;
  /** How long a messageId is remembered for deduplication; Segment documents about 24 h. */
  dedupWindowMs?: number;
  /** Where to write the warehouse copy; unset keeps calls in memory only. */
  warehouse?: WarehouseTarget & WarehouseTiming;
  now?: () => Date;
}

export interface SegmentEmulator {
  url: string;
  port: number;
  store: SegmentStore;
  faults: Faults;
  loss: InducedLoss;
  /** The warehouse sync, when a BigQuery target was given. */
  warehouse?: WarehouseSync;
  /**
   * The next `count` requests are taken in normally and then answered `status` (a 5xx after the
   * work is done): the client retries, and messageId deduplication must absorb the replay.
   */
  failAfterAccept(count: number, status?: 500 | 502 | 503 | 504): void;
  close(): Promise<void>;
}

export const DEDUP_WINDOW_MS = 24 * 3_600_000;
/** Far above Segment's limits, so that its own 400 answers apply rather than the HTTP server's. */
const BODY_LIMIT = 16 * 1024 * 1024;

const STATUS_TEXT: Record<number, string> = { 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

const failAfterAcceptSchema = z.object({
  count: z.number().int().min(0),
  status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).default(500),
});

export async function startSegmentEmulator(opts: SegmentEmulatorOptions = {}): Promise<SegmentEmulator> {
  const log = logger().child({ component: 'sandbox-segment' });
  const now = opts.now ?? (() => new Date());
  const writeKeys = new Set(opts.writeKeys ?? [SANDBOX.segment.writeKey]);
  const dedupWindowMs = opts.dedupWindowMs ?? DEDUP_WINDOW_MS;
  const store = new SegmentStore();
  const faults = new Faults(opts.faults);
  const loss = new InducedLoss();
  loss.set(opts.loss);
  const warehouse = opts.warehouse ? new WarehouseSync({ ...opts.warehouse, now, log }) : undefined;
  const failure = { remaining: 0, status: 500 };

  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT });
  installCors(app);
  installFaults(app, faults, respondToFault);
  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(400).send({ success: false, message: 'Payload is too large' });
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    return reply.code(status).send({ success: false, message: status === 500 ? 'Internal Server Error' : err.message });
  });

  const keep = (call: ReceivedCall, at: number) => {
    const lost = loss.decide(call.messageId, call.type);
    if (lost) return store.recordDropped({ at, reason: lost, call });
    if (store.isDuplicate(call.messageId, call.type, at, dedupWindowMs)) return;
    store.add(call, at);
    warehouse?.enqueue(call);
  };

  const track = (route: Route) => async (req: FastifyRequest, reply: FastifyReply) => {
    const received = now();
    const at = received.getTime();
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const result = intake({ route, body, authorization: req.headers.authorization, ip: req.ip, now: received }, writeKeys);
    if (result.status === 400) {
      store.recordRequest({ at, route: `/v1/${route}`, status: 400, calls: 0, message: result.message });
      return reply.code(400).send({ success: false, message: result.message });
    }
    for (const r of result.rejected) store.recordRejected({ at, ...r });
    if (!result.knownKey) {
      for (const c of result.calls) store.recordRejected({ at, index: c.index, messageId: c.messageId, type: c.type, reason: 'unknown write key: Segment answers 200 and drops the call' });
    } else {
      for (const c of result.calls) keep({ messageId: c.messageId, type: c.type, writeKey: result.writeKey, receivedAt: c.receivedAt, timestamp: c.timestamp, message: c.message }, at);
    }
    const calls = result.calls.length + result.rejected.length;
    if (failure.remaining > 0) {
      failure.remaining -= 1;
      store.recordRequest({ at, route: `/v1/${route}`, status: failure.status, calls, message: 'failed after accepting' });
      return reply.code(failure.status).send({ success: false, message: STATUS_TEXT[failure.status] });
    }
    store.recordRequest({ at, route: `/v1/${route}`, status: 200, calls });
    return reply.code(200).send({ success: true });
  };

  // Tracking routes read raw bytes whatever the Content-Type: analytics.js sends text/plain, and the 400s depend on the exact size and JSON.
  await app.register(async (scope: FastifyInstance) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));
    for (const route of ROUTES) scope.post(`/v1/${route}`, track(route));
  });

  registerControlRoutes(app, { store, loss, warehouse, failure });

  const port = opts.port ?? SANDBOX.segment.port;
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port, host });
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host}:${boundPort}`;
  log.info({ url, warehouse: opts.warehouse?.url }, 'Segment emulator listening');

  return {
    url,
    port: boundPort,
    store,
    faults,
    loss,
    warehouse,
    failAfterAccept: (count, status = 500) => Object.assign(failure, { remaining: count, status }),
    close: async () => {
      await app.close();
      await warehouse?.close();
    },
  };
}

/**
 * analytics.js posts from the visitor's page to Segment's host, so the API answers CORS for any
 * origin; analytics-next >= 1.84 adds Authorization and X-Retry-Count, which need a preflight.
 */
function installCors(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/')) return;
    reply.header('Access-Control-Allow-Origin', req.headers.origin ?? '*');
    reply.header('Vary', 'Origin');
    if (req.method === 'OPTIONS') {
      reply.header('Access-Control-Allow-Methods', 'POST, OPTIONS');
      reply.header('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? 'Content-Type, Authorization, X-Retry-Count');
      reply.header('Access-Control-Max-Age', '86400');
      return reply.code(204).send();
    }
  });
  // A route must exist for the preflight to reach the hook above.
  app.options('/v1/*', async (_req, reply) => reply.code(204).send());
}

/** A 429 carries both headers the HTTP API page names, in seconds. */
function respondToFault(fault: InjectedFault, _req: FastifyRequest, reply: FastifyReply): unknown {
  const status = fault.status as number;
  if (status === 429) {
    const seconds = String(fault.retryAfterSeconds ?? 1);
    reply.header('Retry-After', seconds);
    reply.header('X-RateLimit-Reset', seconds);
  }
  return reply.send({ success: false, message: STATUS_TEXT[status] ?? 'Injected fault' });
}

interface ControlDeps {
  store: SegmentStore;
  loss: InducedLoss;
  warehouse?: WarehouseSync;
  failure: { remaining: number; status: number };
}

function registerControlRoutes(app: FastifyInstance, d: ControlDeps): void {
  const filterOf = (q: Record<string, string | undefined>): MessageFilter => ({
    type: (CALL_TYPES as readonly string[]).includes(q.type ?? '') ? (q.type as CallType) : undefined,
    userId: q.user_id,
    anonymousId: q.anonymous_id,
    event: q.event,
    writeKey: q.write_key,
    since: q.since !== undefined ? Number(q.since) : undefined,
  });
  const badRequest = (reply: FastifyReply, error: z.ZodError) => reply.code(400).send({ error: z.prettifyError(error) });
  const noWarehouse = (reply: FastifyReply) => reply.code(404).send({ error: 'this emulator writes no warehouse copy (started without a BigQuery target)' });

  app.get('/__sandbox/messages', async (req) => {
    const messages = d.store.list(filterOf(req.query as Record<string, string>));
    return { count: messages.length, messages };
  });
  app.get('/__sandbox/messages/count', async (req) => ({ count: d.store.count(filterOf(req.query as Record<string, string>)) }));
  app.get('/__sandbox/messages/:messageId', async (req, reply) => d.store.byMessageId((req.params as { messageId: string }).messageId) ?? reply.code(404).send({ error: 'no call with that messageId' }));
  app.delete('/__sandbox/messages', async () => {
    d.store.clear();
    return {};
  });
  app.get('/__sandbox/duplicates', async () => d.store.duplicates());
  app.get('/__sandbox/rejected', async () => d.store.rejected());
  app.get('/__sandbox/dropped', async () => d.store.dropped());
  app.get('/__sandbox/requests', async () => d.store.requests());

  app.get('/__sandbox/loss', async () => d.loss.snapshot());
  app.put('/__sandbox/loss', async (req, reply) => {
    const parsed = lossConfigSchema.safeParse(req.body ?? {});
    if (!parsed.success) return badRequest(reply, parsed.error);
    return d.loss.set(parsed.data);
  });
  app.delete('/__sandbox/loss', async () => d.loss.set(undefined));

  app.put('/__sandbox/fail-after-accept', async (req, reply) => {
    const parsed = failAfterAcceptSchema.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    Object.assign(d.failure, { remaining: parsed.data.count, status: parsed.data.status });
    return parsed.data;
  });

  app.get('/__sandbox/warehouse', async (_req, reply) => d.warehouse?.stats() ?? noWarehouse(reply));
  app.put('/__sandbox/warehouse', async (req, reply) => {
    if (!d.warehouse) return noWarehouse(reply);
    const parsed = warehouseTimingSchema.safeParse(req.body ?? {});
    if (!parsed.success) return badRequest(reply, parsed.error);
    d.warehouse.configure(parsed.data);
    return d.warehouse.stats();
  });
  app.post('/__sandbox/warehouse/flush', async (_req, reply) => (d.warehouse ? d.warehouse.flush() : noWarehouse(reply)));
}
