import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { tooLarge, type Handler, type WebhookRequest } from '../amplitude-handler';
import type { WebhookMetrics } from '../metrics';

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
