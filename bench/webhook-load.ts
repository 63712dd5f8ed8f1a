import http from 'node:http';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

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

/** SCHED_RR priority of a generator run apart: above every process of the system under test, which run at normal priority. */
const GENERATOR_RT_PRIORITY = 10;

/** Whether this machine lets us start a process under SCHED_RR (root, or CAP_SYS_NICE, and `chrt` installed). */
function realtimeAllowed(): boolean {
  return spawnSync('chrt', ['--rr', String(GENERATOR_RT_PRIORITY), 'true'], { stdio: 'ignore' }).status === 0;
}

type Report = { second?: number; load?: Load; error?: string };

/**
 * runLoad in a process of its own, at real-time priority (SCHED_RR) where the machine allows it;
 * BENCH_GENERATOR_PRIORITY=normal keeps it at normal priority. One process runs every load it is given,
 * one after the other, so that a warm-up compiles the generator's code as well as the server's.
 *
 * Why: on a shared host the generator waits for a core like every process of the system under test,
 * and a response it reads late counts as latency of the server. Real clients run elsewhere. Apart and
 * at real-time priority, the generator reads each answer when it arrives, while every request still
 * counts from when it was due (its own lateness stays in the figures and in `sendLag`). It needs a
 * small share of one core, so the system under test keeps the rest of the machine.
 */
export class ApartLoadGenerator {
  /** Where the generator runs, as the bench prints it. */
  readonly description: string;
  private readonly child: ChildProcess;
  private exited?: number | null;
  private current?: { resolve(load: Load): void; reject(err: Error): void; onSecond?: (second: number) => void };

  constructor() {
    const realtime = process.env.BENCH_GENERATOR_PRIORITY !== 'normal' && realtimeAllowed();
    this.description = realtime ? `own process, SCHED_RR ${GENERATOR_RT_PRIORITY}` : 'own process, normal priority';
    const node = [process.execPath, '--import', 'tsx', path.join(__dirname, 'load-process.ts')];
    const [cmd, ...args] = realtime ? ['chrt', '--rr', String(GENERATOR_RT_PRIORITY), ...node] : node;
    this.child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: Report) => {
      if (m.second !== undefined) this.current?.onSecond?.(m.second);
      const done = this.current;
      if (!done || (!m.load && !m.error)) return;
      this.current = undefined;
      if (m.load) done.resolve(m.load);
      else done.reject(new Error(`the load generator could not run: ${m.error}`));
    });
    this.child.once('exit', (code) => {
      this.exited = code;
      this.current?.reject(new Error(`the load generator exited with ${code} before reporting`));
      this.current = undefined;
    });
  }

  /** One load run (one at a time), with runLoad's figures. */
  run(target: LoadTarget, rate: number, seconds: number, onSecond?: (second: number) => void): Promise<Load> {
    if (this.current) return Promise.reject(new Error('the load generator is already running a load'));
    if (this.exited !== undefined) return Promise.reject(new Error(`the load generator exited with ${this.exited}`));
    return new Promise<Load>((resolve, reject) => {
      this.current = { resolve, reject, onSecond };
      this.child.send({ target, rate, seconds });
    });
  }

  /** Ends the generator's process (it exits once disconnected). */
  close(): void {
    if (this.child.connected) this.child.disconnect();
  }
}
