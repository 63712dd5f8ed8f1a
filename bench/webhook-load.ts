import http from 'node:http';
import { randomUUID } from 'node:crypto';

/**
 * One load run against the webhook: an open-loop generator that sends request i at exactly
 * `start + i / rate`, whatever the answers before it, over keep-alive connections (as many as the
 * requests in flight need, like many browsers). A request's latency runs from when it was due to when
 * its answer ended, so a stall of the generator itself or a queue of requests waiting for a
 * connection counts against the server, never hides from the figures (coordinated omission). The
 * percentiles are exact, over every answered request.
 *
 * A closed-loop generator rate-limited per connection and per second (autocannon's `overallRate`)
 * does neither: each connection sends its second's quota back to back as soon as the second starts,
 * so 1,000 requests/s arrive as a burst in the first part of every second, and its latency histogram
 * adds corrected samples at a 1 ms interval to every answer, so a percentile is not that of the
 * requests sent.
 *
 * `[<id>]` in the body is replaced by an id unique to the request (messageIds, anonymousIds).
 */

export interface Load {
  rate: number;
  seconds: number;
  ok: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Epoch ms at which the first request was due: second 0 of `timeline`. */
  startedAt: number;
  /** Per second since the start, by when the request was due: answers and the slowest one (ms). */
  timeline: { answers: number; maxMs: number }[];
  /** Statuses other than 2xx and transport errors, with their count. */
  failures?: Record<string, number>;
  /**
   * How late the generator itself sent its requests (ms after they were due), p99 and max: on a
   * shared host its own process waits for a core too, and that wait is inside every latency above.
   */
  sendLag: { p99: number; max: number };
}

export interface LoadTarget {
  url: string;
  headers: Record<string, string>;
  body: string;
}

const TIMEOUT_MS = 10_000;

/** Value at quantile q of sorted `xs` (nearest rank), rounded to 0.1 ms. */
function quantile(xs: Float64Array, q: number): number {
  if (xs.length === 0) return NaN;
  const v = xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))];
  return Math.round(v * 10) / 10;
}

export function runLoad(target: LoadTarget, rate: number, seconds: number, onSecond?: (second: number) => void): Promise<Load> {
  const total = Math.max(1, Math.round(rate * seconds));
  const url = new URL(target.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  const parts = target.body.split('[<id>]');
  const run = randomUUID().slice(0, 8);
  const latencies = new Float64Array(total);
  const lags = new Float64Array(total);
  const timeline: Load['timeline'] = [];
  const failures: Record<string, number> = {};
  let ok = 0;
  let errors = 0;
  let answered = 0;
  let sent = 0;
  let second = -1;
  const t0 = performance.now();
  const startedAt = Date.now();
  const ticker = setInterval(() => onSecond?.(++second), 1000);
  onSecond?.(++second);

  return new Promise<Load>((resolve) => {
    const finish = (dueAt: number, status: string | undefined) => {
      const ms = performance.now() - dueAt;
      const slot = (timeline[Math.max(0, Math.floor((dueAt - t0) / 1000))] ??= { answers: 0, maxMs: 0 });
      slot.answers++;
      slot.maxMs = Math.max(slot.maxMs, Math.round(ms * 10) / 10);
      if (status === '2xx') latencies[ok++] = ms;
      else {
        errors++;
        failures[status ?? 'error'] = (failures[status ?? 'error'] ?? 0) + 1;
      }
      if (++answered < total) return;
      clearInterval(ticker);
      agent.destroy();
      const done = latencies.subarray(0, ok).sort();
      lags.sort();
      resolve({
        rate,
        seconds: (performance.now() - t0) / 1000,
        ok,
        errors,
        p50: quantile(done, 0.5),
        p90: quantile(done, 0.9),
        p99: quantile(done, 0.99),
        max: quantile(done, 1),
        startedAt,
        timeline,
        ...(errors > 0 ? { failures } : {}),
        sendLag: { p99: quantile(lags, 0.99), max: quantile(lags, 1) },
      });
    };

    const fire = (i: number) => {
      const dueAt = t0 + (i * 1000) / rate;
      const body = parts.join(`${run}-${i}`);
      lags[i] = performance.now() - dueAt;
      let settled = false;
      const settle = (status: string | undefined) => {
        if (settled) return;
        settled = true;
        finish(dueAt, status);
      };
      const req = http.request(
        { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', headers: { ...target.headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const code = res.statusCode ?? 0;
          res.resume();
          res.on('end', () => settle(code >= 200 && code < 300 ? '2xx' : String(code)));
          res.on('error', () => settle('error'));
        },
      );
      req.setTimeout(TIMEOUT_MS, () => {
        req.destroy();
        settle('timeout');
      });
      req.on('error', (err) => settle((err as NodeJS.ErrnoException).code ?? 'error'));
      req.end(body);
    };

    // Sends every request due by now, then sleeps until the next one is due.
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
      while (sent < due) fire(sent++);
      if (sent < total) setTimeout(tick, Math.max(0, t0 + (sent * 1000) / rate - performance.now()));
    };
    tick();
  });
}
