import { z } from 'zod';

/**
 * Drift records as the sync validates them (devdocs.drift.com models). Loose objects: bronze keeps
 * whatever Drift sent and Drift adds fields over time; only what silver and the events depend on is
 * required. Ids are 64-bit longs (JSON numbers below 2^53 in practice); timestamps are epoch ms.
 */

const id = z.number().int();
const epochMs = z.number().int();

export const conversationSchema = z.looseObject({
  id,
  contactId: id,
  status: z.string(),
  createdAt: epochMs,
  updatedAt: epochMs,
  inboxId: id.optional().nullable(),
  participants: z.array(id).optional(),
  relatedPlaybookId: id.optional().nullable(),
  conversationTags: z.array(z.looseObject({ name: z.string() })).optional(),
});
export type DriftConversationRecord = z.infer<typeof conversationSchema>;

export const messageSchema = z.looseObject({
  id,
  conversationId: id,
  createdAt: epochMs,
  type: z.string(),
  body: z.string().optional().nullable(),
  author: z.looseObject({ type: z.enum(['contact', 'user']), id: id, bot: z.boolean().optional() }),
  attributes: z.record(z.string(), z.unknown()).optional().nullable(),
});
export type DriftMessageRecord = z.infer<typeof messageSchema>;

export const contactSchema = z.looseObject({
  id,
  createdAt: epochMs,
  attributes: z.looseObject({
    email: z.string().optional().nullable(),
    name: z.string().optional().nullable(),
    externalId: z.string().optional().nullable(),
    last_active: epochMs.optional().nullable(),
  }),
});
export type DriftContactRecord = z.infer<typeof contactSchema>;

export const meetingSchema = z.looseObject({
  eventId: z.string().min(1),
  agentId: id,
  schedulerId: id,
  status: z.string(),
  slotStart: epochMs,
  slotEnd: epochMs.optional(),
  updatedAt: epochMs,
  scheduledAt: epochMs,
  meetingSource: z.string().optional().nullable(),
  meetingType: z.string().optional().nullable(),
  conversationId: id.optional().nullable(),
});
export type DriftMeetingRecord = z.infer<typeof meetingSchema>;


/**
 * A contact as the sync keeps it: Drift's contact plus `_observedAt`, when the reader fetched it.
 * Drift contacts carry no modification time, so a later read is the newer version.
 */
export const syncedContactSchema = contactSchema.extend({ _observedAt: epochMs });
export type SyncedContactRecord = z.infer<typeof syncedContactSchema>;

/**
 * A `playbook_goal_met` webhook event (its shape is undocumented: the fields the sandbox sends) plus
 * `receivedAt`, when our webhook accepted it. Drift has no REST endpoint for goals: webhooks are their
 * only source.
 */
export const playbookGoalSchema = z.looseObject({
  /** `<conversationId>:<playbookId>:<goalId>`: a goal is met once per conversation. */
  id: z.string().min(1),
  conversationId: id,
  playbookId: id,
  goalId: z.string().min(1),
  goalMessage: z.string().optional().nullable(),
  contactId: id.optional().nullable(),
  receivedAt: epochMs,
});
export type PlaybookGoalRecord = z.infer<typeof playbookGoalSchema>;

/** A playbook goal as a webhook hands it over (the goal record without validation leeway: it travels in workflow history). */
export const goalTargetSchema = z.object({
  id: z.string().min(1),
  conversationId: id,
  playbookId: id,
  goalId: z.string().min(1),
  goalMessage: z.string().nullable().optional(),
  contactId: id.nullable().optional(),
  receivedAt: epochMs,
});

/** What a webhook asks the sync to read now: the cursor of a targeted read (JSON, small). */
export const targetsSchema = z.object({
  conversationIds: z.array(id).optional(),
  contactIds: z.array(id).optional(),
  meetings: z.array(z.object({ eventId: z.string(), slotStart: epochMs })).optional(),
  goals: z.array(goalTargetSchema).optional(),
});
export type DriftTargets = z.infer<typeof targetsSchema>;
