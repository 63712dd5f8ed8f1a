const WINDOW_MS = 24 * 3_600_000;

/**
 * The org's API allowance: calls counted over a rolling 24 hours, reported in
 * `Sforce-Limit-Info: api-usage=used/max` and `/limits`; past `max`, calls get 403
 * REQUEST_LIMIT_EXCEEDED until old calls leave the window.
 */
export class ApiUsage {
  private readonly calls: number[] = [];
  private head = 0;

  constructor(public max: number) {}

  used(now: number): number {
    while (this.head < this.calls.length && this.calls[this.head] <= now - WINDOW_MS) this.head++;
    if (this.head > 10_000 && this.head > this.calls.length / 2) {
      this.calls.splice(0, this.head);
      this.head = 0;
    }
    return this.calls.length - this.head;
  }

  /** Counts a call; false (and not counted) when the allowance is used up. */
  tryUse(now: number): boolean {
    if (this.used(now) >= this.max) return false;
    this.calls.push(now);
    return true;
  }

  /** Test knob: pretends `n` calls were made just now (e.g. to sit right under the limit). */
  fill(n: number, now: number): void {
    for (let i = 0; i < n; i++) this.calls.push(now);
  }

  reset(): void {
    this.calls.length = 0;
    this.head = 0;
  }
}
