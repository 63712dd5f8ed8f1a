import { z } from 'zod';
import { logger } from '../../config/logger';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { OutboundQueue, postJson, type OutboundStats } from '../amplitude/outbound-queue';
import type { DriftEventType } from './store';

/**
 * Drift's webhook events (devdocs.drift.com "Webhooks: Subscribing to Drift Events"): an HTTPS POST per event
 * with `{ type, token, orgId, data }`, the app's verification token both in the body and in an
 * `X-Verification-Token` header. Drift does not document its retry policy; the emulator retries a failed
 * delivery on a short configurable schedule.
 */

export const DRIFT_EVENT_TYPES = ['new_conversation', 'new_message', 'contact_identified', 'contact_updated', 'new_meeting', 'playbook_goal_met'] as const satisfies readonly DriftEventType[];

export const webhookConfigSchema = z.object({
  url: z.url(),
  verificationToken: z.string().min(1).default(SANDBOX.drift.verificationToken),
  /** Subscribed event types; default all the emulator emits. */
  events: z.array(z.enum(DRIFT_EVENT_TYPES)).optional(),
  retryDelaysMs: z.array(z.number().min(0)).default([1_000, 10_000, 60_000]),
  timeoutMs: z.number().int().min(1).default(10_000),
  concurrency: z.number().int().min(1).default(4),
});
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
export type WebhookConfigInput = z.input<typeof webhookConfigSchema>;

export interface DriftWebhookPayload {
  type: DriftEventType;
  token: string;
  orgId: number;
  data: unknown;
}

export interface EmittedEvent {
  at: number;
  type: DriftEventType;
  data: unknown;
}

const MAX_EMITTED = 10_000;
const EMPTY_STATS: OutboundStats = { enqueued: 0, delivered: 0, failed: 0, pending: 0, attempts: 0 };

export class DriftWebhooks {
  private queue?: OutboundQueue<DriftWebhookPayload>;
  private config?: WebhookConfig;
  private readonly log: EmittedEvent[] = [];
  private readonly logger = logger().child({ component: 'sandbox-drift-webhooks' });

  constructor(
    private readonly orgId: number,
    private readonly now: () => Date,
  ) {}

  /** Replaces the target; deliveries still pending for the previous one are dropped. */
  set(input: WebhookConfigInput | undefined): void {
    this.queue?.close();
    this.queue = undefined;
    this.config = input === undefined ? undefined : webhookConfigSchema.parse(input);
    const config = this.config;
    if (!config) return;
    this.queue = new OutboundQueue<DriftWebhookPayload>({
      concurrency: config.concurrency,
      retryDelaysMs: config.retryDelaysMs,
      attempt: (payload) => postJson(config.url, payload, { 'X-Verification-Token': payload.token, 'User-Agent': 'Drift-Webhooks/1.0 (sandbox)' }, config.timeoutMs),
      onGiveUp: (f) => this.logger.warn({ type: f.item.type, attempts: f.attempts, status: f.lastStatus, error: f.lastError }, 'Drift webhook delivery gave up'),
    });
  }

  get target(): WebhookConfig | undefined {
    return this.config;
  }

  /** Called by the store on every mutation; delivered when a subscribed target is set. */
  emit(type: DriftEventType, data: unknown): void {
    this.log.push({ at: this.now().getTime(), type, data });
    if (this.log.length > MAX_EMITTED) this.log.shift();
    const config = this.config;
    if (!config || !this.queue || (config.events && !config.events.includes(type))) return;
    // Deep copy: the store keeps mutating its objects, a webhook carries the state at the time of the event.
    this.queue.enqueue({ type, token: config.verificationToken, orgId: this.orgId, data: JSON.parse(JSON.stringify(data)) });
  }

  /** Every event emitted since start (last 10,000), delivered or not. */
  emitted(type?: DriftEventType): EmittedEvent[] {
    return type === undefined ? [...this.log] : this.log.filter((e) => e.type === type);
  }

  stats(): OutboundStats {
    return this.queue?.stats() ?? EMPTY_STATS;
  }

  flush(timeoutMs?: number): Promise<void> {
    return this.queue?.flush(timeoutMs) ?? Promise.resolve();
  }

  close(): void {
    this.queue?.close();
  }
}
