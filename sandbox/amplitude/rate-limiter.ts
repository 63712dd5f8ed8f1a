/**
 * Amplitude's per-user and per-device throughput limits. Amplitude measures events per second for each
 * user_id and each device_id "as an average over a recent time window" (30 s on Batch) and rejects the
 * whole request with a 429 naming the ids over the threshold. Once an id is flagged, Batch also applies a
 * rolling 24-hour quota. Buckets are 100 ms wide so memory stays bounded at high volume.
 */

export interface RateLimitConfig {
  /** Events per second allowed per id (HTTP V2: 30, Batch: 1,000). */
  epsThreshold: number;
  /** Window the rate is averaged over. */
  windowSeconds: number;
  /** After a 429, the id stays throttled this long, whatever its rate (0 = only while over the rate). */
  penaltySeconds: number;
  /** Events per id per rolling 24 hours; undefined = no daily quota. */
  dailyQuota?: number;
}

export interface EventIds {
  userId?: string;
  deviceId?: string;
}

export interface ThrottleVerdict {
  throttledUsers: Record<string, number>;
  throttledDevices: Record<string, number>;
  throttledEvents: number[];
  exceededDailyQuotaUsers: Record<string, number>;
  exceededDailyQuotaDevices: Record<string, number>;
}

const BUCKET_MS = 100;
const HOUR_MS = 3_600_000;

interface Counter {
  buckets: Array<[start: number, count: number]>;
  hourly: Array<[start: number, count: number]>;
  penaltyUntil: number;
}

export class PerIdRateLimiter {
  private readonly counters = new Map<string, Counter>();
  private checksSinceSweep = 0;

  constructor(private config: RateLimitConfig) {}

  get threshold(): number {
    return this.config.epsThreshold;
  }

  configure(patch: Partial<RateLimitConfig>): void {
    this.config = { ...this.config, ...patch };
  }

  /** The verdict for a request, or undefined when every id in it stays within its limits. */
  check(events: readonly EventIds[], nowMs: number): ThrottleVerdict | undefined {
    this.maybeSweep(nowMs);
    const incoming = new Map<string, number>();
    for (const e of events) for (const key of keysOf(e)) incoming.set(key, (incoming.get(key) ?? 0) + 1);

    const throttled = new Map<string, number>();
    const overRate: string[] = [];
    const exceeded = new Map<string, number>();
    for (const [key, n] of incoming) {
      const counter = this.counters.get(key);
      const eps = Math.ceil((this.windowCount(counter, nowMs) + n) / this.config.windowSeconds);
      if (eps > this.config.epsThreshold) overRate.push(key);
      if (eps > this.config.epsThreshold || (counter && counter.penaltyUntil > nowMs)) throttled.set(key, eps);
      if (this.config.dailyQuota !== undefined) {
        const daily = this.dailyCount(counter, nowMs) + n;
        if (daily > this.config.dailyQuota) exceeded.set(key, daily);
      }
    }
    if (throttled.size === 0 && exceeded.size === 0) return undefined;

    // Only going over the rate starts a penalty; a retry during one does not extend it.
    if (this.config.penaltySeconds > 0) for (const key of overRate) this.counter(key).penaltyUntil = nowMs + this.config.penaltySeconds * 1000;
    const verdict: ThrottleVerdict = { throttledUsers: {}, throttledDevices: {}, throttledEvents: [], exceededDailyQuotaUsers: {}, exceededDailyQuotaDevices: {} };
    for (const [key, eps] of throttled) (key.startsWith('u:') ? verdict.throttledUsers : verdict.throttledDevices)[key.slice(2)] = eps;
    for (const [key, n] of exceeded) (key.startsWith('u:') ? verdict.exceededDailyQuotaUsers : verdict.exceededDailyQuotaDevices)[key.slice(2)] = n;
    events.forEach((e, i) => {
      if (keysOf(e).some((k) => throttled.has(k))) verdict.throttledEvents.push(i);
    });
    return verdict;
  }

  /** Counts accepted events against their ids. */
  record(events: readonly EventIds[], nowMs: number): void {
    const bucketStart = nowMs - (nowMs % BUCKET_MS);
    const hourStart = nowMs - (nowMs % HOUR_MS);
    for (const e of events) {
      for (const key of keysOf(e)) {
        const c = this.counter(key);
        const last = c.buckets[c.buckets.length - 1];
        if (last && last[0] === bucketStart) last[1] += 1;
        else c.buckets.push([bucketStart, 1]);
        const lastHour = c.hourly[c.hourly.length - 1];
        if (lastHour && lastHour[0] === hourStart) lastHour[1] += 1;
        else c.hourly.push([hourStart, 1]);
      }
    }
  }

  reset(): void {
    this.counters.clear();
  }

  private counter(key: string): Counter {
    let c = this.counters.get(key);
    if (!c) {
      c = { buckets: [], hourly: [], penaltyUntil: 0 };
      this.counters.set(key, c);
    }
    return c;
  }

  private windowCount(c: Counter | undefined, nowMs: number): number {
    if (!c) return 0;
    const from = nowMs - this.config.windowSeconds * 1000;
    while (c.buckets.length > 0 && c.buckets[0][0] + BUCKET_MS <= from) c.buckets.shift();
    return c.buckets.reduce((sum, [, n]) => sum + n, 0);
  }

  private dailyCount(c: Counter | undefined, nowMs: number): number {
    if (!c) return 0;
    const from = nowMs - 24 * HOUR_MS;
    while (c.hourly.length > 0 && c.hourly[0][0] + HOUR_MS <= from) c.hourly.shift();
    return c.hourly.reduce((sum, [, n]) => sum + n, 0);
  }

  /** Drops ids with nothing left to remember, so a long bench does not grow the map forever. */
  private maybeSweep(nowMs: number): void {
    if (++this.checksSinceSweep < 1_000) return;
    this.checksSinceSweep = 0;
    for (const [key, c] of this.counters) {
      this.windowCount(c, nowMs);
      this.dailyCount(c, nowMs);
      const needsDaily = this.config.dailyQuota !== undefined && c.hourly.length > 0;
      if (c.buckets.length === 0 && !needsDaily && c.penaltyUntil <= nowMs) this.counters.delete(key);
    }
  }
}

function keysOf(e: EventIds): string[] {
  const keys: string[] = [];
  if (e.userId !== undefined) keys.push(`u:${e.userId}`);
  if (e.deviceId !== undefined) keys.push(`d:${e.deviceId}`);
  return keys;
}
