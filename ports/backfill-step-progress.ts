import { z } from 'zod';

/**
 * What a backfill step reports in its heartbeat after each acknowledged page: the step's starting
 * cursor, where it stands, and its counts so far. A retried attempt resumes from it, and the CLI's
 * status reads it to show the running step between two workflow updates.
 */
const keyset = z.object({ timestamp: z.string(), id: z.string() });
export const stepCursorSchema = z.object({ windowStart: z.string(), table: z.number().int().min(0), after: keyset.optional() });
export const stepCountsSchema = z.object({
  rowsRead: z.number(),
  sent: z.number(),
  written: z.number(),
  rejected: z.number(),
  pages: z.number(),
  activeMs: z.number(),
  bigqueryMs: z.number(),
  amplitudeMs: z.number(),
  warehouseMs: z.number(),
  pacedMs: z.number(),
});
export const stepProgressSchema = z.object({
  stepCursor: stepCursorSchema,
  cursor: stepCursorSchema.nullable(),
  counts: stepCountsSchema,
  perEventType: z.record(z.string(), z.number()),
  rejectedByReason: z.record(z.string(), z.number()),
  rejectedSamples: z.array(z.object({ table: z.string(), id: z.string(), reason: z.string() })),
});
export type StepProgress = z.infer<typeof stepProgressSchema>;

/** Heartbeat details arrive as an array of the values heartbeated; the step sends one. */
export function parseStepProgress(details: unknown): StepProgress | undefined {
  const parsed = stepProgressSchema.safeParse(Array.isArray(details) ? details[0] : details);
  return parsed.success ? parsed.data : undefined;
}
