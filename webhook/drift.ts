import { createHash, timingSafeEqual } from 'node:crypto';
import type { WorkflowClient } from '@temporalio/client';
import { z } from 'zod';
import type { Logger } from '../config/logger';
import type { DriftTargets } from '../mappings/drift-records';
import { createIngestGuard, hasLoneSurrogate, isContentRefusal, type IngestGuard } from './ingest-guard';

export const DRIFT_WEBHOOK_CONTRACT =
  'POST {type, token, orgId, data} -> 200 after Temporal accepted it (signal-with-start per Drift entity) | 200 ignored type | 400 bad body, over the ingest limits or refused by Temporal for its content | 401 wrong token | 503 not configured / Temporal down';

export interface DriftWebhookDeps {
  client: WorkflowClient;
  taskQueue: string;
  /** DRIFT_VERIFICATION_TOKEN: the Drift app's verification token. */
  verificationToken: string | undefined;
  log: Logger;
  /** Bounds on the body (nesting, size, properties), the same as the other push routes (default: DEFAULT_INGEST_LIMITS). */
  guard?: IngestGuard;
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

/**
 * Drift's webhook, framework-agnostic: the HTTP server (or Azure Function) passes the parsed JSON body
 * and sends back `status` and `body`. Acknowledges only what Temporal has durably accepted, so a
 * failure here makes Drift deliver again rather than lose the event.
 */
export async function handleDriftWebhook(deps: DriftWebhookDeps, body: unknown): Promise<WebhookResponse> {
  if (!deps.verificationToken) {
    deps.log.error('Drift webhook called but DRIFT_VERIFICATION_TOKEN is not set');
    return { status: 503, body: { error: 'Drift webhooks are not configured on this server: set DRIFT_VERIFICATION_TOKEN to the verification token of the Drift app.' } };
  }
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) return { status: 400, body: { error: `Not a Drift webhook event (expected {type, token, orgId, data}): ${z.prettifyError(envelope.error)}` } };
  const { type, token, orgId, data } = envelope.data;
  if (!tokensMatch(token, deps.verificationToken)) {
    deps.log.warn({ type, orgId }, 'Drift webhook with a wrong verification token refused');
    return { status: 401, body: { error: 'Wrong verification token: the token must be the Drift app verification token set in DRIFT_VERIFICATION_TOKEN.' } };
  }
  if (!isHandled(type)) return { status: 200, body: { ignored: type } };
  const over = (deps.guard ?? defaultGuard()).check(body, 0);
  if (over) return { status: 400, body: { error: `The Drift ${type} event is over the ingest limits${over.path ? ` at ${over.path}` : ''}: ${over.message}.`, limit: over.limit } };
  const parsed = DATA[type].safeParse(data);
  if (!parsed.success) return { status: 400, body: { error: `Drift ${type} event without the fields it needs: ${z.prettifyError(parsed.error)}` } };

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
      return { status: 400, body: { error: `Temporal cannot store this Drift ${type} event (${err instanceof Error ? err.message : String(err)}).`, limit: 'TEMPORAL_PAYLOAD' } };
    }
    deps.log.error({ type, workflowId, err: err instanceof Error ? err.message : String(err) }, 'Temporal did not accept a Drift webhook event');
    return { status: 503, body: { error: 'Could not hand the event to Temporal; Drift will deliver it again.' } };
  }
  deps.log.info({ type, workflowId }, 'Drift webhook event accepted');
  return { status: 200, body: { accepted: true, workflowId } };
}
