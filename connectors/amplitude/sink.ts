import { z } from 'zod';
import type { Logger } from '../../config/logger';
import { PermanentError, TransientError, retryAfterMs as parseRetryAfter } from '../../lib/errors';
import type { AmplitudeEvent } from '../../mappings/amplitude-types';
import type { DeliveryReport, EventSink } from '../../ports/event-sink';
import { asSecretSource, type SecretSource } from '../secret-source';

/**
 * Delivers events to Amplitude's HTTP V2 API (`POST <serverUrl>/2/httpapi`) so that an event counts
 * as sent only when Amplitude answered 200 for the request that carried it (DESIGN.md, "Delivery
 * guarantees").
 *
 * Why not @amplitude/analytics-node: its Destination owns retries in memory (up to flushMaxRetries,
 * with its own 30 s throttle waits), which fights Temporal's retries and hides the real outcome: an
 * event that ran out of retries resolves with a synthetic 500 "exceeded retry count" whatever the
 * status was, the Retry-After of a 429 is not surfaced, a transport that returns no response
 * resolves with code 0 and is dropped, and a 400 reports only the request's generic error for the
 * events it drops, not which field was wrong. Setting flushMaxRetries to 1 makes it worse (the valid
 * remainder of a 400 is then dropped as "exceeded retry count"). HTTP V2 is one JSON POST: a small
 * client keeps every outcome visible and leaves the retrying to Temporal.
 *
 * Outcomes, per request:
 * - 200: sent.
 * - 400 naming events (invalid or missing fields, ids too short): those events are rejected for good
 *   (the pipeline dead-letters them with the reason) and the rest is sent again, since Amplitude
 *   refuses the whole request. HTTP V2 may name only the first bad event per field, so this repeats
 *   until the remainder goes through. A 400 naming no event is our bug or our key: not retried.
 * - 413: the chunk is split in halves; a single event that is still too large is rejected.
 * - 429, 5xx, network errors, timeouts: TransientError; Temporal retries the activity (a 429 after the
 *   Retry-After Amplitude sent, else the ~30 s HTTP V2 throttling lasts). 500/502/504 may have ingested
 *   the events: the deterministic insert_id makes the resend harmless.
 *
 * Chunks acknowledged with a 200 are remembered (by insert_id, for a while) so that the retried
 * activity skips them: under a high fault rate every attempt makes progress instead of resending a
 * whole page that fails again somewhere else. After a 5xx the other chunks of the call are still
 * sent; the error then says how many events were acknowledged (`progressed`), so that the retry
 * does not wait as if nothing had gone through.
 */

export interface AmplitudeSinkOptions {
  /** A SecretSource when the key may rotate (Key Vault): a refused key is re-read once, then it fails. */
  apiKey: string | SecretSource;
  /** Origin, e.g. https://api2.amplitude.com or the sandbox emulator's URL. */
  serverUrl: string;
  minIdLength: number;
  log?: Logger;
  /** `batch` posts to the Batch API (`/batch`: 2,000 events, 20 MB per request; ~15 s wait after a 429). */
  endpoint?: 'httpapi' | 'batch';
  /** HTTP V2 takes fewer than 2,000 events and less than 1 MB per request. */
  maxEventsPerRequest?: number;
  maxBytesPerRequest?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  timeoutMs?: number;
  /** How long a 200 is remembered, so a retried activity does not resend it. */
  acknowledgedTtlMs?: number;
  acknowledgedMax?: number;
  fetch?: typeof fetch;
}

/** HTTP V2 throttling: an id over its rate is refused for about 30 s (API-FACTS.md). */
export const THROTTLE_RETRY_MS = 30_000;
/** Batch API: wait about 15 s after a 429 (API-FACTS.md). */
export const BATCH_THROTTLE_RETRY_MS = 15_000;
/** A daily quota frees up slowly; retrying sooner only spends attempts. */
export const DAILY_QUOTA_RETRY_MS = 60 * 60_000;

const indexMap = z.record(z.string(), z.array(z.number().int())).optional();
const badRequestSchema = z.looseObject({
  code: z.number().optional(),
  error: z.string().optional(),
  missing_field: z.string().optional(),
  events_with_invalid_fields: indexMap,
  events_with_missing_fields: indexMap,
  events_with_invalid_id_lengths: indexMap,
  silenced_events: z.array(z.number().int()).optional(),
});
const throttledSchema = z.looseObject({
  error: z.string().optional(),
  eps_threshold: z.number().optional(),
  throttled_users: z.record(z.string(), z.number()).optional(),
  throttled_devices: z.record(z.string(), z.number()).optional(),
  exceeded_daily_quota_users: z.record(z.string(), z.number()).optional(),
  exceeded_daily_quota_devices: z.record(z.string(), z.number()).optional(),
});
const successSchema = z.looseObject({ code: z.literal(200).optional(), events_ingested: z.number().int().optional() });

interface Answer {
  status: number;
  body: unknown;
  retryAfter?: string | null;
}

type Rejected = DeliveryReport['rejected'][number];

export class AmplitudeSink implements EventSink {
  private readonly url: string;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly ttlMs: number;
  private readonly ackMax: number;
  private readonly fetchFn: typeof fetch;
  private readonly log?: Logger;
  private readonly throttleRetryMs: number;
  /** insert_id → when Amplitude acknowledged it (Map keeps insertion order: oldest first). */
  private readonly acknowledged = new Map<string, number>();
  private readonly apiKey: SecretSource;

  constructor(private readonly opts: AmplitudeSinkOptions) {
    this.apiKey = asSecretSource(opts.apiKey);
    const batch = opts.endpoint === 'batch';
    this.url = `${opts.serverUrl.replace(/\/+$/, '')}${batch ? '/batch' : '/2/httpapi'}`;
    this.maxEvents = Math.min(opts.maxEventsPerRequest ?? 1_000, batch ? 2_000 : 1_999);
    this.maxBytes = Math.min(opts.maxBytesPerRequest ?? 900_000, batch ? 20_000_000 : 1_000_000);
    this.throttleRetryMs = batch ? BATCH_THROTTLE_RETRY_MS : THROTTLE_RETRY_MS;
    this.concurrency = opts.concurrency ?? 4;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.ttlMs = opts.acknowledgedTtlMs ?? 15 * 60_000;
    this.ackMax = opts.acknowledgedMax ?? 250_000;
    this.fetchFn = opts.fetch ?? fetch;
    this.log = opts.log?.child({ component: 'amplitude-sink' });
  }

  async send(events: AmplitudeEvent[]): Promise<DeliveryReport> {
    this.forgetOld();
    const pending = events.filter((e) => !this.acknowledged.has(e.insert_id));
    let sent = events.length - pending.length;
    const rejected: Rejected[] = [];
    const chunks = this.chunk(pending);
    let next = 0;
    let failure: unknown;
    let stop = false;
    let acknowledged = 0;
    const worker = async () => {
      while (!stop && next < chunks.length) {
        const chunk = chunks[next++];
        try {
          const report = await this.deliver(chunk);
          sent += report.sent;
          acknowledged += report.sent + report.rejected.length;
          rejected.push(...report.rejected);
        } catch (err) {
          failure ??= err;
          // A 5xx is one request's bad luck: the other chunks still go, so the retry resends only what failed.
          // A 429 asks us to slow down and a request with no answer may be a dead server: stop there.
          if (!(err instanceof TransientError && err.kind === 'amplitude-server-error')) stop = true;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, chunks.length) }, worker));
    if (failure !== undefined) {
      if (acknowledged > 0 && failure instanceof TransientError)
        throw new TransientError(`${failure.message} ${acknowledged} of the ${pending.length} events were acknowledged and are not sent again.`, {
          retryAfterMs: failure.retryAfterMs,
          kind: failure.kind,
          progressed: true,
          cause: failure.cause ?? failure,
        });
      throw failure;
    }
    return { sent, rejected };
  }

  /** Splits by count and by serialised size, keeping order. */
  private chunk(events: AmplitudeEvent[]): AmplitudeEvent[][] {
    const chunks: AmplitudeEvent[][] = [];
    let current: AmplitudeEvent[] = [];
    let bytes = 0;
    const overhead = 200;
    for (const e of events) {
      const size = Buffer.byteLength(JSON.stringify(e)) + 1;
      if (current.length > 0 && (current.length >= this.maxEvents || bytes + size + overhead > this.maxBytes)) {
        chunks.push(current);
        current = [];
        bytes = 0;
      }
      current.push(e);
      bytes += size;
    }
    if (current.length > 0) chunks.push(current);
    return chunks;
  }

  /** One chunk until it is accepted, with the events Amplitude refused for good taken out. */
  private async deliver(chunk: AmplitudeEvent[]): Promise<DeliveryReport> {
    const rejected: Rejected[] = [];
    let remaining = chunk;
    let reread = false;
    while (remaining.length > 0) {
      const key = this.apiKey.current();
      const answer = await this.post(remaining, key);
      if (answer.status === 400 && this.refusedKey(answer.body) !== undefined) {
        // A rotated key: retry at once if another request already re-read it, else re-read it once.
        let retry = this.apiKey.current() !== key;
        if (!retry && !reread) {
          reread = true;
          retry = await this.apiKey.reread();
        }
        if (retry) {
          this.log?.info('Amplitude refused the API key; retrying with the key read again from its source');
          continue;
        }
      }
      if (answer.status === 200) {
        const ok = successSchema.safeParse(answer.body);
        if (!ok.success) this.log?.warn({ status: 200 }, 'Amplitude answered 200 with an unexpected body; counting the events as delivered');
        this.remember(remaining);
        return { sent: remaining.length, rejected };
      }
      if (answer.status === 400) {
        const bad = this.badEvents(remaining, answer.body);
        rejected.push(...bad.rejected);
        remaining = bad.remaining;
        continue;
      }
      if (answer.status === 413) {
        if (remaining.length === 1) {
          rejected.push({ event: remaining[0], reason: 'event too large for Amplitude (413 Payload Too Large on its own)' });
          return { sent: 0, rejected };
        }
        const half = Math.ceil(remaining.length / 2);
        const [a, b] = [await this.deliver(remaining.slice(0, half)), await this.deliver(remaining.slice(half))];
        return { sent: a.sent + b.sent, rejected: [...rejected, ...a.rejected, ...b.rejected] };
      }
      throw this.transientFailure(answer, remaining.length);
    }
    return { sent: 0, rejected };
  }

  private async post(events: AmplitudeEvent[], apiKey: string): Promise<Answer> {
    const body = JSON.stringify({ api_key: apiKey, events, options: { min_id_length: this.opts.minIdLength } });
    let res: Response;
    try {
      res = await this.fetchFn(this.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: '*/*' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      // No answer: Amplitude may or may not have the events. Resending is safe thanks to insert_id.
      const reason = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
      throw new TransientError(`Amplitude did not answer (${reason}); ${events.length} events not confirmed, will retry.`, { kind: 'amplitude-no-answer', cause: err });
    }
    let parsed: unknown;
    const text = await res.text().catch(() => '');
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, retryAfter: res.headers.get('retry-after') };
  }

  /** The error text when a 400 is about the API key, not the events. */
  private refusedKey(body: unknown): string | undefined {
    const parsed = badRequestSchema.safeParse(body);
    const answer = parsed.success ? parsed.data : {};
    const named = [answer.events_with_invalid_fields, answer.events_with_missing_fields, answer.events_with_invalid_id_lengths].some((m) => m && Object.keys(m).length > 0);
    if (named) return undefined;
    const error = answer.error ?? (typeof body === 'string' ? body : JSON.stringify(body));
    return answer.missing_field === 'api_key' || /api[_ ]?key/i.test(error ?? '') ? (error ?? 'invalid api key') : undefined;
  }

  private badEvents(events: AmplitudeEvent[], body: unknown): { rejected: Rejected[]; remaining: AmplitudeEvent[] } {
    const parsed = badRequestSchema.safeParse(body);
    const answer = parsed.success ? parsed.data : {};
    const reasons = new Map<number, string[]>();
    const add = (map: Record<string, number[]> | undefined, what: (field: string) => string) => {
      for (const [field, indexes] of Object.entries(map ?? {}))
        for (const i of indexes) if (i >= 0 && i < events.length) reasons.set(i, [...(reasons.get(i) ?? []), what(field)]);
    };
    add(answer.events_with_invalid_fields, (f) => `invalid ${f}`);
    add(answer.events_with_missing_fields, (f) => `missing ${f}`);
    add(answer.events_with_invalid_id_lengths, (f) => `${f} shorter than min_id_length ${this.opts.minIdLength}`);
    for (const i of answer.silenced_events ?? []) if (i >= 0 && i < events.length) reasons.set(i, [...(reasons.get(i) ?? []), 'silenced by Amplitude']);

    if (reasons.size === 0) {
      const error = answer.error ?? (typeof body === 'string' ? body : JSON.stringify(body));
      if (answer.missing_field === 'api_key' || /api[_ ]?key/i.test(error ?? ''))
        throw new PermanentError('ConfigError', `Amplitude refused the API key (${error}): check AMPLITUDE_API_KEY (Settings > Projects > API key) and AMPLITUDE_ZONE / AMPLITUDE_SERVER_URL for an EU project.`);
      throw new PermanentError('InvalidRequest', `Amplitude refused a request of ${events.length} events without naming a bad event (400: ${error}${answer.missing_field ? `, missing ${answer.missing_field}` : ''}).`);
    }
    const rejected = [...reasons].map(([i, why]) => ({ event: events[i], reason: `400 ${answer.error ?? 'Bad Request'}: ${why.join(', ')}` }));
    this.log?.warn({ rejected: rejected.length, of: events.length, error: answer.error }, 'Amplitude rejected events; resending the rest');
    return { rejected, remaining: events.filter((_, i) => !reasons.has(i)) };
  }

  private transientFailure(answer: Answer, count: number): TransientError {
    if (answer.status === 429) {
      const t = throttledSchema.safeParse(answer.body);
      const info = t.success ? t.data : {};
      const quota = Object.keys(info.exceeded_daily_quota_users ?? {}).length + Object.keys(info.exceeded_daily_quota_devices ?? {}).length;
      const ids = Object.keys(info.throttled_users ?? {}).length + Object.keys(info.throttled_devices ?? {}).length;
      const header = parseRetryAfter(answer.retryAfter);
      const wait = header ?? (quota > 0 ? DAILY_QUOTA_RETRY_MS : this.throttleRetryMs);
      return new TransientError(
        quota > 0
          ? `Amplitude daily quota exceeded for ${quota} user/device ids (429); retrying in ${Math.round(wait / 1000)} s.`
          : `Amplitude throttled ${count} events (429${ids ? `, ${ids} ids over ${info.eps_threshold ?? '?'} events/s` : ''}); retrying in ${Math.round(wait / 1000)} s.`,
        { retryAfterMs: wait, kind: quota > 0 ? 'amplitude-daily-quota' : 'amplitude-throttled' },
      );
    }
    const detail = typeof answer.body === 'object' && answer.body !== null && 'error' in answer.body ? String((answer.body as { error: unknown }).error) : '';
    const header = parseRetryAfter(answer.retryAfter);
    return new TransientError(`Amplitude answered ${answer.status}${detail ? ` (${detail})` : ''} for ${count} events; will retry.`, {
      kind: answer.status >= 500 ? 'amplitude-server-error' : `amplitude-${answer.status}`,
      ...(header !== undefined ? { retryAfterMs: header } : {}),
    });
  }

  private remember(events: AmplitudeEvent[]): void {
    const now = Date.now();
    for (const e of events) {
      this.acknowledged.delete(e.insert_id);
      this.acknowledged.set(e.insert_id, now);
    }
    while (this.acknowledged.size > this.ackMax) this.acknowledged.delete(this.acknowledged.keys().next().value as string);
  }

  private forgetOld(): void {
    const limit = Date.now() - this.ttlMs;
    for (const [id, at] of this.acknowledged) {
      if (at >= limit) break;
      this.acknowledged.delete(id);
    }
  }
}
