/**
 * The columns of Segment's BigQuery warehouse tables as the sandbox builds them: what Segment
 * writes for every message (ids, the four timestamps, flattened `context_*`, load bookkeeping) plus
 * the per-table columns (event names, flattened properties and traits).
 */
export const SEGMENT_TABLES = ['tracks', 'identifies', 'pages'] as const;
export type SegmentTable = (typeof SEGMENT_TABLES)[number];

export type SegmentColumnType = 'STRING' | 'TIMESTAMP' | 'INTEGER' | 'BOOLEAN';

export interface SegmentColumn {
  name: string;
  type: SegmentColumnType;
}

const col = (name: string, type: SegmentColumnType = 'STRING'): SegmentColumn => ({ name, type });

export const COMMON_COLUMNS: readonly SegmentColumn[] = [
  col('id'),
  col('anonymous_id'),
  col('user_id'),
  col('received_at', 'TIMESTAMP'),
  col('sent_at', 'TIMESTAMP'),
  col('timestamp', 'TIMESTAMP'),
  col('original_timestamp', 'TIMESTAMP'),
  col('context_library_name'),
  col('context_library_version'),
  col('context_ip'),
  col('context_locale'),
  col('context_timezone'),
  col('context_user_agent'),
  col('context_page_path'),
  col('context_page_url'),
  col('context_page_title'),
  col('context_page_referrer'),
  col('context_campaign_source'),
  col('context_campaign_medium'),
  col('context_campaign_name'),
  col('context_os_name'),
  col('context_device_type'),
  col('context_app_version'),
  col('uuid_ts', 'TIMESTAMP'),
  col('loaded_at', 'TIMESTAMP'),
];

const TABLE_COLUMNS: Record<SegmentTable, readonly SegmentColumn[]> = {
  tracks: [
    col('event'),
    col('event_text'),
    col('project_id'),
    col('form_type'),
    col('checklist_id'),
    col('defect_severity'),
    col('plan'),
    col('platform'),
    col('item_count', 'INTEGER'),
    col('offline', 'BOOLEAN'),
  ],
  identifies: [
    col('email'),
    col('name'),
    col('first_name'),
    col('last_name'),
    col('company'),
    col('title'),
    col('plan'),
    col('country'),
    col('created_at', 'TIMESTAMP'),
  ],
  pages: [col('name'), col('path'), col('url'), col('title'), col('referrer'), col('search'), col('category')],
};

export function segmentColumns(table: SegmentTable): SegmentColumn[] {
  return [...COMMON_COLUMNS, ...TABLE_COLUMNS[table]];
}
