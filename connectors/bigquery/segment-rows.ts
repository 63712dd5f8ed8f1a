import { z } from 'zod';
import type { PlainRow } from './api-rows';

/**
 * Rows of Segment's BigQuery warehouse tables as the connector hands them on. The columns Segment
 * writes for every message are typed; the flattened property, trait and context columns a source
 * adds over the years pass through untouched, so a new property never breaks a backfill.
 * Timestamps are canonical text (`YYYY-MM-DDTHH:MM:SS.ffffffZ`), other values plain JSON (api-rows.ts).
 */
export const SEGMENT_READ_TABLES = ['tracks', 'identifies', 'pages'] as const;
export type SegmentReadTable = (typeof SEGMENT_READ_TABLES)[number];

const timestamp = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/, 'expected a canonical UTC timestamp');
const optionalText = z.string().nullable().optional();

const common = {
  /** Segment's messageId: the deduplication key and, prefixed, Amplitude's insert_id. */
  id: z.string({ error: 'id is missing' }).min(1, 'id is empty'),
  anonymous_id: optionalText,
  user_id: optionalText,
  /** Event time: the time a backfill should use. */
  timestamp: z.string({ error: 'timestamp is missing' }).pipe(timestamp),
  received_at: timestamp.nullable().optional(),
  sent_at: timestamp.nullable().optional(),
  original_timestamp: timestamp.nullable().optional(),
  uuid_ts: timestamp.nullable().optional(),
  loaded_at: timestamp.nullable().optional(),
  context_library_name: optionalText,
  context_library_version: optionalText,
  context_ip: optionalText,
  context_locale: optionalText,
  context_user_agent: optionalText,
  context_page_path: optionalText,
  context_page_url: optionalText,
  context_page_title: optionalText,
  context_page_referrer: optionalText,
};

export const SegmentTrackRow = z.looseObject({
  ...common,
  /** A track without an event name cannot become an Amplitude event. */
  event: z.string({ error: 'event is null' }).min(1, 'event is empty'),
  event_text: optionalText,
});
export type SegmentTrackRow = z.infer<typeof SegmentTrackRow>;

export const SegmentIdentifyRow = z.looseObject({
  ...common,
  email: optionalText,
  name: optionalText,
});
export type SegmentIdentifyRow = z.infer<typeof SegmentIdentifyRow>;

export const SegmentPageRow = z.looseObject({
  ...common,
  name: optionalText,
  path: optionalText,
  url: optionalText,
  title: optionalText,
  referrer: optionalText,
  search: optionalText,
});
export type SegmentPageRow = z.infer<typeof SegmentPageRow>;

export type SegmentRow = SegmentTrackRow | SegmentIdentifyRow | SegmentPageRow;

export const SEGMENT_ROW_SCHEMAS = { tracks: SegmentTrackRow, identifies: SegmentIdentifyRow, pages: SegmentPageRow } as const;

export type RawSegmentRow = PlainRow;

export interface RejectedSegmentRow {
  /** The row as read (plain JSON), for the dead-letter table. */
  row: RawSegmentRow;
  reason: string;
}

export type ParsedSegmentRow = { ok: true; row: SegmentRow } | { ok: false; rejected: RejectedSegmentRow };

/**
 * The same checks on the typed columns alone. The schemas transform nothing, so a valid row is the
 * row as read; the loose schemas' catch-all copied every property column of every row (an eighth of
 * the backfill's garbage) only to hand back equal values.
 */
const TYPED_COLUMNS = {
  tracks: z.object(SegmentTrackRow.shape),
  identifies: z.object(SegmentIdentifyRow.shape),
  pages: z.object(SegmentPageRow.shape),
} as const;

export function parseSegmentRow(table: SegmentReadTable, row: RawSegmentRow): ParsedSegmentRow {
  const parsed = TYPED_COLUMNS[table].safeParse(row);
  if (parsed.success) return { ok: true, row: row as SegmentRow };
  const reason = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
  return { ok: false, rejected: { row, reason } };
}
