import { z } from 'zod';
import { BigQueryInt, BigQueryTimestamp } from '@google-cloud/bigquery';
import { canonicalTimestamp } from './timestamp';

/**
 * Rows of Segment's BigQuery warehouse tables as the connector hands them on. The columns Segment
 * writes for every message are typed; the flattened property, trait and context columns a source
 * adds over the years pass through untouched, so a new property never breaks a backfill.
 * Timestamps are canonical text (`YYYY-MM-DDTHH:MM:SS.ffffffZ`), other values plain JSON.
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

export type SegmentValue = string | number | boolean | null | SegmentValue[] | { [k: string]: SegmentValue };
export type RawSegmentRow = Record<string, SegmentValue>;

/**
 * Turns what @google-cloud/bigquery returns into plain JSON: TIMESTAMPs to canonical text, DATE /
 * DATETIME / TIME / GEOGRAPHY wrappers to their text, NUMERIC (Big) to text, BYTES to base64.
 */
export function plainValue(v: unknown): SegmentValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof BigQueryTimestamp) return canonicalTimestamp(v.value);
  // Wrapped INT64 keeps digits a double would lose.
  if (v instanceof BigQueryInt) return String(v.value);
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (Array.isArray(v)) return v.map(plainValue);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'value' && typeof o.value === 'string') return o.value;
    // Big.js (NUMERIC / BIGNUMERIC) prints exactly.
    if (typeof (o as { toFixed?: unknown }).toFixed === 'function') return String(v);
    return Object.fromEntries(keys.map((k) => [k, plainValue(o[k])]));
  }
  return String(v);
}

export function plainRow(row: Record<string, unknown>): RawSegmentRow {
  const out: RawSegmentRow = {};
  for (const key of Object.keys(row)) out[key] = plainValue(row[key]);
  return out;
}

export interface RejectedSegmentRow {
  /** The row as read (plain JSON), for the dead-letter table. */
  row: RawSegmentRow;
  reason: string;
}

export type ParsedSegmentRow = { ok: true; row: SegmentRow } | { ok: false; rejected: RejectedSegmentRow };

export function parseSegmentRow(table: SegmentReadTable, row: RawSegmentRow): ParsedSegmentRow {
  const parsed = SEGMENT_ROW_SCHEMAS[table].safeParse(row);
  if (parsed.success) return { ok: true, row: parsed.data };
  const reason = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
  return { ok: false, rejected: { row, reason } };
}
