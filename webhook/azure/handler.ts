import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { tooLarge, type Handler, type WebhookRequest } from '../amplitude-handler';
import type { WebhookMetrics } from '../metrics';
import { SEGMENT_BASE_PATH, type SegmentHandler } from '../segment-handler';

/**
 * Azure Functions v4 HTTP trigger around the same framework-agnostic handler the fastify server uses.
 * The Functions host buffers the body before we see it (its own limit is 100 MB), so the configured
 * limit is checked from Content-Length first and from the bytes read otherwise.
 */
export type AzureHttpHandler = (req: HttpRequest, ctx: InvocationContext) => Promise<HttpResponseInit>;

export function createAzureHandler(opts: { handler: Handler; route: string; bodyLimitBytes: number; metrics?: WebhookMetrics }): AzureHttpHandler {
  return async (req, ctx) => {
    const started = performance.now();
    const headers: WebhookRequest['headers'] = {};
    req.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    const declared = Number(headers['content-length']);
    const res =
      Number.isFinite(declared) && declared > opts.bodyLimitBytes
        ? tooLarge(declared, opts.bodyLimitBytes)
        : await opts.handler({ headers, body: Buffer.from(await req.arrayBuffer()) });
    if (res.status >= 500) ctx.warn(`${opts.route}: answered ${res.status}`, res.body);
    opts.metrics?.observeRequest(opts.route, res.status, (performance.now() - started) / 1000);
    return { status: res.status, headers: { 'content-type': 'application/json', ...res.headers }, body: JSON.stringify(res.body) };
  };
}

/**
 * The Segment routes under the Function host: its route prefix (`api`) is dropped, so the handler sees
 * `/v1/...` as under fastify, and analytics.js's apiHost is `<app>.azurewebsites.net/api/v1`. The host
 * has no socket address to give: the client's comes from X-Forwarded-For, which its front end sets.
 */
export function createAzureSegmentHandler(opts: { handler: SegmentHandler; route: string; metrics?: WebhookMetrics }): AzureHttpHandler {
  return async (req, ctx) => {
    const started = performance.now();
    const headers: WebhookRequest['headers'] = {};
    req.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    const url = new URL(req.url);
    const at = url.pathname.indexOf(`${SEGMENT_BASE_PATH}/`);
    const path = at === -1 ? url.pathname : url.pathname.slice(at);
    const body = req.method === 'POST' ? Buffer.from(await req.arrayBuffer()) : Buffer.alloc(0);
    const res = await opts.handler({ method: req.method, path, headers, body, protocol: url.protocol.replace(/:$/, ''), mountPath: at > 0 ? url.pathname.slice(0, at) : undefined });
    if (res.status >= 500) ctx.warn(`${opts.route}: answered ${res.status}`, res.body);
    opts.metrics?.observeRequest(opts.route, res.status, (performance.now() - started) / 1000);
    return { status: res.status, headers: { 'content-type': 'application/json', ...res.headers }, body: res.body === undefined ? undefined : JSON.stringify(res.body) };
  };
}
