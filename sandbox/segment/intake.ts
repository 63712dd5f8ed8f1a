import crypto from 'node:crypto';
import { CALL_TYPES, isJsonObject, type CallType, type Json, type JsonObject, type Route } from './types';

/**
 * What Segment's Tracking API does with one request before anything is stored: size limits, JSON,
 * the write key, then per call the checks that are answered 200 anyway (the call is dropped, as
 * Segment drops it), and the enrichment Segment applies (messageId, receivedAt, skew-corrected
 * timestamp, batch context, IP). Pure: the clock and the request are inputs.
 */

/** Documented limits (HTTP API page, "Max request size" and "Errors"). */
export const SEGMENT_LIMITS = {
  /** A single call (and each call of a batch): 32 KB. */
  callBytes: 32 * 1024,
  /** A batch request: 500 KB. */
  batchBytes: 500 * 1024,
  /** Calls per batch; above it the request is answered 200 and its calls rejected. */
  batchCalls: 2_500,
  /** messageId must be fewer than 100 characters. */
  messageIdChars: 100,
} as const;

const SHORT_ROUTES: Record<string, CallType | 'batch'> = { t: 'track', i: 'identify', p: 'page', s: 'screen', g: 'group', a: 'alias', b: 'batch' };

export function routeKind(route: Route): CallType | 'batch' {
  return SHORT_ROUTES[route] ?? (route as CallType | 'batch');
}

export interface IntakeRequest {
  route: Route;
  body: Buffer;
  /** The Authorization header, if any. */
  authorization?: string;
  /** The client's address, for context.ip. */
  ip: string;
  now: Date;
}

export interface EnrichedCall {
  index: number;
  messageId: string;
  type: CallType;
  receivedAt: string;
  timestamp: string;
  message: JsonObject;
}

export interface CallRejection {
  index: number;
  messageId?: string;
  type?: string;
  reason: string;
}

export type IntakeResult =
  | { status: 400; message: string }
  | { status: 200; writeKey: string; knownKey: boolean; calls: EnrichedCall[]; rejected: CallRejection[] };

/** The write key from `Authorization: Basic base64(writeKey:)`; a Bearer token carries none. */
export function writeKeyFromAuthorization(header: string | undefined): string | undefined {
  const m = /^Basic\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  // The docs ask for "key:"; a key encoded without the colon is still accepted ("backward compatibility").
  const colon = decoded.indexOf(':');
  const key = colon >= 0 ? decoded.slice(0, colon) : decoded;
  return key === '' ? undefined : key;
}

export function intake(req: IntakeRequest, writeKeys: ReadonlySet<string>): IntakeResult {
  const kind = routeKind(req.route);
  const limit = kind === 'batch' ? SEGMENT_LIMITS.batchBytes : SEGMENT_LIMITS.callBytes;
  if (req.body.length > limit) return { status: 400, message: `Payload is too large: ${req.body.length} bytes, the limit is ${limit / 1024} KB` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString('utf8'));
  } catch {
    return { status: 400, message: 'Invalid JSON' };
  }
  if (!isJsonObject(parsed)) return { status: 400, message: 'Invalid JSON: the body must be a JSON object' };
  const body = parsed;

  const writeKey = writeKeyFromAuthorization(req.authorization) ?? (typeof body.writeKey === 'string' && body.writeKey !== '' ? body.writeKey : undefined);
  if (writeKey === undefined) return { status: 400, message: 'Missing write key: send it as HTTP Basic user name or as writeKey in the body' };

  let items: Json[];
  if (kind === 'batch') {
    if (!Array.isArray(body.batch)) return { status: 400, message: 'Invalid JSON: batch must be an array of calls' };
    items = body.batch;
    for (let i = 0; i < items.length; i++) {
      const bytes = Buffer.byteLength(JSON.stringify(items[i]));
      if (bytes > SEGMENT_LIMITS.callBytes) return { status: 400, message: `Payload is too large: call ${i} of the batch is ${bytes} bytes, the limit is 32 KB` };
    }
  } else items = [body];

  const ok = { status: 200 as const, writeKey, knownKey: writeKeys.has(writeKey) };
  if (items.length > SEGMENT_LIMITS.batchCalls) {
    const reason = `batch of ${items.length} calls: at most ${SEGMENT_LIMITS.batchCalls} per batch`;
    return { ...ok, calls: [], rejected: items.map((item, index) => ({ index, ...idsOf(item), reason })) };
  }
  const receivedAt = req.now.toISOString();
  const batchContext = kind === 'batch' && isJsonObject(body.context) ? body.context : undefined;
  const batchIntegrations = kind === 'batch' && isJsonObject(body.integrations) ? body.integrations : undefined;
  const batchSentAt = kind === 'batch' ? body.sentAt : undefined;

  const calls: EnrichedCall[] = [];
  const rejected: CallRejection[] = [];
  items.forEach((item, index) => {
    const r = enrich(item, { kind, receivedAt, now: req.now, ip: req.ip, batchContext, batchIntegrations, batchSentAt });
    if ('reason' in r) rejected.push({ index, ...idsOf(item), reason: r.reason });
    else calls.push({ index, ...r });
  });
  return { ...ok, calls, rejected };
}

function idsOf(item: Json): { messageId?: string; type?: string } {
  if (!isJsonObject(item)) return {};
  return { messageId: typeof item.messageId === 'string' ? item.messageId : undefined, type: typeof item.type === 'string' ? item.type : undefined };
}

interface EnrichContext {
  kind: CallType | 'batch';
  receivedAt: string;
  now: Date;
  ip: string;
  batchContext?: JsonObject;
  batchIntegrations?: JsonObject;
  batchSentAt?: Json;
}

const present = (v: Json | undefined) => v !== undefined && v !== null && v !== '';
const isCallType = (v: Json | undefined): v is CallType => typeof v === 'string' && (CALL_TYPES as readonly string[]).includes(v);

/** A valid instant from a client value, else undefined (Segment then uses its own clock). */
function instant(v: Json | undefined): number | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const ms = typeof v === 'number' ? v : Date.parse(v);
  return Number.isFinite(ms) ? ms : undefined;
}

function enrich(item: Json, c: EnrichContext): Omit<EnrichedCall, 'index'> | { reason: string } {
  if (!isJsonObject(item)) return { reason: 'each call must be a JSON object' };
  // A batch item names its own type; a single call's route names it, and analytics.js's one-letter routes agree with the body.
  const type: Json | undefined = c.kind === 'batch' ? item.type : isCallType(item.type) ? item.type : c.kind;
  if (!isCallType(type)) return { reason: `each call must have a type with a valid method name (${CALL_TYPES.join(', ')}), got ${JSON.stringify(item.type ?? null)}` };
  if (!present(item.userId) && !present(item.anonymousId)) return { reason: 'no_user_anon_id: a userId or an anonymousId is required' };
  if (type === 'track' && (typeof item.event !== 'string' || item.event === '')) return { reason: 'track call without an event name' };
  if (type === 'group' && !present(item.groupId)) return { reason: 'group call without a groupId' };
  if (type === 'alias' && !present(item.previousId)) return { reason: 'alias call without a previousId' };
  if (item.messageId !== undefined && item.messageId !== null && typeof item.messageId !== 'string') return { reason: 'messageId must be a string' };
  const messageId = typeof item.messageId === 'string' && item.messageId !== '' ? item.messageId : `api-${crypto.randomUUID()}`;
  if (messageId.length >= SEGMENT_LIMITS.messageIdChars) return { reason: `messageId must have fewer than ${SEGMENT_LIMITS.messageIdChars} characters, got ${messageId.length}` };

  const received = c.now.getTime();
  const original = instant(item.timestamp);
  const sent = instant(item.sentAt ?? c.batchSentAt);
  const timestamp = original === undefined ? received : sent === undefined ? original : received - (sent - original);

  const { writeKey: _writeKey, ...rest } = item;
  const message: JsonObject = { ...rest, type, messageId };
  if (c.batchContext || isJsonObject(item.context)) message.context = deepMerge(c.batchContext ?? {}, isJsonObject(item.context) ? item.context : {});
  if (c.batchIntegrations || isJsonObject(item.integrations)) message.integrations = deepMerge(c.batchIntegrations ?? {}, isJsonObject(item.integrations) ? item.integrations : {});
  if (item.sentAt === undefined && c.batchSentAt !== undefined) message.sentAt = c.batchSentAt;
  if (original !== undefined) message.originalTimestamp = item.timestamp ?? null;
  const timestampIso = new Date(timestamp).toISOString();
  message.timestamp = timestampIso;
  message.receivedAt = c.receivedAt;
  fillIp(message, c.ip);
  return { messageId, type, receivedAt: c.receivedAt, timestamp: timestampIso, message };
}

/**
 * Segment records the sender's IP for calls from a user's device: `context.direct: true` (HTTP API
 * page, "Collecting IP Address"), and analytics.js calls. Server libraries' calls keep what they sent.
 */
function fillIp(message: JsonObject, ip: string): void {
  const context = isJsonObject(message.context) ? message.context : undefined;
  if (context && present(context.ip)) return;
  const library = context && isJsonObject(context.library) ? context.library.name : undefined;
  if (context?.direct === true || library === 'analytics.js') message.context = { ...(context ?? {}), ip };
}

/** Batch-level context/integrations "merged with" each call's: the call's own values win, nested objects merge. */
export function deepMerge(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isJsonObject(b) && isJsonObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}
