/**
 * Spaces the webhook's signals to Temporal under load, as a token bucket: one token per signal,
 * refilled every `intervalMs`, at most `burst` kept. Below 1000 / intervalMs requests per second the
 * bucket stays full and each request leaves at once, alone; above it, signals leave `intervalMs`
 * apart and the requests that arrive meanwhile share them, so the signal rate stays flat while the
 * request rate grows. Each signal costs the Temporal server a history write and the worker a workflow
 * task whatever its size: on shared cores, signals per second (not requests) is what saturates them.
 * The price is at most `intervalMs` of waiting, paid only under load.
 */
export class SignalPacer {
  private tokens: number;
  private refilledAt: number;

  /** `intervalMs` 0 turns pacing off. `now` is injectable for tests. */
  constructor(
    private readonly intervalMs: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = Math.max(1, burst);
    this.refilledAt = now();
  }

  /** Milliseconds until a signal may leave (0: now). */
  waitMs(): number {
    if (this.intervalMs <= 0) return 0;
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) * this.intervalMs);
  }

  /** Spends the token of a signal that leaves now (call only when waitMs() is 0). */
  take(): void {
    if (this.intervalMs <= 0) return;
    this.refill();
    this.tokens = Math.max(0, this.tokens - 1);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(Math.max(1, this.burst), this.tokens + (t - this.refilledAt) / this.intervalMs);
    this.refilledAt = t;
  }
}
