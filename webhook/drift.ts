import { createHash, timingSafeEqual } from 'node:crypto';
import type { WorkflowClient } from '@temporalio/client';
import { z } from 'zod';
import type { Logger } from '../config/logger';
import type { DriftTargets } from '../mappings/drift-records';
import type { EventIngest } from './amplitude-handler';
import { boundedRawBody, createIngestGuard, hasLoneSurrogate, isContentRefusal, type IngestGuard } from './ingest-guard';

export const DRIFT_WEBHOOK_CONTRACT =
  'POST {type, token, orgId, data} -> 200 after Temporal accepted it (signal-with-start per Drift entity) | 200 ignored type | 400 bad body, over the ingest limits or refused by Temporal for its content (dead-lettered once the token matched) | 401 wrong token | 503 not configured / Temporal down';

export interface DriftWebhookDeps {
  client: WorkflowClient;
  taskQueue: string;
  /** DRIFT_VERIFICATION_TOKEN: the Drift app's verification token. */
  verificationToken: string | undefined;
  log: Logger;
  /** Bounds on the body (nesting, size, properties), the same as the other push routes (default: DEFAULT_INGEST_LIMITS). */
  guard?: IngestGuard;
  /**
   * The Drift source's push ingest, which carries refused requests to ops.dead_letters (flow drift,
   * stream drift_webhook). Without it a refusal is answered 400 and only logged.
   */
  deadLetters?: EventIngest;
  now?: () => number;
}

export interface WebhookResponse {
  status: number;
  body: unknown;
}

const id = z.number().int();
/**
 * Text that ends up in a workflow id, which travels as a protobuf string: the server refuses ids over
 * 1,000 bytes and text that is not valid UTF-8 (a lone surrogate), so both are refused here with a 400.
 */
const idText = z
  .string()
  .min(1)
  .max(200)
  .refine((t) => !hasLoneSurrogate(t) && !/[\u0000-\u001f\u007f]/.test(t), 'expected printable text (no control characters or lone surrogates)');
const envelopeSchema = z.looseObject({ type: z.string().min(1).max(200), token: z.string().max(1_000), orgId: z.union([id, z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected a Drift org id (digits)')]), data: z.unknown() });

// Data shapes per type: only what routes the event. The rest is read from Drift by the sync itself.
const DATA = {
  new_message: z.looseObject({ conversationId: id }),
  new_conversation: z.looseObject({ id }),
  contact_identified: z.looseObject({ id }),
  contact_updated: z.looseObject({ endUserId: id }),
  new_meeting: z.looseObject({ eventId: idText, slotStart: id, schedulerId: id.optional() }),
  playbook_goal_met: z.looseObject({ conversationId: id, playbookId: id, goalId: idText, goalMessage: z.string().nullable().optional(), contactId: id.nullable().optional() }),
} as const;
type HandledType = keyof typeof DATA;

let sharedGuard: IngestGuard | undefined;
const defaultGuard = () => (sharedGuard ??= createIngestGuard());

const isHandled = (t: string): t is HandledType => Object.prototype.hasOwnProperty.call(DATA, t);

/** Compares digests, so neither the length nor the content of the expected token leaks through timing. */
export function tokensMatch(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Which workflow an event joins (one per Drift entity) and what it asks to read. */
export function routeDriftEvent(orgId: string, type: HandledType, data: unknown, receivedAt: number): { workflowId: string; targets: DriftTargets } {
  const wf = (kind: string, key: string | number) => `drift-webhook-${orgId}-${kind}-${key}`;
  switch (type) {
    case 'new_message': {
      const d = DATA.new_message.parse(data);
      return { workflowId: wf('conversation', d.conversationId), targets: { conversationIds: [d.conversationId] } };
    }
    case 'new_conversation': {
      const d = DATA.new_conversation.parse(data);
      return { workflowId: wf('conversation', d.id), targets: { conversationIds: [d.id] } };
    }
    case 'contact_identified': {
      const d = DATA.contact_identified.parse(data);
      return { workflowId: wf('contact', d.id), targets: { contactIds: [d.id] } };
    }
    case 'contact_updated': {
      const d = DATA.contact_updated.parse(data);
      return { workflowId: wf('contact', d.endUserId), targets: { contactIds: [d.endUserId] } };
    }
    case 'new_meeting': {
      const d = DATA.new_meeting.parse(data);
      return { workflowId: wf('meeting', d.eventId), targets: { meetings: [{ eventId: d.eventId, slotStart: d.slotStart }], contactIds: d.schedulerId === undefined ? [] : [d.schedulerId] } };
    }
    case 'playbook_goal_met': {
      const d = DATA.playbook_goal_met.parse(data);
      const goal = { id: `${d.conversationId}:${d.playbookId}:${d.goalId}`, conversationId: d.conversationId, playbookId: d.playbookId, goalId: d.goalId, goalMessage: d.goalMessage ?? null, contactId: d.contactId ?? null, receivedAt };
      // The conversation is read first, so the goal's event finds its visitor and inbox.
      return { workflowId: wf('conversation', d.conversationId), targets: { conversationIds: [d.conversationId], goals: [goal] } };
    }
  }
}

const REDACTED = '[verification token]';

/** What a dead letter keeps of a refused body: never the verification token, which travels in it. */
function letterPayload(body: unknown, raw: string | Buffer | undefined, travels: boolean, token: string): unknown {
  if (travels && body !== null && typeof body === 'object' && !Array.isArray(body)) return { ...body, token: REDACTED };
  if (raw === undefined) return 'body not kept: it cannot travel through Temporal as it is (see the reason)';
  // The token as it appears in JSON text; one spelled with \u escapes would survive, but only its own sender writes it so.
  return boundedRawBody(raw).split(JSON.stringify(token).slice(1, -1)).join(REDACTED);
}

/** The same refused body always gets the same key, so a redelivery adds no second dead letter. */
function letterKey(type: string, body: unknown, raw: string | Buffer | undefined, travels: boolean, reason: string): string {
  const text = raw ?? (travels ? JSON.stringify(body) : reason);
  return `${type.slice(0, 64)}:${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
}

/**
 * Drift's webhook, framework-agnostic: the HTTP server (or Azure Function) passes the parsed JSON body
 * (and the raw text, kept in a dead letter when the body cannot travel) and sends back `status` and
 * `body`. Acknowledges only what Temporal has durably accepted, so a failure here makes Drift deliver
 * again rather than lose the event.
 *
 * A 400 for the body's content is dead-lettered once the verification token matched: Drift sends its
 * token in the body, so before that check nothing says the request came from Drift, and recording
 * anyone's request would let anyone fill ops.dead_letters.
 */
export async function handleDriftWebhook(deps: DriftWebhookDeps, body: unknown, raw?: string | Buffer): Promise<WebhookResponse> {
  const expected = deps.verificationToken;
  if (!expected) {
    deps.log.error('Drift webhook called but DRIFT_VERIFICATION_TOKEN is not set');
    return { status: 503, body: { error: 'Drift webhooks are not configured on this server: set DRIFT_VERIFICATION_TOKEN to the verification token of the Drift app.' } };
  }
  /**
   * Answers 400 and records the request in ops.dead_letters. When the letter cannot be stored, the
   * refusal still stands, except for one Temporal refused (`strict`): that refusal may not have been
   * about the content after all, so 503 and Drift delivers again.
   */
  const refuse = async (type: string, response: WebhookResponse, reason: string, travels: boolean, strict = false): Promise<WebhookResponse> => {
    if (!deps.deadLetters) return response;
    const recordKey = letterKey(type, body, raw, travels, reason);
    try {
      await deps.deadLetters.submit({ events: [], rejected: [{ recordKey, problems: [{ path: '', message: reason }], payload: letterPayload(body, raw, travels, expected) }] }, { key: recordKey, bytes: Math.min(raw?.length ?? 1_024, 256 * 1024) });
    } catch (err) {
      deps.log.warn({ type, err: err instanceof Error ? err.message : String(err) }, 'a refused Drift webhook request could not be dead-lettered');
      if (strict) return { status: 503, body: { error: 'Could not hand the event to Temporal; Drift will deliver it again.' } };
      return response;
    }
    deps.log.warn({ type, recordKey }, 'Drift webhook request refused and dead-lettered');
    return { ...response, body: { ...(response.body as object), deadLettered: recordKey } };
  };
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) {
    const error = `Not a Drift webhook event (expected {type, token, orgId, data}): ${z.prettifyError(envelope.error)}`;
    const claimed = (body as { token?: unknown; type?: unknown } | null)?.token;
    if (typeof claimed !== 'string' || !tokensMatch(claimed, expected)) return { status: 400, body: { error } };
    const t = (body as { type?: unknown }).type;
    return refuse(typeof t === 'string' && t.length > 0 ? t : 'unknown', { status: 400, body: { error } }, error, (deps.guard ?? defaultGuard()).check(body, 0) === undefined);
  }
  const { type, token, orgId, data } = envelope.data;
  if (!tokensMatch(token, expected)) {
    deps.log.warn({ type, orgId }, 'Drift webhook with a wrong verification token refused');
    return { status: 401, body: { error: 'Wrong verification token: the token must be the Drift app verification token set in DRIFT_VERIFICATION_TOKEN.' } };
  }
  if (!isHandled(type)) return { status: 200, body: { ignored: type } };
  const over = (deps.guard ?? defaultGuard()).check(body, 0);
  if (over) {
    const error = `The Drift ${type} event is over the ingest limits${over.path ? ` at ${over.path}` : ''}: ${over.message}.`;
    return refuse(type, { status: 400, body: { error, limit: over.limit } }, error, false);
  }
  const parsed = DATA[type].safeParse(data);
  if (!parsed.success) {
    const error = `Drift ${type} event without the fields it needs: ${z.prettifyError(parsed.error)}`;
    return refuse(type, { status: 400, body: { error } }, error, true);
  }

  const { workflowId, targets } = routeDriftEvent(String(orgId), type, parsed.data, (deps.now ?? Date.now)());
  try {
    await deps.client.signalWithStart('driftWebhookWorkflow', {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [{}],
      signal: 'driftWebhookEvent',
      signalArgs: [targets],
    });
  } catch (err) {
    if (isContentRefusal(err)) {
      // Delivering the same body again would be refused again: a 400 ends Drift's retries.
      deps.log.warn({ type, workflowId, err: err instanceof Error ? err.message : String(err) }, 'Temporal refused a Drift webhook event for its content');
      const error = `Temporal cannot store this Drift ${type} event (${err instanceof Error ? err.message : String(err)}).`;
      return refuse(type, { status: 400, body: { error, limit: 'TEMPORAL_PAYLOAD' } }, error, false, true);
    }
    deps.log.error({ type, workflowId, err: err instanceof Error ? err.message : String(err) }, 'Temporal did not accept a Drift webhook event');
    return { status: 503, body: { error: 'Could not hand the event to Temporal; Drift will deliver it again.' } };
  }
  deps.log.info({ type, workflowId }, 'Drift webhook event accepted');
  return { status: 200, body: { accepted: true, workflowId } };
}
