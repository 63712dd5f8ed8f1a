import crypto from 'node:crypto';
import { z } from 'zod';

/**
 * Induced loss: calls Segment answers 200 for and then never delivers, the difference a parity
 * report must find. Chosen by messageId, or by a share of all calls; the share is decided by a hash
 * of (seed, messageId), so the same call is lost whatever the order or batching it arrives in, and
 * a test can recompute which ones were lost.
 */
export const lossConfigSchema = z.object({
  /** These messageIds are lost. */
  messageIds: z.array(z.string()).default([]),
  /** Share of all other calls that is lost, 0..1. */
  rate: z.number().min(0).max(1).default(0),
  /** Only calls of these types are lost (default: every type). */
  types: z.array(z.enum(['track', 'identify', 'page', 'screen', 'group', 'alias'])).optional(),
  seed: z.number().int().default(7),
});
export type LossConfig = z.infer<typeof lossConfigSchema>;
export type LossConfigInput = z.input<typeof lossConfigSchema>;

/** Whether the rate selects this messageId: a fixed point of [0, 1) per (seed, messageId). */
export function lostByRate(messageId: string, rate: number, seed: number): boolean {
  if (rate <= 0) return false;
  const h = crypto.createHash('sha256').update(`${seed}:${messageId}`).digest();
  return h.readUInt32BE(0) / 2 ** 32 < rate;
}

export class InducedLoss {
  private config: LossConfig = lossConfigSchema.parse({});
  private ids = new Set<string>();

  set(input: LossConfigInput | undefined): LossConfig {
    this.config = lossConfigSchema.parse(input ?? {});
    this.ids = new Set(this.config.messageIds);
    return this.config;
  }

  snapshot(): LossConfig {
    return this.config;
  }

  /** Why this call is lost, or undefined when it is delivered. */
  decide(messageId: string, type: string): string | undefined {
    if (this.config.types && !(this.config.types as string[]).includes(type)) return undefined;
    if (this.ids.has(messageId)) return 'induced loss: messageId listed';
    if (lostByRate(messageId, this.config.rate, this.config.seed)) return `induced loss: rate ${this.config.rate}`;
    return undefined;
  }
}
