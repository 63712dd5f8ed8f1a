import { z } from 'zod';
import { contactSchema } from '../../mappings/drift-records';

export { contactSchema };

/**
 * Drift's answers as the connector reads them. Loose objects: Drift adds fields over time, and bronze
 * keeps whatever came. Only what the sync depends on is required. Ids are 64-bit longs (JSON numbers
 * below 2^53 in practice); timestamps are epoch milliseconds.
 */

const id = z.number().int();
const epochMs = z.number().int();

export const conversationListItemSchema = z.looseObject({ id, updatedAt: epochMs, contactId: id.optional(), status: z.string().optional(), createdAt: epochMs.optional() });
export type ConversationListItem = z.infer<typeof conversationListItemSchema>;

/** Legacy answers carry `pagination {more, next}`; newer ones `links {self, next}` (a URL with page_token). */
export const conversationListSchema = z.looseObject({
  data: z.array(conversationListItemSchema),
  pagination: z.looseObject({ more: z.boolean().optional(), next: z.union([z.string(), z.number()]).optional().nullable() }).optional().nullable(),
  links: z.looseObject({ self: z.string().optional(), next: z.string().optional().nullable() }).optional().nullable(),
});

export const messagesPageSchema = z.looseObject({
  data: z.looseObject({ messages: z.array(z.unknown()) }),
  pagination: z.looseObject({ more: z.boolean().optional(), next: z.union([z.string(), z.number()]).optional().nullable() }).optional().nullable(),
});

export const userSchema = z.looseObject({ id, name: z.string().optional(), email: z.string().optional(), bot: z.boolean().optional() });
export type DriftUserRecord = z.infer<typeof userSchema>;

export const dataSchema = z.looseObject({ data: z.unknown() });
export const errorBodySchema = z.looseObject({ error: z.looseObject({ type: z.string().optional(), message: z.string().optional() }) });
