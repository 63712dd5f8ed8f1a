import { z } from 'zod';
import type { FieldProblem } from './amplitude-export';

/**
 * Calls of Segment's HTTP Tracking API (track, identify, page, screen, group, alias), as
 * analytics.js, analytics-node and plain HTTP clients send them, and the rules Segment applies to
 * them (/work/shared/facts/segment-dual-tracking.md section 1): `type` required, a userId or an
 * anonymousId, a messageId under 100 characters, 32 KB per call, 500 KB and 2,500 calls per batch.
 * Unknown fields pass through untouched: a call is stored and forwarded as the client made it.
 */

export const SEGMENT_CALL_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type SegmentCallType = (typeof SEGMENT_CALL_TYPES)[number];

/** Segment's limits (HTTP Tracking API "Max request size"). */
export const SEGMENT_LIMITS = { callBytes: 32 * 1024, batchBytes: 500 * 1024, batchCalls: 2_500, messageIdChars: 100 } as const;

/** The letter analytics.js posts a call type to (`/v1/t`...): the first letter of the type. */
export const SHORT_ROUTE_TYPES: Record<string, SegmentCallType> = { t: 'track', i: 'identify', p: 'page', s: 'screen', g: 'group', a: 'alias' };

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
/** An ISO-8601 date-time; Segment's libraries send `2024-05-01T12:00:00.000Z`. */
const isoDateTime = z
  .string({ error: 'expected an ISO-8601 date-time such as 2024-05-01T12:00:00.000Z' })
  .refine((v) => ISO_DATE_TIME.test(v.trim()) && !Number.isNaN(Date.parse(v)), 'expected an ISO-8601 date-time such as 2024-05-01T12:00:00.000Z');
/** Segment accepts numeric ids and stores them as text. */
const id = z.union([z.string(), z.number().finite()]).transform((v) => String(v));
const optionalId = id.nullish();
const object = z.record(z.string(), z.unknown());

const common = {
  messageId: z
    .string({ error: 'messageId must be a string' })
    .min(1, 'messageId is empty')
    .max(SEGMENT_LIMITS.messageIdChars - 1, `messageId must be fewer than ${SEGMENT_LIMITS.messageIdChars} characters`)
    .optional(),
  userId: optionalId,
  anonymousId: optionalId,
  timestamp: isoDateTime.nullish(),
  originalTimestamp: isoDateTime.nullish(),
  sentAt: isoDateTime.nullish(),
  context: object.nullish(),
  integrations: object.nullish(),
};

const track = z.looseObject({ ...common, type: z.literal('track'), event: z.string({ error: 'a track call needs "event", the name of the action' }).trim().min(1, 'event is empty'), properties: object.nullish() });
const identify = z.looseObject({ ...common, type: z.literal('identify'), traits: object.nullish() });
const page = z.looseObject({ ...common, type: z.literal('page'), name: z.string().nullish(), category: z.string().nullish(), properties: object.nullish() });
const screen = z.looseObject({ ...common, type: z.literal('screen'), name: z.string().nullish(), category: z.string().nullish(), properties: object.nullish() });
const group = z.looseObject({ ...common, type: z.literal('group'), groupId: id.refine((v) => v !== '', 'groupId is empty'), traits: object.nullish() });
const alias = z.looseObject({ ...common, type: z.literal('alias'), previousId: id.refine((v) => v !== '', 'previousId is empty'), userId: id.refine((v) => v !== '', 'userId is empty') });

export const segmentCallSchema = z
  .discriminatedUnion('type', [track, identify, page, screen, group, alias], {
    error: (issue) =>
      issue.code === 'invalid_union' ? `"type" must be one of ${SEGMENT_CALL_TYPES.join(', ')}` : undefined,
  })
  .superRefine((call, ctx) => {
    const has = (v: string | null | undefined) => typeof v === 'string' && v !== '';
    if (!has(call.userId) && !has(call.anonymousId))
      ctx.addIssue({ code: 'custom', path: ['userId'], message: 'a call needs a userId or an anonymousId (Segment answers no_user_anon_id)' });
  });
export type SegmentCall = z.infer<typeof segmentCallSchema>;

/** A batch body (`/v1/batch`, `/v1/b`): the batch-level fields apply to every call in it. */
export const segmentBatchSchema = z.looseObject({
  batch: z.array(z.unknown(), { error: '"batch" must be an array of calls' }),
  writeKey: z.string().optional(),
  sentAt: z.unknown().optional(),
  context: z.unknown().optional(),
  integrations: z.unknown().optional(),
});

/**
 * A call as made durable (checked by checkEnrichedCall): what bronze keeps, the flush maps and the
 * destinations receive. Segment's enrichment is applied: `messageId` always set, `receivedAt`,
 * skew-corrected `timestamp` (the client's time kept as `originalTimestamp`), `sentAt` from the call or its batch, batch-level
 * `context`/`integrations` merged in, `context.ip` from the request when absent, no `writeKey`.
 */
const enrichedFields = z.looseObject({ messageId: z.string().min(1), receivedAt: isoDateTime, timestamp: isoDateTime, context: object });
export type EnrichedCall = SegmentCall & { messageId: string; receivedAt: string; timestamp: string; context: Record<string, unknown> };

export type CallCheck = { ok: true; call: SegmentCall } | { ok: false; problems: FieldProblem[] };

function problemsOf(error: z.ZodError): FieldProblem[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

export function checkSegmentCall(raw: unknown): CallCheck {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, problems: [{ path: '', message: 'a call must be a JSON object' }] };
  if (!('type' in raw) || raw.type === undefined || raw.type === null)
    return { ok: false, problems: [{ path: 'type', message: `"type" is required: one of ${SEGMENT_CALL_TYPES.join(', ')}` }] };
  const parsed = segmentCallSchema.safeParse(raw);
  return parsed.success ? { ok: true, call: parsed.data } : { ok: false, problems: problemsOf(parsed.error) };
}

export type EnrichedCheck = { ok: true; call: EnrichedCall } | { ok: false; problems: FieldProblem[] };

/**
 * The flush checks what crossed Temporal again rather than trust the other side: a call, plus the
 * fields enrichment sets. Two plain parses rather than a zod intersection, which costs several times
 * more on the worker's hot path.
 */
export function checkEnrichedCall(raw: unknown): EnrichedCheck {
  const call = checkSegmentCall(raw);
  if (!call.ok) return call;
  const extra = enrichedFields.safeParse(raw);
  if (!extra.success) return { ok: false, problems: problemsOf(extra.error) };
  const { messageId, receivedAt, timestamp, context } = extra.data;
  return { ok: true, call: { ...call.call, messageId, receivedAt, timestamp, context } as EnrichedCall };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Batch-level values under the call's own (the call wins, nested objects merged key by key). */
export function mergeUnder(base: unknown, own: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(base)) return isPlainObject(own) ? own : undefined;
  if (!isPlainObject(own)) return { ...base };
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(own)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeUnder(out[k], v) : v;
  return out;
}

/**
 * Segment's clock-skew correction: `timestamp = receivedAt - (sentAt - originalTimestamp)`. Without
 * a sentAt the client's time is taken as is; without a client time, the time received.
 */
export function correctedTimestamp(opts: { receivedAt: number; original?: string | null; sentAt?: string | null }): string {
  const original = opts.original ? Date.parse(opts.original) : NaN;
  if (Number.isNaN(original)) return new Date(opts.receivedAt).toISOString();
  const sent = opts.sentAt ? Date.parse(opts.sentAt) : NaN;
  if (Number.isNaN(sent)) return new Date(original).toISOString();
  return new Date(opts.receivedAt - (sent - original)).toISOString();
}

export interface EnrichOptions {
  receivedAt: number;
  /** Batch-level fields of a `/v1/batch` body. */
  batch?: { sentAt?: unknown; context?: unknown; integrations?: unknown };
  /** The client's address, for `context.ip` when the call has none. */
  ip?: string;
  /** messageId for a call that has none (plain HTTP clients may leave it out). */
  newMessageId: () => string;
}

/** The stored form of a valid call (see EnrichedCall). */
export function enrichCall(raw: Record<string, unknown>, call: SegmentCall, opts: EnrichOptions): EnrichedCall {
  const batchSentAt = typeof opts.batch?.sentAt === 'string' && !Number.isNaN(Date.parse(opts.batch.sentAt)) ? opts.batch.sentAt : undefined;
  const sentAt = call.sentAt ?? batchSentAt;
  const original = call.timestamp ?? call.originalTimestamp ?? undefined;
  const context = mergeUnder(opts.batch?.context, raw.context) ?? {};
  if ((context.ip === undefined || context.ip === null || context.ip === '') && opts.ip) context.ip = opts.ip;
  const integrations = mergeUnder(opts.batch?.integrations, raw.integrations);
  // The raw object keeps the fields the schema does not know (properties of any shape, _metadata...).
  const { writeKey: _writeKey, ...rest } = raw;
  const out: Record<string, unknown> = {
    ...rest,
    // Ids as text: Segment accepts numbers and stores them as strings.
    ...(call.userId !== undefined && call.userId !== null ? { userId: call.userId } : {}),
    ...(call.anonymousId !== undefined && call.anonymousId !== null ? { anonymousId: call.anonymousId } : {}),
    ...(call.type === 'group' ? { groupId: call.groupId } : {}),
    ...(call.type === 'alias' ? { previousId: call.previousId } : {}),
    type: call.type,
    messageId: call.messageId ?? opts.newMessageId(),
    receivedAt: new Date(opts.receivedAt).toISOString(),
    timestamp: correctedTimestamp({ receivedAt: opts.receivedAt, original, sentAt }),
    context,
  };
  if (original) out.originalTimestamp = original;
  if (sentAt) out.sentAt = sentAt;
  if (integrations) out.integrations = integrations;
  return out as EnrichedCall;
}
