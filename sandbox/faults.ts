import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Rng } from './seed/random';

/**
 * Fault injection shared by every emulator: per endpoint (a route pattern such as `POST /batch`,
 * or `*` for all), an error rate with the statuses to answer, latency, connection resets and
 * hangs. Set at start (options) or at run time, in process (`faults.set`) or over HTTP
 * (`PUT /__sandbox/faults`), so tests can stage a 429 storm mid-run.
 */
export const faultRuleSchema = z.object({
  /** Share of matching requests that fail, 0..1. */
  errorRate: z.number().min(0).max(1).default(0),
  /** Statuses to pick from for failing requests; `reset` drops the connection, `timeout` never answers. */
  statuses: z.array(z.union([z.number().int().min(400).max(599), z.literal('reset'), z.literal('timeout')])).default([500]),
  /** Seconds in the Retry-After header of failing answers (of those in `retryAfterOn`, when given). */
  retryAfterSeconds: z.number().min(0).optional(),
  /** Statuses that carry the Retry-After header, e.g. [429, 503] as Amplitude does; default: every injected status. */
  retryAfterOn: z.array(z.number().int().min(400).max(599)).optional(),
  /** Extra latency added to every matching request, in ms. */
  latencyMs: z.number().min(0).default(0),
  /** Fail exactly the next N matching requests (after which errorRate applies again). */
  failNext: z.number().int().min(0).default(0),
});
export type FaultRule = z.infer<typeof faultRuleSchema>;
export type FaultRuleInput = z.input<typeof faultRuleSchema>;

export const faultConfigSchema = z.record(z.string(), faultRuleSchema);
export type FaultConfigInput = Record<string, FaultRuleInput>;

export interface InjectedFault {
  status: number | 'reset' | 'timeout';
  retryAfterSeconds?: number;
}

/** One request a rule matched, as the emulator saw it arrive: for tests that measure the client's waits. */
export interface FaultTimelineEntry {
  at: number;
  endpoint: string;
  fault?: InjectedFault;
}

const MAX_TIMELINE = 20_000;

export class Faults {
  private rules = new Map<string, FaultRule>();
  private readonly rng: Rng;
  /** How many faults were injected per endpoint key, for tests. */
  readonly injected = new Map<string, number>();
  private readonly seen: FaultTimelineEntry[] = [];

  constructor(initial: FaultConfigInput = {}, seed = 7) {
    this.rng = new Rng(seed);
    this.set(initial);
  }

  /** Replaces the rules for the given endpoints (others are kept). */
  set(config: FaultConfigInput): void {
    for (const [endpoint, rule] of Object.entries(faultConfigSchema.parse(config))) this.rules.set(endpoint, rule);
  }

  clear(): void {
    this.rules.clear();
  }

  snapshot(): Record<string, FaultRule> {
    return Object.fromEntries(this.rules);
  }

  /** The fault to inject for this request, if any; `endpoint` is `METHOD /route/pattern`. */
  decide(endpoint: string): { fault?: InjectedFault; latencyMs: number } {
    const rule = this.rules.get(endpoint) ?? this.rules.get('*');
    if (!rule) return { latencyMs: 0 };
    let fail = false;
    if (rule.failNext > 0) {
      rule.failNext -= 1;
      fail = true;
    } else if (rule.errorRate > 0 && this.rng.chance(rule.errorRate)) fail = true;
    if (!fail) {
      this.note({ at: Date.now(), endpoint });
      return { latencyMs: rule.latencyMs };
    }
    this.injected.set(endpoint, (this.injected.get(endpoint) ?? 0) + 1);
    const status = this.rng.pick(rule.statuses);
    const withHeader = rule.retryAfterSeconds !== undefined && typeof status === 'number' && (rule.retryAfterOn === undefined || rule.retryAfterOn.includes(status));
    const fault: InjectedFault = { status, ...(withHeader ? { retryAfterSeconds: rule.retryAfterSeconds } : {}) };
    this.note({ at: Date.now(), endpoint, fault });
    return { fault, latencyMs: rule.latencyMs };
  }

  /** Every request a rule matched (the last 20,000), oldest first, with the fault it got if any. */
  timeline(): FaultTimelineEntry[] {
    return [...this.seen];
  }

  private note(e: FaultTimelineEntry): void {
    this.seen.push(e);
    if (this.seen.length > MAX_TIMELINE) this.seen.shift();
  }
}

export type FaultResponder = (fault: InjectedFault, request: FastifyRequest, reply: FastifyReply) => unknown;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Installs fault injection on an emulator. `respond` writes the service's own error body for an
 * injected HTTP status (each API has its own error shape).
 */
export function installFaults(app: FastifyInstance, faults: Faults, respond: FaultResponder): void {
  app.put('/__sandbox/faults', async (request, reply) => {
    const parsed = faultConfigSchema.safeParse(request.body);
    if (!parsed.success) return reply.code(400).send({ error: z.prettifyError(parsed.error) });
    faults.set(parsed.data);
    return faults.snapshot();
  });
  app.delete('/__sandbox/faults', async () => {
    faults.clear();
    return {};
  });

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/__sandbox/')) return;
    const endpoint = `${request.method} ${request.routeOptions.url ?? request.url}`;
    const { fault, latencyMs } = faults.decide(endpoint);
    if (latencyMs > 0) await sleep(latencyMs);
    if (!fault) return;
    if (fault.status === 'reset') {
      request.raw.socket.destroy();
      return reply.hijack();
    }
    if (fault.status === 'timeout') {
      // Never answers; the client's own timeout must fire. The socket is freed when the client gives up.
      reply.hijack();
      return;
    }
    if (fault.retryAfterSeconds !== undefined) reply.header('Retry-After', String(fault.retryAfterSeconds));
    reply.code(fault.status);
    await respond(fault, request, reply);
    return reply;
  });
}
