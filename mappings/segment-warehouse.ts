import type { BronzeTableDef, ColumnDef, JsonValue, Row, SilverTableDef } from '../connectors/warehouse/types';
import { propertiesOf, type SegmentRecord, type SegmentTableName } from './segment';

/**
 * The warehouse copy of Segment's history: `bronze.segment_<table>` keeps every row as read
 * (rejected ones too), `silver.segment_<table>` one row per Segment id, merged on id, so a message
 * that BigQuery holds twice (or a page written twice) is one silver row.
 */

const common: ColumnDef[] = [
  { name: 'id', type: 'varchar', nullable: false },
  { name: 'timestamp', type: 'timestamp' },
  { name: 'user_id', type: 'varchar' },
  { name: 'anonymous_id', type: 'varchar' },
  { name: 'received_at', type: 'timestamp' },
  { name: 'loaded_at', type: 'timestamp' },
  /** Version for the merge: the latest load of an id wins (loaded_at, else uuid_ts, else timestamp). */
  { name: 'seen_at', type: 'timestamp' },
  { name: 'context', type: 'json' },
  { name: 'properties', type: 'json' },
];

const specific: Record<SegmentTableName, ColumnDef[]> = {
  tracks: [
    { name: 'event', type: 'varchar' },
    { name: 'event_text', type: 'varchar' },
  ],
  identifies: [
    { name: 'email', type: 'varchar' },
    { name: 'name', type: 'varchar' },
  ],
  pages: [
    { name: 'name', type: 'varchar' },
    { name: 'path', type: 'varchar' },
    { name: 'url', type: 'varchar' },
    { name: 'title', type: 'varchar' },
  ],
};

export function segmentBronzeDef(table: SegmentTableName): BronzeTableDef {
  return { name: `segment_${table}`, keyColumns: [{ name: 'id', type: 'varchar' }] };
}

export function segmentSilverDef(table: SegmentTableName): SilverTableDef {
  return { name: `segment_${table}`, columns: [...common, ...specific[table]], primaryKey: ['id'], versionColumn: 'seen_at' };
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : v === null || v === undefined ? null : String(v));

function contextOf(row: SegmentRecord): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const k in row) {
    const v = row[k];
    if (v !== null && v !== undefined && k.startsWith('context_')) out[k.slice('context_'.length)] = v as JsonValue;
  }
  return out;
}

export function segmentSilverRow(table: SegmentTableName, row: SegmentRecord): Row {
  const out: Row = {
    id: String(row.id),
    timestamp: text(row.timestamp),
    user_id: text(row.user_id),
    anonymous_id: text(row.anonymous_id),
    received_at: text(row.received_at),
    loaded_at: text(row.loaded_at),
    seen_at: text(row.loaded_at) ?? text(row.uuid_ts) ?? text(row.timestamp),
    context: contextOf(row),
    properties: propertiesOf(row) as Record<string, JsonValue>,
  };
  for (const c of specific[table]) out[c.name] = text(row[c.name]);
  return out;
}
