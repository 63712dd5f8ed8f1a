import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of an emulator that has no fault injection of its own (the BigQuery
 * emulator): it forwards requests, or fails a share of them the way Google's APIs fail.
 */
export interface FaultProxy {
  url: string;
  /**
   * Share of requests answered with an error, 0..1; `failNext` fails exactly the next N. With
   * `match`, only requests whose body matches it can fail (e.g. the queries of one window).
   */
  set(rule: { errorRate?: number; failNext?: number; status?: number; match?: RegExp }): void;
  injected(): number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string, seed = 1): Promise<FaultProxy> {
  let rule: { errorRate: number; failNext: number; status: number; match?: RegExp } = { errorRate: 0, failNext: 0, status: 503 };
  let injected = 0;
  let x = seed;
  const random = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 2 ** 32;
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const eligible = !rule.match || rule.match.test(Buffer.concat(chunks).toString());
      const fail = eligible && (rule.failNext > 0 || random() < rule.errorRate);
      if (fail) {
        if (rule.failNext > 0) rule.failNext--;
        injected++;
        const reason = rule.status === 429 ? 'rateLimitExceeded' : 'backendError';
        res.writeHead(rule.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: rule.status, message: `injected ${reason}`, errors: [{ reason, message: `injected ${reason}` }], status: 'UNAVAILABLE' } }));
        return;
      }
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection')) as Record<string, string>;
      const body = chunks.length && req.method !== 'GET' && req.method !== 'HEAD' ? Buffer.concat(chunks) : undefined;
      fetch(`${target}${req.url}`, { method: req.method, headers, body })
        .then(async (r) => {
          const buf = Buffer.from(await r.arrayBuffer());
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          res.end(buf);
        })
        .catch((err: Error) => {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 502, message: err.message } }));
        });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    set: (r) => {
      rule = { errorRate: r.errorRate ?? 0, failNext: r.failNext ?? 0, status: r.status ?? 503, match: r.match };
    },
    injected: () => injected,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
