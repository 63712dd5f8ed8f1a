/**
 * Drift answers 429 once a token has made too many calls in the window (its numbers are not published; the
 * reporting endpoints are documented at 60 per minute). A sliding one-minute window per token; the answer
 * says how long until the oldest call in the window ages out.
 */
export class PerMinuteLimiter {
  private readonly calls = new Map<string, number[]>();

  constructor(private perMinute?: number) {}

  get limit(): number | undefined {
    return this.perMinute;
  }

  set(perMinute: number | undefined): void {
    this.perMinute = perMinute;
    this.calls.clear();
  }

  /** Counts the call and returns undefined, or returns the seconds to wait (the call is not counted). */
  take(key: string, nowMs: number): number | undefined {
    if (this.perMinute === undefined) return undefined;
    const from = nowMs - 60_000;
    const list = (this.calls.get(key) ?? []).filter((t) => t > from);
    if (list.length >= this.perMinute) {
      this.calls.set(key, list);
      return Math.max(1, Math.ceil((list[0] + 60_000 - nowMs) / 1000));
    }
    list.push(nowMs);
    this.calls.set(key, list);
    return undefined;
  }
}
