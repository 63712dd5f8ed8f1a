import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApartLoadGenerator, runLoad } from '../../bench/webhook-load';

/** A server that answers after `delayOf(body)` ms with `statusOf(body)`, and records each body with its arrival time. */
async function server(opts: { delayOf?: (n: number) => number; statusOf?: (n: number) => number } = {}) {
  const seen: { body: string; at: number }[] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = seen.length;
      seen.push({ body: Buffer.concat(chunks).toString(), at: performance.now() });
      setTimeout(() => {
        res.statusCode = opts.statusOf?.(n) ?? 200;
        res.end('{}');
      }, opts.delayOf?.(n) ?? 0);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/v1/t`;
  return { url, seen, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('the bench load generator', () => {
  it('sends at the asked rate whatever the answers take, each request with its own id', async () => {
    // Every answer takes 150 ms: a closed loop would slow down, an open loop keeps the schedule.
    const s = await server({ delayOf: () => 150 });
    close = s.close;
    const load = await runLoad({ url: s.url, headers: { 'content-type': 'application/json' }, body: '{"messageId":"m-[<id>]"}' }, 200, 1);
    expect(load.ok).toBe(200);
    expect(load.errors).toBe(0);
    const spread = s.seen.at(-1)!.at - s.seen[0].at;
    // 200 requests at 200/s: the last leaves about 995 ms after the first.
    expect(spread).toBeGreaterThan(900);
    expect(spread).toBeLessThan(1_500);
    expect(new Set(s.seen.map((x) => x.body)).size).toBe(200);
    expect(s.seen[0].body).toMatch(/^\{"messageId":"m-[0-9a-f]{8}-0"\}$/);
    expect(load.p50).toBeGreaterThanOrEqual(150);
    expect(load.max).toBeLessThan(1_000);
    // Nothing blocked the generator: it sent every request within a few milliseconds of its due time.
    expect(load.sendLag.p99).toBeLessThan(50);
  });

  it('reports how late it sent its requests when its own event loop was blocked', async () => {
    const s = await server();
    close = s.close;
    // 100 requests at 100/s; 300 ms in, the generator's thread is busy for 200 ms.
    const blocked = setTimeout(() => {
      const until = performance.now() + 200;
      while (performance.now() < until);
    }, 300);
    const load = await runLoad({ url: s.url, headers: {}, body: '{}' }, 100, 1);
    clearTimeout(blocked);
    expect(load.ok).toBe(100);
    // The requests due meanwhile left when the thread came back: up to about 200 ms late, and counted in their latency.
    expect(load.sendLag.max).toBeGreaterThanOrEqual(150);
    expect(load.sendLag.max).toBeLessThan(400);
    expect(load.max).toBeGreaterThanOrEqual(load.sendLag.max);
  });

  it('counts a stall against every request due during it, and its percentiles are those of the requests', async () => {
    // Requests 100-109 (due 500-545 ms in) wait 300 ms; the 190 others answer at once.
    const s = await server({ delayOf: (n) => (n >= 100 && n < 110 ? 300 : 0) });
    close = s.close;
    const load = await runLoad({ url: s.url, headers: {}, body: '{}' }, 200, 1);
    expect(load.ok).toBe(200);
    // 10 of 200 are slow: the p90 is fast, the p99 and the max are the stall.
    expect(load.p90).toBeLessThan(50);
    expect(load.p99).toBeGreaterThanOrEqual(300);
    expect(load.max).toBeGreaterThanOrEqual(300);
    expect(load.timeline[0].answers).toBe(200);
    expect(load.timeline[0].maxMs).toBeGreaterThanOrEqual(300);
  });

  it('counts statuses other than 2xx as errors, by status, and leaves them out of the percentiles', async () => {
    const s = await server({ statusOf: (n) => (n % 10 === 0 ? 503 : 200), delayOf: (n) => (n % 10 === 0 ? 400 : 0) });
    close = s.close;
    const load = await runLoad({ url: s.url, headers: {}, body: '{}' }, 100, 1);
    expect(load.ok).toBe(90);
    expect(load.errors).toBe(10);
    expect(load.failures).toEqual({ '503': 10 });
    // The slowest success is far from the 400 ms of the refused ones.
    expect(load.max).toBeLessThan(390);
  });

  it('runs apart, in a process of its own, one load after the other, with the same figures and its seconds reported as they start', async () => {
    const s = await server({ delayOf: (n) => (n >= 20 && n < 30 ? 100 : 0) });
    close = s.close;
    const generator = new ApartLoadGenerator();
    try {
      const warm = await generator.run({ url: s.url, headers: {}, body: '{}' }, 20, 1);
      expect(warm.ok).toBe(20);
      const seconds: number[] = [];
      const load = await generator.run({ url: s.url, headers: {}, body: '{"messageId":"m-[<id>]"}' }, 100, 1, (second) => seconds.push(second));
      expect(load.ok).toBe(100);
      expect(load.errors).toBe(0);
      expect(new Set(s.seen.slice(20).map((x) => x.body)).size).toBe(100);
      // The first ten answers of the second load took 100 ms: counted as in the caller's process.
      expect(load.max).toBeGreaterThanOrEqual(100);
      expect(load.p50).toBeLessThan(100);
      expect(load.timeline[0].answers).toBe(100);
      expect(seconds[0]).toBe(0);
      // SCHED_RR where the machine allows it (root or CAP_SYS_NICE), else normal priority; never this process.
      expect(generator.description).toMatch(/^own process, (SCHED_RR 10|normal priority)$/);
    } finally {
      generator.close();
    }
  }, 30_000);

  it('says why when the generator apart cannot run a load, and runs the next one', async () => {
    const s = await server();
    close = s.close;
    const generator = new ApartLoadGenerator();
    try {
      // An unparsable URL makes runLoad throw before any request: its reason reaches the caller.
      await expect(generator.run({ url: 'not a url', headers: {}, body: '{}' }, 10, 1)).rejects.toThrow(/could not run: Invalid URL/);
      expect((await generator.run({ url: s.url, headers: {}, body: '{}' }, 10, 1)).ok).toBe(10);
    } finally {
      generator.close();
    }
  }, 30_000);
});
