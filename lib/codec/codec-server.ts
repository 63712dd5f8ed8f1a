import http from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import type { Logger } from '../../config/logger';
import type { EncryptionCodec } from './encryption-codec';

/**
 * The codec server of Temporal's remote-codec protocol, which the Web UI (and `temporal --codec-endpoint`)
 * calls to show encrypted payloads: POST /encode and POST /decode take and answer
 * `{"payloads":[{"metadata":{"k":"<base64>"},"data":"<base64>"}]}`, with an `X-Namespace` header.
 *
 * Who may call it:
 * - a request with `Authorization: Bearer <CODEC_SERVER_TOKEN>` (the CLI, scripts);
 * - a browser page whose Origin is in the allow-list (the Web UI; CORS answers only those origins), so
 *   another site open in an operator's browser cannot use it;
 * - a request with neither, only when no token is configured: the server then listens on loopback
 *   alone (startCodecServer refuses anything else), where only local processes reach it.
 */

export interface CodecServerOptions {
  codec: EncryptionCodec;
  namespace: string;
  host: string;
  port: number;
  token?: string;
  origins: string[];
  log: Logger;
}

export interface RunningCodecServer {
  url: string;
  close(): Promise<void>;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
const payloadsBody = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() })).max(10_000),
});
type JsonPayload = z.infer<typeof payloadsBody>['payloads'][number];

const BODY_LIMIT = 16 * 1_048_576;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export const isLoopbackHost = (host: string) => LOOPBACK.test(host);

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

const digest = (s: string) => createHash('sha256').update(s).digest();

export async function startCodecServer(opts: CodecServerOptions): Promise<RunningCodecServer> {
  if (!opts.token && !isLoopbackHost(opts.host))
    throw new Error(`the codec server would listen on ${opts.host} without CODEC_SERVER_TOKEN: set a token, or CODEC_SERVER_HOST=127.0.0.1`);
  const log = opts.log.child({ component: 'codec-server' });
  const origins = new Set(opts.origins);
  const tokenDigest = opts.token ? digest(opts.token) : undefined;

  const tokenValid = (req: http.IncomingMessage) => {
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    return tokenDigest !== undefined && m !== null && timingSafeEqual(digest(m[1].trim()), tokenDigest);
  };

  const server = http.createServer((req, res) => {
    const origin = req.headers.origin;
    const originAllowed = origin !== undefined && origins.has(origin);
    const send = (status: number, body?: unknown) => {
      const headers: http.OutgoingHttpHeaders = { Vary: 'Origin' };
      if (originAllowed)
        Object.assign(headers, {
          'Access-Control-Allow-Origin': origin,
          'Access-Control-Allow-Credentials': 'true',
          'Access-Control-Allow-Methods': 'POST, OPTIONS',
          'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization, Authorization-Extras',
          'Access-Control-Max-Age': '600',
        });
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      res.writeHead(status, headers).end(body === undefined ? undefined : JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '');
    if (req.method === 'GET' && path === '/health') return send(200, { ok: true });
    if (path !== '/encode' && path !== '/decode') return send(404, { message: 'POST /encode or /decode' });
    if (req.method === 'OPTIONS') return send(originAllowed ? 204 : 403);
    if (req.method !== 'POST') return send(405, { message: 'POST /encode or /decode' });

    if (!tokenValid(req)) {
      if (origin !== undefined && !originAllowed) {
        log.warn({ origin }, 'codec request from an origin not in CODEC_SERVER_ORIGINS refused');
        return send(403, { message: `origin ${origin} is not allowed: add it to CODEC_SERVER_ORIGINS` });
      }
      if (origin === undefined && tokenDigest !== undefined)
        return send(401, { message: 'send Authorization: Bearer <CODEC_SERVER_TOKEN> (temporal ... --codec-auth "Bearer <token>")' });
    }
    const namespace = req.headers['x-namespace'];
    if (typeof namespace === 'string' && namespace !== '' && namespace !== opts.namespace)
      return send(403, { message: `this codec server holds the keys of namespace ${opts.namespace}, not ${namespace}` });

    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > BODY_LIMIT) {
        send(413, { message: `body above ${BODY_LIMIT} bytes` });
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      let parsed: z.infer<typeof payloadsBody>;
      try {
        const r = payloadsBody.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        if (!r.success) return send(400, { message: `expected {"payloads":[{"metadata":{...},"data":"<base64>"}]}: ${r.error.issues[0]?.message}` });
        parsed = r.data;
      } catch {
        return send(400, { message: 'the body is not JSON' });
      }
      const payloads = parsed.payloads.map(fromJson);
      const run = path === '/encode' ? opts.codec.encode(payloads) : opts.codec.decode(payloads);
      run.then(
        (out) => {
          log.debug({ op: path.slice(1), payloads: out.length, namespace }, 'codec request');
          send(200, { payloads: out.map(toJson) });
        },
        (err: unknown) => {
          // The message names key ids, never payload contents.
          const message = err instanceof Error ? err.message : String(err);
          log.warn({ op: path.slice(1), error: message }, 'codec request failed');
          send(400, { message });
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
