import { randomUUID } from 'node:crypto';
import type { Logger } from '../config/logger';
import type { IngestSignal, RejectedEvent } from '../activities/push-ingest-types';
import type { FieldProblem } from '../mappings/amplitude-export';
import { checkSegmentCall, enrichCall, segmentBatchSchema, SEGMENT_CALL_TYPES, SEGMENT_LIMITS, SHORT_ROUTE_TYPES, type EnrichedCall, type SegmentCall, type SegmentCallType } from '../mappings/segment-calls';
import { retryAfterOf, type EventIngest, type WebhookResponse } from './amplitude-handler';
import { boundedRawBody, createIngestGuard, type IngestGuard, type LimitName, type LimitProblem } from './ingest-guard';
import type { WebhookMetrics } from './metrics';
import { headerValue, keyMatchesAny, type HeaderBag } from './secret';

/**
 * Segment's HTTP Tracking API, free of any HTTP framework (the fastify server and the Azure Function
 * mount the same handler), so that analytics.js (`integrations['Segment.io'].apiHost`) and
 * analytics-node (`host`) send to novade-sync instead of api.segment.io (DESIGN.md "Ingest path").
 *
 * Statuses, chosen for how Segment's clients react (they never retry a 4xx but 408/429; they retry
 * 5xx and 429, honouring Retry-After):
 * - 200 once every valid call is durable (Temporal accepted it). A batch's invalid calls are
 *   dead-lettered and listed in the body; the rest is accepted.
 * - 400 only for what a retry cannot fix: malformed JSON, a body over Segment's limits (32 KB per
 *   call, 500 KB per batch, 2,500 calls), a single call that is invalid or over the ingest limits
 *   (dead-lettered), a batch whose calls are all refused, a request Temporal refused for its content
 *   (`not_storable`: nothing accepted, the raw body dead-lettered).
 * - A call over the ingest limits (WEBHOOK_EVENT_MAX_*, checked as it will travel, after enrichment)
 *   is refused alone before the request joins a signal, like an invalid call: inside a batch it is
 *   dead-lettered and listed, the rest accepted. Content never causes a 429 or 503.
 * - 401 missing or unknown write key.
 * - 429 (ingest behind) or 503 (Temporal unreachable) with Retry-After: nothing was stored, retry.
 */

export interface SegmentRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/t`. */
  path: string;
  /** Header names in lower case. */
  headers: HeaderBag;
  body: Buffer | string;
  /** The client's address as the server sees it (X-Forwarded-For is read here). */
  ip?: string;
  /** Scheme the client used, when the host knows it. */
  protocol?: string;
  /** Where the host mounts `/v1` (Azure Functions: `/api`), for the apiHost the settings hand out. */
  mountPath?: string;
}

export interface SegmentHandlerOptions {
  /** Accepted write keys (SEGMENT_WRITE_KEYS). */
  writeKeys: string[];
  /** Browser origins allowed to send (SEGMENT_CORS_ORIGINS); `*` allows any. */
  corsOrigins: string[];
  ingest: EventIngest;
  /** Bounds checked before a request joins a signal (default: DEFAULT_INGEST_LIMITS, the SDK's default converter). */
  guard?: IngestGuard;
  metrics?: WebhookMetrics;
  log?: Logger;
  now?: () => number;
  newMessageId?: () => string;
}

export type SegmentHandler = (req: SegmentRequest) => Promise<WebhookResponse>;

const SOURCE = 'segment';
const LONG_ROUTES = new Set<string>(SEGMENT_CALL_TYPES);
const BATCH_ROUTES = new Set(['batch', 'b']);
const ALLOWED_HEADERS = 'Content-Type, Authorization, X-Retry-Count';
/** One request's calls travel in one Temporal signal, whose payload limit is 2 MB. */
const MAX_SIGNAL_BYTES = 1_500_000;

/** Where the Segment routes live; `segmentRouteOf` reads a request path against them. */
export const SEGMENT_BASE_PATH = '/v1';

type Route =
  | { kind: 'call'; type?: SegmentCallType }
  | { kind: 'batch' }
  | { kind: 'metrics' }
  | { kind: 'settings'; writeKey: string }
  | { kind: 'unknown' };

export function segmentRouteOf(path: string): Route {
  const rest = path.startsWith(`${SEGMENT_BASE_PATH}/`) ? path.slice(SEGMENT_BASE_PATH.length + 1).replace(/\/+$/, '') : undefined;
  if (rest === undefined) return { kind: 'unknown' };
  const settings = /^projects\/([^/]+)\/settings$/.exec(rest);
  if (settings) return { kind: 'settings', writeKey: decodeURIComponent(settings[1]) };
  if (BATCH_ROUTES.has(rest)) return { kind: 'batch' };
  if (rest === 'm') return { kind: 'metrics' };
  if (LONG_ROUTES.has(rest)) return { kind: 'call', type: rest as SegmentCallType };
  if (rest in SHORT_ROUTE_TYPES) return { kind: 'call', type: SHORT_ROUTE_TYPES[rest] };
  return { kind: 'unknown' };
}

/** The write key of `Authorization: Basic base64("<writeKey>:")`, Segment's documented form. */
export function basicWriteKey(authorization: string | undefined): string | undefined {
  const m = /^Basic\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const key = colon === -1 ? decoded : decoded.slice(0, colon);
  return key === '' ? undefined : key;
}

/** The client's address: the first X-Forwarded-For hop (a proxy or Azure's front end), else the socket's. */
export function clientIp(req: Pick<SegmentRequest, 'headers' | 'ip'>): string | undefined {
  const forwarded = headerValue(req.headers, 'x-forwarded-for')?.split(',')[0]?.trim();
  const ip = forwarded || req.ip;
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d, Azure's front end adds the port
  // (a.b.c.d:port): Segment stores a.b.c.d.
  return ip?.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1').replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, '$1') || undefined;
}

const describe = (problems: FieldProblem[]) => problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');

export function createSegmentHandler(opts: SegmentHandlerOptions): SegmentHandler {
  const log = opts.log?.child({ component: 'segment-collect' });
  const now = opts.now ?? Date.now;
  const newMessageId = opts.newMessageId ?? (() => `srv-${randomUUID()}`);
  const anyOrigin = opts.corsOrigins.includes('*');
  const origins = new Set(opts.corsOrigins.map((o) => o.replace(/\/+$/, '').toLowerCase()));
  const rejectedCount = (n: number, reason: string) => n > 0 && opts.metrics?.eventsRejected.inc({ source: SOURCE, reason }, n);
  const guard = opts.guard ?? createIngestGuard();

  /** CORS headers for an allowed origin (echoed, so that credentialed requests work too); none otherwise. */
  const cors = (headers: HeaderBag): Record<string, string> | undefined => {
    const origin = headerValue(headers, 'origin');
    if (!origin || !(anyOrigin || origins.has(origin.replace(/\/+$/, '').toLowerCase()))) return undefined;
    return { 'access-control-allow-origin': origin, vary: 'Origin' };
  };
  const answer = (req: SegmentRequest, res: WebhookResponse): WebhookResponse => {
    const c = cors(req.headers);
    return c ? { ...res, headers: { ...c, ...res.headers } } : res;
  };
  const bad = (error: string, message: string, extra: Record<string, unknown> = {}): WebhookResponse => ({ status: 400, body: { error, message, ...extra } });

  const preflight = (req: SegmentRequest): WebhookResponse => {
    const origin = headerValue(req.headers, 'origin');
    const c = cors(req.headers);
    if (!c)
      return {
        status: 403,
        body: {
          error: 'origin_not_allowed',
          message: origin
            ? `The origin ${origin} may not send events here: add it to SEGMENT_CORS_ORIGINS (comma-separated, e.g. https://www.novade.com).`
            : 'A CORS preflight needs an Origin header.',
        },
      };
    return {
      status: 204,
      body: undefined,
      headers: { ...c, 'access-control-allow-methods': 'POST, OPTIONS', 'access-control-allow-headers': ALLOWED_HEADERS, 'access-control-max-age': '86400' },
    };
  };

  /**
   * What analytics.js loads from `${cdnURL}/v1/projects/<writeKey>/settings`: the Segment.io
   * destination only, pointed back at this host (no device-mode destinations to fetch, no remote
   * metrics). Modelled on Jitsu's stub of the same endpoint.
   */
  const settings = (req: SegmentRequest, writeKey: string): WebhookResponse => {
    if (!keyMatchesAny(writeKey, opts.writeKeys)) return { status: 404, body: { error: 'unknown_write_key', message: 'No source has this write key here: use one of SEGMENT_WRITE_KEYS.' } };
    const host = headerValue(req.headers, 'x-forwarded-host') ?? headerValue(req.headers, 'host');
    const protocol = (headerValue(req.headers, 'x-forwarded-proto')?.split(',')[0]?.trim() ?? req.protocol ?? 'https').replace(/:$/, '');
    return {
      status: 200,
      headers: { 'cache-control': 'public, max-age=300' },
      body: {
        integrations: {
          'Segment.io': {
            apiKey: writeKey,
            ...(host ? { apiHost: `${host}${req.mountPath ?? ''}${SEGMENT_BASE_PATH}`, protocol } : {}),
            unbundledIntegrations: [],
            addBundledMetadata: true,
            maybeBundledConfigIds: {},
            versionSettings: { version: '4.4.7', componentTypes: ['browser'] },
          },
        },
        plan: { track: { __default: { enabled: true, integrations: {} } }, identify: { __default: { enabled: true } }, group: { __default: { enabled: true } } },
        edgeFunction: {},
        analyticsNextEnabled: true,
        middlewareSettings: {},
        enabledMiddleware: {},
        metrics: { sampleRate: 0 },
        legacyVideoPluginsEnabled: false,
        remotePlugins: [],
      },
    };
  };

  /**
   * 429 when the ingest is behind, 503 when the ingest shards are at their admission budget or
   * Temporal did not take the calls: nothing was stored, the client retries.
   */
  const notDurable = (err: unknown, calls: number): WebhookResponse => {
    const behind = err instanceof Error && err.name === 'IngestBackpressureError';
    const busy = err instanceof Error && err.name === 'IngestBusyError';
    rejectedCount(calls, behind ? 'backpressure' : busy ? 'busy' : 'not_durable');
    log?.warn({ err: (err as Error).message, calls }, 'calls not made durable: answering so that the client retries');
    if (busy)
      return {
        status: 503,
        headers: { 'retry-after': String(retryAfterOf(err)) },
        body: { error: 'ingest_busy', message: `${(err as Error).message}. Nothing was stored; retry after the Retry-After delay.` },
      };
    return behind
      ? { status: 429, headers: { 'retry-after': '30' }, body: { error: 'ingest_behind', message: `${(err as Error).message} Nothing was stored; retry after the Retry-After delay.` } }
      : {
          status: 503,
          headers: { 'retry-after': '5' },
          body: { error: 'unavailable', message: 'The calls could not be made durable (Temporal is unreachable or too slow); nothing was stored. Retry later.' },
        };
  };

  /**
   * One request's handling: its dead letters point to one copy of its raw body, and a request
   * Temporal refuses for its content is answered for all its calls at once.
   */
  const requestScope = (req: SegmentRequest) => {
    /**
     * A refused call's dead letter carries the call as received (without its write key) when it can
     * travel; otherwise the raw body (bounded text, write keys masked) stands in for it, stored once
     * per request, the request's other such calls pointing to that letter.
     */
    let rawKey: string | undefined;
    const rawLetter = (recordKey: string): unknown => {
      if (rawKey !== undefined) return `raw request body stored with dead letter ${rawKey}`;
      rawKey = recordKey;
      let text = typeof req.body === 'string' ? req.body : req.body.toString('utf8');
      for (const key of opts.writeKeys) if (key) text = text.split(key).join('<writeKey>');
      return boundedRawBody(text);
    };
    const letterPayload = (payload: unknown, index: number, recordKey: string): unknown => (guard.check(payload, index) ? rawLetter(recordKey) : payload);

    /**
     * Temporal refused this request on its own for what it carries (it got past the guard, e.g. a
     * signal the server finds too large): nothing of it was stored. Every call of it is dead-lettered
     * with the raw body and the client gets a 400, which it never retries. If even those letters
     * cannot be stored, the refusal may not have been about the content: 429/503, the client retries.
     */
    const notStorable = async (reason: string, recordKeys: string[]): Promise<{ lettered: boolean; response: WebhookResponse }> => {
      rawKey = undefined;
      const letters: RejectedEvent[] = recordKeys.map((recordKey) => ({ recordKey, problems: [{ path: '', message: reason }], payload: rawLetter(recordKey) }));
      try {
        await opts.ingest.submit({ events: [], rejected: letters }, { key: recordKeys[0] ?? '', bytes: Buffer.byteLength(JSON.stringify(letters)) });
      } catch (err) {
        log?.warn({ err: (err as Error).message, reason }, 'a request Temporal refused could not be dead-lettered either');
        return { lettered: false, response: notDurable(err, recordKeys.length) };
      }
      rejectedCount(recordKeys.length, 'not_storable');
      log?.warn({ reason, calls: recordKeys.length }, 'request refused by Temporal for its content: answered 400, raw body dead-lettered');
      return {
        lettered: true,
        response: bad(
          'not_storable',
          `Temporal cannot store this request (${reason}); nothing was accepted and the raw body was recorded as a dead letter. Send smaller or simpler calls: resending it unchanged fails again.`,
          { accepted: 0, rejected: recordKeys.length, limit: 'TEMPORAL_PAYLOAD' satisfies LimitName },
        ),
      };
    };

    /**
     * Makes the valid calls durable; the rejected ones travel along to ops.dead_letters. Answers the
     * refusal to send when the valid calls could not be made durable, and whether the dead letters were.
     */
    const submit = async (calls: EnrichedCall[], rejected: RejectedEvent[], limited: number): Promise<{ refusal?: WebhookResponse; lettered: boolean }> => {
      const signal: IngestSignal = { events: calls as unknown as Record<string, unknown>[], rejected };
      // What the signal will weigh, not the body: enrichment (batch context merged into every call,
      // receivedAt, timestamps, ip) can double a batch, and the ingest groups requests by this size to
      // keep each signal well under Temporal's 2 MB payload limit. Every call and letter passed the
      // guard, so this encodes.
      const bytes = Buffer.byteLength(JSON.stringify(signal));
      // Only a batch whose top-level context is merged into thousands of calls gets here: refused for its
      // content, as a retry of the same batch would be.
      if (bytes > MAX_SIGNAL_BYTES)
        return {
          lettered: false,
          refusal: bad(
            'payload_too_large',
            `The batch weighs ${bytes} bytes once its top-level context is merged into each call, over the ${MAX_SIGNAL_BYTES} bytes one durable write takes: send fewer calls per batch or a smaller top-level context.`,
          ),
        };
      try {
        // The shard follows the first messageId, so a replayed request goes where the original went.
        await opts.ingest.submit(signal, { key: calls[0]?.messageId ?? rejected[0]?.recordKey ?? '', bytes });
      } catch (err) {
        // By name, as for backpressure: the handler does not depend on the Temporal implementation.
        if (err instanceof Error && err.name === 'IngestContentError') {
          const refused = await notStorable(err.message, [...calls.map((c) => c.messageId), ...rejected.map((r) => r.recordKey)]);
          // Nothing valid was to be kept: the request's own 400 stands, with its letters if they were stored.
          return calls.length === 0 ? { lettered: refused.lettered } : { lettered: refused.lettered, refusal: refused.response };
        }
        if (calls.length === 0) {
          // Nothing valid to keep: the sender still gets its 400; only the dead-letter copy is missing.
          log?.warn({ err: (err as Error).message, rejected: rejected.length }, 'could not record rejected calls as dead letters');
          return { lettered: false };
        }
        return { lettered: false, refusal: notDurable(err, calls.length) };
      }
      opts.metrics?.eventsAccepted.inc({ source: SOURCE }, calls.length);
      rejectedCount(limited, 'limit');
      rejectedCount(rejected.length - limited, 'invalid');
      return { lettered: rejected.length > 0 };
    };

    /**
     * A call as it will travel, or why it cannot: checked, enriched, then held to the ingest limits.
     * `payload` is the call as received, without its write key (what a dead letter keeps).
     */
    const prepare = (
      item: unknown,
      index: number,
      enrich: (raw: Record<string, unknown>, call: SegmentCall) => EnrichedCall,
    ): { ok: true; call: EnrichedCall } | { ok: false; problems: FieldProblem[]; limit?: LimitName; payload: unknown } => {
      const payload = typeof item === 'object' && item !== null && !Array.isArray(item) ? (({ writeKey: _k, ...rest }) => rest)(item as Record<string, unknown>) : item;
      const overLimit = (over: LimitProblem | undefined) => {
        // Only a call whose JSON cannot be written at all has no guard problem here; still a payload problem.
        const o = over ?? { path: '', limit: 'TEMPORAL_PAYLOAD' as const, message: 'the call cannot be encoded as JSON' };
        return { ok: false as const, problems: [{ path: o.path, message: o.message }], limit: o.limit, payload };
      };
      const checked = checkSegmentCall(item);
      if (!checked.ok) {
        // Its dead letter travels too: a call that cannot is refused for that first, as on /amplitude.
        const over = guard.check(payload, index);
        return over ? overLimit(over) : { ok: false, problems: checked.problems, payload };
      }
      let call: EnrichedCall;
      try {
        call = enrich(item as Record<string, unknown>, checked.call);
      } catch (err) {
        // Merging a batch's context into a call's recurses: thousands of levels on both sides overflow the stack.
        if (!(err instanceof RangeError)) throw err;
        return overLimit(guard.check(payload, index));
      }
      const over = guard.check(call, index);
      return over ? overLimit(over) : { ok: true, call };
    };

    return { letterPayload, submit, prepare };
  };

  const handlePost = async (req: SegmentRequest, route: Extract<Route, { kind: 'call' | 'batch' }>): Promise<WebhookResponse> => {
    const bytes = typeof req.body === 'string' ? Buffer.byteLength(req.body) : req.body.length;
    const limit = route.kind === 'batch' ? SEGMENT_LIMITS.batchBytes : SEGMENT_LIMITS.callBytes;
    if (bytes > limit) {
      rejectedCount(1, 'too_large');
      return bad(
        'payload_too_large',
        `The body of ${bytes} bytes is over Segment's limit of ${limit / 1024} KB ${route.kind === 'batch' ? 'per batch' : 'per call'}: send ${route.kind === 'batch' ? 'smaller batches' : 'fewer or smaller properties'}.`,
      );
    }
    const headerKey = basicWriteKey(headerValue(req.headers, 'authorization'));
    const headerOk = headerKey !== undefined && keyMatchesAny(headerKey, opts.writeKeys);

    let parsed: unknown;
    try {
      parsed = JSON.parse(typeof req.body === 'string' ? req.body : req.body.toString('utf8'));
    } catch (err) {
      rejectedCount(1, 'malformed_json');
      return bad('malformed_json', `The body is not valid JSON (${bytes === 0 ? 'the body is empty' : (err as Error).message}): send one call object, or {"batch": [...]} to /v1/batch.`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return bad('invalid_body', 'The body must be a JSON object: one call, or {"batch": [...]} for /v1/batch.');
    const bodyKey = (parsed as { writeKey?: unknown }).writeKey;
    if (!headerOk && !(typeof bodyKey === 'string' && keyMatchesAny(bodyKey, opts.writeKeys)))
      return {
        status: 401,
        body: {
          error: 'unauthorized',
          message:
            'Missing or unknown write key: send it as the HTTP Basic user name (Authorization: Basic base64("<writeKey>:")) or as "writeKey" in the body. Accepted keys are set in SEGMENT_WRITE_KEYS.',
        },
      };

    const receivedAt = now();
    const ip = clientIp(req);
    const scope = requestScope(req);
    if (route.kind === 'call') {
      const raw = parsed as Record<string, unknown>;
      // Segment's long routes name the type; analytics.js's short ones do too, and always send it in the body.
      const withType = raw.type === undefined && route.type ? { ...raw, type: route.type } : raw;
      const prepared = scope.prepare(withType, 0, (r, c) => enrichCall(r, c, { receivedAt, ip, newMessageId }));
      if (!prepared.ok) {
        const recordKey = typeof raw.messageId === 'string' ? raw.messageId : `request:${receivedAt}`;
        const payload = prepared.limit ? scope.letterPayload(prepared.payload, 0, recordKey) : prepared.payload;
        // Nothing valid to make durable: the 400 stands whether or not the dead letter could be recorded.
        const { lettered } = await scope.submit([], [{ recordKey, problems: prepared.problems, payload }], prepared.limit ? 1 : 0);
        const what = prepared.limit ? `is over the ingest limits and was not accepted (${describe(prepared.problems)})` : `is invalid and was not accepted (${describe(prepared.problems)})`;
        return bad('invalid_call', `The call ${what}${lettered ? '; it was recorded as a dead letter' : ''}. Fix the call: resending it unchanged fails again.`, {
          problems: prepared.problems,
          ...(prepared.limit ? { limit: prepared.limit } : {}),
        });
      }
      return (await scope.submit([prepared.call], [], 0)).refusal ?? { status: 200, body: { success: true } };
    }

    const batch = segmentBatchSchema.safeParse(parsed);
    if (!batch.success) return bad('invalid_body', 'A batch body is {"batch": [call, ...]} with each call carrying its "type".', { problems: batch.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
    const items = batch.data.batch;
    if (items.length === 0) return bad('empty_batch', 'The batch holds no calls: send at least one.');
    if (items.length > SEGMENT_LIMITS.batchCalls) {
      rejectedCount(items.length, 'too_many_calls');
      return bad('too_many_calls', `The batch holds ${items.length} calls, over Segment's limit of ${SEGMENT_LIMITS.batchCalls}: split it.`);
    }
    const calls: EnrichedCall[] = [];
    const rejected: RejectedEvent[] = [];
    const rejections: { index: number; messageId?: string; problems: FieldProblem[]; limit?: LimitName }[] = [];
    const seen = new Set<string>();
    let duplicates = 0;
    let limited = 0;
    items.forEach((item, index) => {
      const messageId = typeof (item as { messageId?: unknown } | null)?.messageId === 'string' ? (item as { messageId: string }).messageId : undefined;
      const recordKey = messageId ?? `request:${receivedAt}:${index}`;
      const at = (path: string) => `batch[${index}]${path ? `.${path}` : ''}`;
      const refuse = (problems: FieldProblem[], payload: unknown, limit?: LimitName) => {
        if (limit) limited++;
        rejected.push({ recordKey, problems, payload });
        rejections.push({ index, ...(messageId ? { messageId } : {}), problems, ...(limit ? { limit } : {}) });
      };
      let size: number | undefined;
      try {
        size = Buffer.byteLength(JSON.stringify(item) ?? '');
      } catch {
        // Nested too deep for JSON.stringify: the guard names the limit below.
      }
      if (size !== undefined && size > SEGMENT_LIMITS.callBytes) {
        refuse([{ path: at(''), message: `call of ${size} bytes is over Segment's limit of 32 KB per call` }], scope.letterPayload(item, index, recordKey));
        return;
      }
      const prepared = scope.prepare(item, index, (r, c) => enrichCall(r, c, { receivedAt, ip, newMessageId, batch: batch.data }));
      if (!prepared.ok) {
        refuse(
          prepared.problems.map((p) => ({ path: at(p.path), message: p.message })),
          prepared.limit ? scope.letterPayload(prepared.payload, index, recordKey) : prepared.payload,
          prepared.limit,
        );
        return;
      }
      // A messageId twice in one batch is one call (Segment deduplicates on it too).
      if (seen.has(prepared.call.messageId)) duplicates++;
      else {
        seen.add(prepared.call.messageId);
        calls.push(prepared.call);
      }
    });

    const { refusal, lettered } = await scope.submit(calls, rejected, limited);
    if (refusal) return refusal;
    if (calls.length === 0)
      return bad(
        'invalid_calls',
        `None of the ${items.length} call(s) is valid${limited > 0 ? ' or within the ingest limits' : ''}${lettered ? '; they were recorded as dead letters' : ''}. See "rejections" for each call's problems.`,
        { accepted: 0, rejected: rejected.length, rejections },
      );
    return {
      status: 200,
      body: { success: true, accepted: calls.length, ...(duplicates ? { duplicates } : {}), rejected: rejected.length, ...(rejections.length ? { rejections } : {}) },
    };
  };

  return async (req) => {
    const route = segmentRouteOf(req.path);
    const method = req.method.toUpperCase();
    if (route.kind === 'unknown') return answer(req, { status: 404, body: { error: 'not_found', message: `No Segment route ${req.path}: use /v1/{track,identify,page,screen,group,alias,batch} or /v1/{t,i,p,s,g,a,b}.` } });
    if (method === 'OPTIONS') return preflight(req);
    if (route.kind === 'settings') return method === 'GET' ? answer(req, settings(req, route.writeKey)) : answer(req, { status: 405, headers: { allow: 'GET' }, body: { error: 'method_not_allowed', message: 'Settings are read with GET.' } });
    if (method !== 'POST') return answer(req, { status: 405, headers: { allow: 'POST, OPTIONS' }, body: { error: 'method_not_allowed', message: 'Segment calls are sent with POST.' } });
    // analytics.js's own metrics: accepted and dropped, they are about the library, not the site.
    if (route.kind === 'metrics') return answer(req, { status: 200, body: { success: true } });
    return answer(req, await handlePost(req, route));
  };
}
