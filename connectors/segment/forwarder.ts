import type { Logger } from '../../config/logger';
import { PermanentError, TransientError, retryAfterMs as parseRetryAfter } from '../../lib/errors';

/**
 * Re-sends collected calls to Segment's HTTP Tracking API (`POST <endpoint>/v1/batch`, write key as
 * HTTP Basic user name), so that Segment and its BigQuery warehouse keep receiving every call while
 * dual tracking is on. A call goes as it was collected (same messageId, context, properties), with
 * its skew-corrected `timestamp`: the batch's `sentAt` is the time of this request, so Segment's own
 * correction (receivedAt - (sentAt - timestamp)) leaves the event time where we put it instead of
 * shifting it by however long the forward took.
 *
 * Outcomes, per request:
 * - 2xx: sent (Segment deduplicates on messageId, so a resend after a lost answer is harmless).
 * - 400/413: the chunk is split in halves; a single call Segment still refuses is rejected for good.
 * - 429: SegmentHttpError (a TransientError) carrying the Retry-After (or X-RateLimit-Reset) wait.
 * - 5xx, network errors, timeouts: SegmentHttpError, retried by Temporal.
 * - 401/403: PermanentError naming SEGMENT_FORWARD_WRITE_KEY.
 *
 * Chunks acknowledged with a 2xx are remembered (by messageId, for a while) so that a retried
 * activity does not send them again.
 */

export interface SegmentForwarderOptions {
  /** https://api.segment.io, https://events.eu1.segmentapis.com, or the sandbox emulator's URL. */
  endpoint: string;
  writeKey: string;
  log?: Logger;
  /** Segment takes 500 KB per batch; analytics-node cuts at 480 KB. */
  maxBatchBytes?: number;
  /** Segment takes 2,500 calls per batch. */
  maxBatchCalls?: number;
  concurrency?: number;
  timeoutMs?: number;
  acknowledgedTtlMs?: number;
  acknowledgedMax?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface ForwardReport {
  sent: number;
  rejected: { call: Record<string, unknown>; reason: string }[];
}

/** A failed request to Segment that a retry may fix, with its status (undefined: no answer). */
export class SegmentHttpError extends TransientError {
  constructor(
    message: string,
    readonly status: number | undefined,
    opts: { retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, opts);
    this.name = 'SegmentHttpError';
  }
}

/** Segment's per-call limit: a call over it is refused in any batch. */
export const SEGMENT_CALL_MAX_BYTES = 32 * 1024;
/** When Segment says 429 without saying how long: its rate windows are short. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 10_000;

/** The call as Segment receives it from us (see the class comment for sentAt and receivedAt). */
export function forwardForm(call: Record<string, unknown>): Record<string, unknown> {
  const { receivedAt: _r, sentAt: _s, writeKey: _w, ...rest } = call;
  return rest;
}

export class SegmentForwarder {
  private readonly url: string;
  private readonly auth: string;
  private readonly maxBytes: number;
  private readonly maxCalls: number;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly ttlMs: number;
  private readonly ackMax: number;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly log?: Logger;
  /** messageId -> when Segment acknowledged it (insertion order: oldest first). */
  private readonly acknowledged = new Map<string, number>();

  constructor(private readonly opts: SegmentForwarderOptions) {
    this.url = `${opts.endpoint.replace(/\/+$/, '')}/v1/batch`;
    this.auth = `Basic ${Buffer.from(`${opts.writeKey}:`).toString('base64')}`;
    this.maxBytes = Math.min(opts.maxBatchBytes ?? 480 * 1024, 500 * 1024);
    this.maxCalls = Math.min(opts.maxBatchCalls ?? 2_500, 2_500);
    this.concurrency = opts.concurrency ?? 2;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.ttlMs = opts.acknowledgedTtlMs ?? 15 * 60_000;
    this.ackMax = opts.acknowledgedMax ?? 250_000;
    this.fetchFn = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
    this.log = opts.log?.child({ component: 'segment-forwarder' });
  }

  async send(calls: Record<string, unknown>[]): Promise<ForwardReport> {
    this.forgetOld();
    const rejected: ForwardReport['rejected'] = [];
    let sent = 0;
    const pending: { call: Record<string, unknown>; json: string; size: number }[] = [];
    for (const call of calls) {
      const id = typeof call.messageId === 'string' ? call.messageId : undefined;
      if (id !== undefined && this.acknowledged.has(id)) {
        sent++;
        continue;
      }
      const json = JSON.stringify(forwardForm(call));
      const size = Buffer.byteLength(json);
      if (size > SEGMENT_CALL_MAX_BYTES) rejected.push({ call, reason: `call of ${size} bytes is over Segment's 32 KB limit per call` });
      else pending.push({ call, json, size });
    }
    const chunks = this.chunk(pending);
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (failure === undefined && next < chunks.length) {
        const chunk = chunks[next++];
        try {
          const r = await this.deliver(chunk);
          sent += r.sent;
          rejected.push(...r.rejected);
        } catch (err) {
          failure ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, chunks.length) }, worker));
    if (failure !== undefined) throw failure;
    return { sent, rejected };
  }

  private chunk<T extends { size: number }>(items: T[]): T[][] {
    const chunks: T[][] = [];
    let current: T[] = [];
    let bytes = 0;
    // Room for {"batch":[...],"sentAt":"...","writeKey":"..."} around the calls.
    const overhead = 200 + this.opts.writeKey.length;
    for (const item of items) {
      if (current.length > 0 && (current.length >= this.maxCalls || bytes + item.size + 1 + overhead > this.maxBytes)) {
        chunks.push(current);
        current = [];
        bytes = 0;
      }
      current.push(item);
      bytes += item.size + 1;
    }
    if (current.length > 0) chunks.push(current);
    return chunks;
  }

  private async deliver(chunk: { call: Record<string, unknown>; json: string }[]): Promise<ForwardReport> {
    const res = await this.post(chunk.map((c) => c.json));
    if (res.status >= 200 && res.status < 300) {
      const at = this.now();
      for (const c of chunk) if (typeof c.call.messageId === 'string') this.acknowledged.set(c.call.messageId, at);
      return { sent: chunk.length, rejected: [] };
    }
    if (res.status === 400 || res.status === 413) {
      if (chunk.length === 1) return { sent: 0, rejected: [{ call: chunk[0].call, reason: `Segment refused the call (${res.status}: ${res.text.slice(0, 300)})` }] };
      const half = Math.ceil(chunk.length / 2);
      const a = await this.deliver(chunk.slice(0, half));
      const b = await this.deliver(chunk.slice(half));
      return { sent: a.sent + b.sent, rejected: [...a.rejected, ...b.rejected] };
    }
    if (res.status === 401 || res.status === 403)
      throw new PermanentError('AuthError', `Segment refused the write key (${res.status}): check SEGMENT_FORWARD_WRITE_KEY (the source's write key) and SEGMENT_FORWARD_ENDPOINT (EU workspaces use https://events.eu1.segmentapis.com).`);
    if (res.status === 429) {
      const wait = res.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS;
      throw new SegmentHttpError(`Segment rate-limited the forward (429); ${chunk.length} calls will be sent again in ${Math.round(wait / 1000)} s.`, 429, { retryAfterMs: wait });
    }
    if (res.status >= 500 || res.status === 408)
      throw new SegmentHttpError(`Segment answered ${res.status}; ${chunk.length} calls not confirmed, will retry.`, res.status, { retryAfterMs: res.retryAfterMs });
    throw new PermanentError('InvalidRequest', `Segment answered ${res.status} to a batch of ${chunk.length} calls: ${res.text.slice(0, 300)}`);
  }

  private async post(calls: string[]): Promise<{ status: number; text: string; retryAfterMs?: number }> {
    const body = `{"batch":[${calls.join(',')}],"sentAt":${JSON.stringify(new Date(this.now()).toISOString())},"writeKey":${JSON.stringify(this.opts.writeKey)}}`;
    let res: Response;
    try {
      res = await this.fetchFn(this.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: this.auth, 'User-Agent': 'novade-sync-segment-forward' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const reason = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
      throw new SegmentHttpError(`Segment did not answer (${reason}); ${calls.length} calls not confirmed, will retry.`, undefined, { cause: err });
    }
    const text = await res.text().catch(() => '');
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.now()) ?? this.rateLimitReset(res.headers.get('x-ratelimit-reset'));
    if (res.status >= 300) this.log?.warn({ status: res.status, calls: calls.length, retryAfterMs }, 'Segment did not accept a forwarded batch');
    return { status: res.status, text, retryAfterMs };
  }

  /** X-RateLimit-Reset in seconds: a wait, or (a large value) the Unix time the window resets. */
  private rateLimitReset(header: string | null): number | undefined {
    const v = Number(header ?? NaN);
    if (!header || !Number.isFinite(v) || v < 0) return undefined;
    return v > 1e9 ? Math.max(0, v * 1000 - this.now()) : v * 1000;
  }

  private forgetOld(): void {
    const oldest = this.now() - this.ttlMs;
    for (const [id, at] of this.acknowledged) {
      if (at >= oldest && this.acknowledged.size <= this.ackMax) break;
      this.acknowledged.delete(id);
    }
  }
}
