/**
 * Outbound delivery for the emulators' pushes (Amplitude event streaming, Drift webhooks): bounded
 * concurrency, a retry schedule between attempts, counters, and `flush()` so a test can await delivery
 * instead of sleeping. Timers are unref'd: a pending retry never keeps a process alive.
 */

export type AttemptOutcome = { ok: true; status: number } | { ok: false; status?: number; error?: string };

export interface OutboundStats {
  enqueued: number;
  delivered: number;
  /** Gave up after the last scheduled attempt. */
  failed: number;
  /** Waiting, in flight, or scheduled for a retry. */
  pending: number;
  attempts: number;
}

export interface FailedDelivery<T> {
  item: T;
  attempts: number;
  lastStatus?: number;
  lastError?: string;
}

export interface OutboundQueueOptions<T> {
  concurrency: number;
  /** Delay before each retry; its length is the number of retries after the first attempt. */
  retryDelaysMs: readonly number[];
  attempt: (item: T) => Promise<AttemptOutcome>;
  onGiveUp?: (failure: FailedDelivery<T>) => void;
}

interface Job<T> {
  item: T;
  attempts: number;
}

export class OutboundQueue<T> {
  private readonly ready: Job<T>[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private active = 0;
  private closed = false;
  private readonly waiters: Array<() => void> = [];
  private readonly counters = { enqueued: 0, delivered: 0, failed: 0, attempts: 0 };
  readonly failures: FailedDelivery<T>[] = [];

  constructor(private readonly opts: OutboundQueueOptions<T>) {}

  enqueue(item: T): void {
    if (this.closed) return;
    this.counters.enqueued += 1;
    this.ready.push({ item, attempts: 0 });
    this.pump();
  }

  stats(): OutboundStats {
    return { ...this.counters, pending: this.ready.length + this.active + this.timers.size };
  }

  /** Resolves once nothing is waiting, in flight or scheduled; rejects after `timeoutMs`. */
  flush(timeoutMs = 30_000): Promise<void> {
    if (this.stats().pending === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`outbound deliveries still pending after ${timeoutMs} ms: ${JSON.stringify(this.stats())}`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Stops delivering; whatever is still pending is dropped. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.ready.length = 0;
    this.settle();
  }

  private pump(): void {
    while (!this.closed && this.active < this.opts.concurrency && this.ready.length > 0) {
      const job = this.ready.shift() as Job<T>;
      this.active += 1;
      void this.run(job);
    }
    this.settle();
  }

  private async run(job: Job<T>): Promise<void> {
    job.attempts += 1;
    this.counters.attempts += 1;
    let outcome: AttemptOutcome;
    try {
      outcome = await this.opts.attempt(job.item);
    } catch (err) {
      outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    this.active -= 1;
    if (this.closed) return this.settle();
    if (outcome.ok) this.counters.delivered += 1;
    else if (job.attempts <= this.opts.retryDelaysMs.length) this.scheduleRetry(job, this.opts.retryDelaysMs[job.attempts - 1]);
    else {
      this.counters.failed += 1;
      const failure: FailedDelivery<T> = { item: job.item, attempts: job.attempts, lastStatus: outcome.status, lastError: outcome.error };
      this.failures.push(failure);
      if (this.failures.length > 1_000) this.failures.shift();
      this.opts.onGiveUp?.(failure);
    }
    this.pump();
  }

  private scheduleRetry(job: Job<T>, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.ready.push(job);
      this.pump();
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  private settle(): void {
    if (this.stats().pending > 0) return;
    for (const w of this.waiters.splice(0)) w();
  }
}

/** POSTs a JSON body; any 2xx is a delivery. */
export async function postJson(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<AttemptOutcome> {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? { ok: true, status: res.status } : { ok: false, status: res.status };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
