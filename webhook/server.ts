import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../config/logger';
import { tooLarge, unauthorized, type Handler, type WebhookRequest, type WebhookResponse } from './amplitude-handler';
import type { WebhookMetrics } from './metrics';
import { headerValue, secretMatches } from './secret';
import { SEGMENT_BASE_PATH, type SegmentHandler } from './segment-handler';

/**
 * The standalone webhook HTTP server (fastify). Bodies reach handlers raw (a Buffer), so each
 * framework-agnostic handler owns its parsing and error messages, the same as under Azure Functions.
 */

/** Another webhook mounted on the same server, e.g. Drift's: `{ url: '/drift', handler }`. */
export interface ExtraRoute {
  method?: 'POST' | 'PUT' | 'GET';
  url: string;
  handler: (req: WebhookRequest) => Promise<WebhookResponse> | WebhookResponse;
}

export interface WebhookAppOptions {
  amplitude: Handler;
  /** Checked before the body is read, so an unauthenticated client cannot make us buffer it. */
  auth: { secret: string; secretHeader: string };
  bodyLimitBytes: number;
  metrics: WebhookMetrics;
  readiness: () => Promise<{ ready: boolean; reason?: string }>;
  routes?: ExtraRoute[];
  /** Segment's HTTP Tracking API under /v1 (website tracking); absent, the routes do not exist. */
  segment?: SegmentHandler;
  log?: Logger;
}

export const AMPLITUDE_PATH = '/amplitude';

function send(reply: FastifyReply, res: WebhookResponse): FastifyReply {
  if (res.headers) void reply.headers(res.headers);
  return reply.code(res.status).type('application/json').send(JSON.stringify(res.body));
}

export function buildWebhookApp(opts: WebhookAppOptions): FastifyInstance {
  const log = opts.log?.child({ component: 'webhook-server' });
  // Per-request logging would cost more than the request at 1,000/s: metrics cover it.
  const app = Fastify({ logger: false, bodyLimit: opts.bodyLimitBytes });
  app.removeAllContentTypeParsers();
  // Whatever the content type, hand the handler the bytes: Amplitude always sends JSON, and a wrong
  // type from elsewhere gets the handler's 400 with a message rather than a bare 415.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // Callback-style hooks: an async hook costs a promise per request for nothing here.
  app.addHook('onResponse', (req, reply, done) => {
    opts.metrics.observeRequest(req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    // Segment answers an oversized body 400 (its clients drop it rather than retry), in its own words.
    if (err.statusCode === 413 && opts.segment && req.url.startsWith(`${SEGMENT_BASE_PATH}/`))
      return send(reply, { status: 400, body: { error: 'payload_too_large', message: `The body is over Segment's limits (32 KB per call, 500 KB per batch): send smaller batches.` } });
    if (err.statusCode === 413) return send(reply, tooLarge(Number(req.headers['content-length']) || undefined, opts.bodyLimitBytes));
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500)
      return send(reply, { status: err.statusCode, body: { error: err.code ?? 'bad_request', message: err.message } });
    log?.error({ err }, 'webhook request failed');
    return send(reply, { status: 500, body: { error: 'internal', message: 'Unexpected error; nothing was acknowledged. Retry later.' } });
  });

  const toRequest = (req: { headers: WebhookRequest['headers']; body: unknown }): WebhookRequest => ({
    headers: req.headers,
    body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
  });

  app.post(AMPLITUDE_PATH, {
    onRequest: (req, reply, done) => {
      // Answering without done() ends the request here, before its body is read.
      if (!secretMatches(headerValue(req.headers, opts.auth.secretHeader), opts.auth.secret)) send(reply, unauthorized(opts.auth.secretHeader));
      else done();
    },
    handler: async (req, reply) => send(reply, await opts.amplitude(toRequest(req))),
  });

  for (const r of opts.routes ?? [])
    app.route({ method: r.method ?? 'POST', url: r.url, handler: async (req, reply) => send(reply, await r.handler(toRequest(req))) });

  if (opts.segment) {
    const segment = opts.segment;
    const handler = async (req: FastifyRequest, reply: FastifyReply) =>
      send(reply, await segment({ method: req.method, path: req.url.split('?')[0], headers: req.headers, body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), ip: req.ip, protocol: req.protocol }));
    // Calls (`/v1/track`, `/v1/t`, `/v1/batch`...; the handler knows the names) and the settings analytics.js loads.
    app.route({ method: ['POST', 'OPTIONS'], url: `${SEGMENT_BASE_PATH}/:call`, handler });
    app.route({ method: ['GET', 'OPTIONS'], url: `${SEGMENT_BASE_PATH}/projects/:writeKey/settings`, handler });
  }

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const state = await opts.readiness();
    return reply.code(state.ready ? 200 : 503).send(state.ready ? { status: 'ready' } : { status: 'not_ready', reason: state.reason });
  });
  app.get('/metrics', async (_req, reply) => reply.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics()));
  return app;
}
