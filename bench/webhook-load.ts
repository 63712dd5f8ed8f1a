import autocannon from 'autocannon';

/**
 * One load run against the webhook (autocannon, a fixed number of requests at a fixed rate) with a
 * per-second timeline of answers and worst latency, so that stalls can be lined up with what the
 * processes did in the same second.
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
  /** Epoch ms at which the first request was sent: second 0 of `timeline`. */
  startedAt: number;
  /** Per second since the start, by when the request was sent: answers and the slowest one (ms). */
  timeline: { answers: number; maxMs: number }[];
}

export interface LoadTarget {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export function runLoad(target: LoadTarget, rate: number, seconds: number, onSecond?: (second: number) => void): Promise<Load> {
  const timeline: Load['timeline'] = [];
  const started = performance.now();
  const startedAt = Date.now();
  let second = -1;
  const ticker = setInterval(() => onSecond?.(++second), 1000);
  onSecond?.(++second);
  return new Promise<Load>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        method: 'POST',
        headers: target.headers,
        body: target.body,
        idReplacement: true,
        // Enough connections that a slow answer never caps the asked rate.
        connections: Math.max(20, Math.ceil(rate / 10)),
        overallRate: rate,
        // A fixed amount rather than a duration: every request sent gets its answer, so the acknowledged
        // count is exact (a duration cuts requests off mid-flight, durable but never counted).
        amount: Math.round(rate * seconds),
        timeout: 10,
      },
      (err, result) => {
        clearInterval(ticker);
        if (err) return reject(err);
        resolve({
          rate,
          seconds: result.duration,
          ok: result['2xx'],
          errors: result.non2xx + result.errors + result.timeouts,
          p50: result.latency.p50,
          p90: result.latency.p90,
          p99: result.latency.p99,
          max: result.latency.max,
          startedAt,
          timeline,
        });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      const s = Math.max(0, Math.floor((performance.now() - responseTime - started) / 1000));
      const slot = (timeline[s] ??= { answers: 0, maxMs: 0 });
      slot.answers++;
      slot.maxMs = Math.max(slot.maxMs, responseTime);
    });
  });
}
