import { z } from 'zod';
import { logger } from '../../config/logger';
import { toExportEvent } from './export-format';
import { OutboundQueue, postJson, type AttemptOutcome, type OutboundStats } from './outbound-queue';
import type { IngestedEvent, JsonObject } from './types';

/**
 * Amplitude event streaming to a webhook (amplitude.com/docs/data/destination-catalog/webhooks): each
 * ingested event is POSTed on its own, as export JSON, with the preset `Content-Type: application/json` and
 * `User-Agent: Amplitude/Webhook/1.0` plus up to five custom headers (the place for a shared secret: no
 * signature is documented). Each attempt retries 5xx and 429 right away (3 tries, 100 ms doubling, 50 %
 * jitter, within 4 s); a failed attempt is followed by nine more attempts over 4 hours, whatever the error.
 * Tests compress that schedule with `retryDelaysMs`.
 */

/** Nine retries spread over four hours, as Amplitude documents. */
export const AMPLITUDE_RETRY_DELAYS_MS = [1, 2, 4, 8, 16, 32, 45, 60, 72].map((m) => m * 60_000);

export const streamConfigSchema = z.object({
  url: z.url(),
  headers: z
    .record(z.string(), z.string())
    .refine((h) => Object.keys(h).length <= 5, 'Amplitude allows at most 5 custom headers on a webhook')
    .default({}),
  retryDelaysMs: z.array(z.number().min(0)).default(AMPLITUDE_RETRY_DELAYS_MS),
  concurrency: z.number().int().min(1).default(8),
  timeoutMs: z.number().int().min(1).default(10_000),
  innerRetry: z
    .object({
      maxTries: z.number().int().min(1).default(3),
      initialDelayMs: z.number().min(0).default(100),
      maxElapsedMs: z.number().min(0).default(4_000),
    })
    .prefault({}),
});
export type StreamConfig = z.infer<typeof streamConfigSchema>;
export type StreamConfigInput = z.input<typeof streamConfigSchema>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const EMPTY_STATS: OutboundStats = { enqueued: 0, delivered: 0, failed: 0, pending: 0, attempts: 0 };

export class EventStream {
  private queue?: OutboundQueue<JsonObject>;
  private config?: StreamConfig;
  private readonly log = logger().child({ component: 'sandbox-amplitude-stream' });

  constructor(private readonly now: () => Date) {}

  /** Replaces the target; deliveries still pending for the previous one are dropped. */
  set(input: StreamConfigInput | undefined): void {
    this.queue?.close();
    this.queue = undefined;
    this.config = input === undefined ? undefined : streamConfigSchema.parse(input);
    const config = this.config;
    if (!config) return;
    this.queue = new OutboundQueue<JsonObject>({
      concurrency: config.concurrency,
      retryDelaysMs: config.retryDelaysMs,
      attempt: (payload) => this.attempt(config, payload),
      onGiveUp: (f) => this.log.warn({ uuid: f.item.uuid, attempts: f.attempts, status: f.lastStatus, error: f.lastError }, 'event streaming gave up on an event'),
    });
  }

  get target(): StreamConfig | undefined {
    return this.config;
  }

  push(event: IngestedEvent): void {
    this.queue?.enqueue(toExportEvent(event, this.now().getTime()));
  }

  stats(): OutboundStats {
    return this.queue?.stats() ?? EMPTY_STATS;
  }

  failures(): JsonObject[] {
    return this.queue?.failures.map((f) => ({ uuid: f.item.uuid, attempts: f.attempts, lastStatus: f.lastStatus, lastError: f.lastError })) ?? [];
  }

  flush(timeoutMs?: number): Promise<void> {
    return this.queue?.flush(timeoutMs) ?? Promise.resolve();
  }

  close(): void {
    this.queue?.close();
  }

  private async attempt(config: StreamConfig, payload: JsonObject): Promise<AttemptOutcome> {
    const headers = { ...config.headers, 'Content-Type': 'application/json', 'User-Agent': 'Amplitude/Webhook/1.0' };
    const started = Date.now();
    let delay = config.innerRetry.initialDelayMs;
    let outcome: AttemptOutcome = { ok: false };
    for (let tryNo = 1; tryNo <= config.innerRetry.maxTries; tryNo++) {
      outcome = await postJson(config.url, payload, headers, config.timeoutMs);
      if (outcome.ok) return outcome;
      const retryable = outcome.status === undefined || outcome.status === 429 || outcome.status >= 500;
      const wait = delay * (0.5 + Math.random());
      if (!retryable || tryNo === config.innerRetry.maxTries || Date.now() - started + wait > config.innerRetry.maxElapsedMs) break;
      await sleep(wait);
      delay *= 2;
    }
    return outcome;
  }
}
