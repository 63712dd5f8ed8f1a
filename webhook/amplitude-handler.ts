import type { Logger } from '../config/logger';
import type { IngestSignal, RejectedEvent } from '../activities/amplitude-ingest-types';
import { checkExportEvent, type FieldProblem } from '../mappings/amplitude-export';
import { boundedRawBody, createIngestGuard, type IngestGuard, type LimitName } from './ingest-guard';
import type { WebhookMetrics } from './metrics';
import { headerValue, secretMatches, type HeaderBag } from './secret';

/**
 * The Amplitude event-streaming endpoint, free of any HTTP framework: the fastify server and the Azure
 * Function both hand it the headers and the raw body and send back what it returns.
 *
 * Statuses: 200 all events durably accepted; 400 malformed JSON, at least one invalid event or one
 * over the ingest limits (the valid ones of a batch are still accepted, the others go to
 * ops.dead_letters, and the body lists each event with its status), or a request Temporal refused
 * for its content (nothing accepted, the raw body goes to ops.dead_letters); 401 missing or wrong
 * secret; 413 body over the limit; 503 the events could not be made durable (Temporal unreachable),
 * so that Amplitude retries. Content never causes a 503, so a bad request is never retried forever.
 */

export interface WebhookRequest {
  /** Header names in lower case. */
  headers: HeaderBag;
  body: Buffer | string;
}

export interface WebhookResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** The Retry-After (seconds) an ingest refusal asks for (`retryAfterSeconds`, as IngestBusyError carries), else 1. */
export function retryAfterOf(err: unknown): number {
  const s = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  return typeof s === 'number' && Number.isFinite(s) && s >= 1 ? Math.ceil(s) : 1;
}

/** Hands validated events to durable storage; resolves only once they are durable. */
export interface EventIngest {
  submit(signal: IngestSignal, opts: { key: string; bytes: number }): Promise<void>;
}

export interface AmplitudeHandlerOptions {
  secret: string;
  /** Lower-case header name Amplitude's destination is configured to send the secret in. */
  secretHeader: string;
  bodyLimitBytes: number;
  ingest: EventIngest;
  /** Bounds checked before a request joins a signal (default: DEFAULT_INGEST_LIMITS, the SDK's default converter). */
  guard?: IngestGuard;
  metrics?: WebhookMetrics;
  log?: Logger;
}

export type EventOutcome =
  | { index: number; uuid?: string; status: 'accepted' }
  | { index: number; uuid?: string; status: 'rejected'; problems: FieldProblem[]; /** The setting that refused it, when a limit did. */ limit?: LimitName };

export type Handler = (req: WebhookRequest) => Promise<WebhookResponse>;

const SOURCE = 'amplitude';
/** Longer is not a uuid (the schema's bound): it is not echoed back nor used as a record key. */
const MAX_UUID = 128;

export function unauthorized(secretHeader: string): WebhookResponse {
  return {
    status: 401,
    body: { error: 'unauthorized', message: `Missing or wrong shared secret: send it in the "${secretHeader}" header (a custom header of the Amplitude webhook destination, WEBHOOK_SECRET here).` },
  };
}

export function tooLarge(bytes: number | undefined, limit: number): WebhookResponse {
  return {
    status: 413,
    body: {
      error: 'payload_too_large',
      message: `The body${bytes !== undefined ? ` of ${bytes} bytes` : ''} exceeds the limit of ${limit} bytes (WEBHOOK_BODY_LIMIT_BYTES): send fewer events per request.`,
    },
  };
}

export function createAmplitudeHandler(opts: AmplitudeHandlerOptions): Handler {
  const log = opts.log?.child({ component: 'webhook-amplitude' });
  const guard = opts.guard ?? createIngestGuard();
  const rejectedCount = (n: number, reason: string) => n > 0 && opts.metrics?.eventsRejected.inc({ source: SOURCE, reason }, n);

  return async (req) => {
    if (!secretMatches(headerValue(req.headers, opts.secretHeader), opts.secret)) return unauthorized(opts.secretHeader);
    const bytes = typeof req.body === 'string' ? Buffer.byteLength(req.body) : req.body.length;
    if (bytes > opts.bodyLimitBytes) return tooLarge(bytes, opts.bodyLimitBytes);

    let parsed: unknown;
    try {
      parsed = JSON.parse(typeof req.body === 'string' ? req.body : req.body.toString('utf8'));
    } catch (err) {
      rejectedCount(1, 'malformed_json');
      const message = bytes === 0 ? 'the body is empty' : (err as Error).message;
      return { status: 400, body: { error: 'malformed_json', message: `The body is not valid JSON (${message}): send one export event object or an array of them.`, problems: [{ path: '', message }] } };
    }
    const items = Array.isArray(parsed) ? parsed : [parsed];
    if (items.length === 0) return { status: 400, body: { error: 'no_events', message: 'The body is an empty array: send at least one event.', problems: [{ path: '', message: 'empty array' }] } };
    // Paths are relative to the body, so a batch's problems name the event they belong to.
    const at = (index: number, path: string) => (Array.isArray(parsed) ? `[${index}]${path ? `.${path}` : ''}` : path);
    const uuidOf = (item: unknown) => {
      const u = (item as { uuid?: unknown } | null)?.uuid;
      return typeof u === 'string' && u.length <= MAX_UUID ? u : undefined;
    };
    /**
     * A dead letter for an event that cannot travel as it is: the raw body (bounded text) stands in
     * for it, once per request; the request's other such events point to that letter.
     */
    let rawKey: string | undefined;
    const rawLetter = (recordKey: string): unknown => {
      if (rawKey !== undefined) return `raw request body stored with dead letter ${rawKey}`;
      rawKey = recordKey;
      return boundedRawBody(req.body);
    };

    const events: Record<string, unknown>[] = [];
    const rejected: RejectedEvent[] = [];
    let limited = 0;
    const outcomes: EventOutcome[] = items.map((item, index) => {
      const uuid = uuidOf(item);
      const recordKey = uuid ?? `index:${index}`;
      const over = guard.check(item, index);
      if (over) {
        limited++;
        const problems = [{ path: at(index, over.path), message: over.message }];
        rejected.push({ recordKey, problems, payload: rawLetter(recordKey) });
        return { index, uuid, status: 'rejected', problems, limit: over.limit };
      }
      const checked = checkExportEvent(item);
      if (checked.ok) {
        // Stored as received: the parsed value keeps unknown fields too, but the original is the record.
        events.push(item as Record<string, unknown>);
        return { index, uuid, status: 'accepted' };
      }
      const problems = checked.problems.map((p) => ({ path: at(index, p.path), message: p.message }));
      rejected.push({ recordKey, problems, payload: item });
      return { index, uuid, status: 'rejected', problems };
    });

    // The shard follows the first event's uuid, so a replayed request goes where the original went.
    const key = outcomes[0].uuid ?? '';

    /**
     * Temporal refused this request on its own for what it carries (it got past the guard, e.g. a
     * payload the server finds too large): nothing of it was stored. Its raw body goes to dead letters
     * and the sender gets a 400. If even that letter cannot be stored, the refusal may not have been
     * about the content: 503, and the sender retries.
     */
    const refuseWhole = async (reason: string): Promise<WebhookResponse> => {
      rawKey = undefined;
      const letters: RejectedEvent[] = [];
      const refused: EventOutcome[] = items.map((item, index) => {
        const uuid = uuidOf(item);
        const recordKey = uuid ?? `index:${index}`;
        const problems = [{ path: at(index, ''), message: reason }];
        letters.push({ recordKey, problems, payload: rawLetter(recordKey) });
        return { index, uuid, status: 'rejected', problems, limit: 'TEMPORAL_PAYLOAD' };
      });
      try {
        await opts.ingest.submit({ events: [], rejected: letters }, { key, bytes: Math.min(bytes, 256 * 1024) });
      } catch (err) {
        rejectedCount(items.length, 'not_durable');
        log?.warn({ err: (err as Error).message, reason }, 'a request Temporal refused could not be dead-lettered either: answering 503');
        return { status: 503, headers: { 'retry-after': '5' }, body: { error: 'unavailable', message: 'The events could not be made durable; nothing was stored. Retry later.' } };
      }
      rejectedCount(items.length, 'not_storable');
      log?.warn({ reason, events: items.length }, 'request refused by Temporal for its content: answered 400, raw body dead-lettered');
      return {
        status: 400,
        body: {
          error: 'not_storable',
          message: `Temporal cannot store this request (${reason}); nothing was accepted and the raw body was recorded as a dead letter. Send smaller or simpler events.`,
          accepted: 0,
          rejected: items.length,
          events: refused,
        },
      };
    };
    let lettered = rejected.length > 0;
    try {
      await opts.ingest.submit({ events, rejected }, { key, bytes });
    } catch (err) {
      // By name, as for backpressure: the handler does not depend on the Temporal implementation.
      if (err instanceof Error && err.name === 'IngestContentError') return refuseWhole(err.message);
      const behind = err instanceof Error && err.name === 'IngestBackpressureError';
      const busy = err instanceof Error && err.name === 'IngestBusyError';
      if (events.length > 0) {
        rejectedCount(events.length, behind ? 'backpressure' : busy ? 'busy' : 'not_durable');
        log?.warn({ err: (err as Error).message, events: events.length }, 'events not made durable: answering 503 so that Amplitude retries');
        return {
          status: 503,
          headers: { 'retry-after': behind ? '60' : busy ? String(retryAfterOf(err)) : '5' },
          body: {
            error: behind ? 'ingest_behind' : busy ? 'ingest_busy' : 'unavailable',
            message: behind || busy ? `${(err as Error).message}. Nothing was stored.` : 'The events could not be made durable (Temporal is unreachable or too slow); nothing was stored. Retry later.',
          },
        };
      }
      // Nothing valid to keep: the sender still gets its 400; only the dead-letter copy is missing.
      lettered = false;
      log?.warn({ err: (err as Error).message, rejected: rejected.length }, 'could not record rejected events as dead letters');
    }
    opts.metrics?.eventsAccepted.inc({ source: SOURCE }, events.length);
    rejectedCount(limited, 'limit');
    rejectedCount(rejected.length - limited, 'invalid');

    if (rejected.length === 0) return { status: 200, body: { accepted: events.length, rejected: 0, events: outcomes } };
    return {
      status: 400,
      body: {
        error: 'invalid_events',
        message:
          `${rejected.length} of ${items.length} event(s) failed validation${limited > 0 ? ' or exceeded the ingest limits' : ''}${lettered ? ' and were recorded as dead letters' : ''}` +
          (events.length > 0 ? `; the other ${events.length} were accepted and stored.` : '.') +
          ' See "events" for each event\'s status and problems.',
        accepted: events.length,
        rejected: rejected.length,
        events: outcomes,
      },
    };
  };
}
