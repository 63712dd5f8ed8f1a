import type { BronzeTableDef, ColumnDef, JsonValue, Row, SilverTableDef } from '../connectors/warehouse/types';
import type { EnrichedCall, SegmentCallType } from './segment-calls';
import { mapSegmentRow, segmentInsertId, type SegmentMapResult, type SegmentRecord, type SegmentTableName } from './segment';
import { segmentSilverDef, segmentSilverRow } from './segment-warehouse';
import { resolveUserId } from './identity';

/**
 * Live Segment calls (collected by our Segment-compatible endpoint) in the shape of Segment's own
 * warehouse rows: id, anonymous_id, user_id, the four timestamps, `context_*` flattened, properties
 * or traits as columns (snake_case, nested objects joined with `_`, arrays as JSON text), tracks'
 * `event` (the name as a column name) and `event_text` (the name as sent). That is what the backfill
 * reads from BigQuery, so its mapping to Amplitude (mappings/segment.ts) and its silver rows
 * (mappings/segment-warehouse.ts) serve live calls unchanged: history and live data line up.
 */

export const SEGMENT_LIVE_TABLES = ['tracks', 'identifies', 'pages', 'screens', 'groups', 'aliases'] as const;
export type SegmentLiveTable = (typeof SEGMENT_LIVE_TABLES)[number];

const TABLE_OF: Record<SegmentCallType, SegmentLiveTable> = { track: 'tracks', identify: 'identifies', page: 'pages', screen: 'screens', group: 'groups', alias: 'aliases' };

export function liveTableOf(type: SegmentCallType): SegmentLiveTable {
  return TABLE_OF[type];
}

/** Every collected call as made durable, keyed by messageId. */
export const segmentLiveBronze: BronzeTableDef = { name: 'segment_live_events', keyColumns: [{ name: 'message_id', type: 'varchar' }] };

const groupsAndAliases: ColumnDef[] = [
  { name: 'id', type: 'varchar', nullable: false },
  { name: 'timestamp', type: 'timestamp' },
  { name: 'user_id', type: 'varchar' },
  { name: 'anonymous_id', type: 'varchar' },
  { name: 'received_at', type: 'timestamp' },
];

/** The backfill table a live table shares its layout and Amplitude mapping with (screens: pages). */
const BACKFILL_TABLE: Partial<Record<SegmentLiveTable, SegmentTableName>> = { tracks: 'tracks', identifies: 'identifies', pages: 'pages', screens: 'pages' };

/** `silver.segment_live_<table>`: the backfill's `silver.segment_<table>` layout for tracks, identifies, pages and screens. */
export function segmentLiveSilverDef(table: SegmentLiveTable): SilverTableDef {
  const backfill = BACKFILL_TABLE[table];
  if (backfill) return { ...segmentSilverDef(backfill), name: `segment_live_${table}` };
  if (table === 'groups')
    return {
      name: 'segment_live_groups',
      columns: [...groupsAndAliases, { name: 'group_id', type: 'varchar' }, { name: 'traits', type: 'json' }, { name: 'context', type: 'json' }],
      primaryKey: ['id'],
      versionColumn: 'received_at',
    };
  return {
    name: 'segment_live_aliases',
    columns: [...groupsAndAliases, { name: 'previous_id', type: 'varchar' }, { name: 'context', type: 'json' }],
    primaryKey: ['id'],
    versionColumn: 'received_at',
  };
}

export const SEGMENT_LIVE_SILVER: readonly SilverTableDef[] = SEGMENT_LIVE_TABLES.map(segmentLiveSilverDef);

/**
 * A key as Segment's warehouses name its column: camelCase and spaces to snake_case, lower case,
 * anything else to `_` ("projectId" and "Project ID" are both `project_id`).
 */
export function columnName(key: string): string {
  return key
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Nested objects flattened with `_`, arrays as JSON text, as Segment's warehouse sync writes them. */
export function flattenColumns(value: Record<string, unknown>, prefix = '', out: SegmentRecord = {}): SegmentRecord {
  for (const [k, v] of Object.entries(value)) {
    const name = columnName(k);
    if (!name || v === undefined) continue;
    const column = prefix ? `${prefix}_${name}` : name;
    if (isPlainObject(v)) flattenColumns(v, column, out);
    else out[column] = Array.isArray(v) ? JSON.stringify(v) : v;
  }
  return out;
}

const RESERVED = new Set(['id', 'anonymous_id', 'user_id', 'received_at', 'sent_at', 'timestamp', 'original_timestamp', 'uuid', 'uuid_ts', 'loaded_at', 'event', 'event_text']);

/** Properties or traits as columns; one that would overwrite a column Segment writes itself is left to bronze. */
function addFields(row: SegmentRecord, fields: unknown): void {
  if (!isPlainObject(fields)) return;
  for (const [k, v] of Object.entries(flattenColumns(fields))) if (!RESERVED.has(k) && !k.startsWith('context_') && !(k in row)) row[k] = v;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** A track's `event` column: the event name as a column name ("Form Submitted" -> form_submitted). */
export function eventColumn(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

/** The warehouse row Segment's sync would write for this call, and the table it goes to. */
export function liveWarehouseRow(call: EnrichedCall): { table: SegmentLiveTable; row: SegmentRecord } {
  const table = liveTableOf(call.type);
  const row: SegmentRecord = {
    id: call.messageId,
    anonymous_id: text(call.anonymousId),
    user_id: text(call.userId),
    received_at: call.receivedAt,
    sent_at: text(call.sentAt),
    timestamp: call.timestamp,
    original_timestamp: text(call.originalTimestamp),
    // Segment's load bookkeeping: the time the row reached the warehouse, our receivedAt.
    uuid_ts: call.receivedAt,
    ...flattenColumns(call.context, 'context'),
  };
  switch (call.type) {
    case 'track':
      row.event = eventColumn(call.event);
      row.event_text = call.event;
      addFields(row, call.properties);
      break;
    case 'identify':
      addFields(row, call.traits);
      break;
    case 'page':
    case 'screen': {
      const props = isPlainObject(call.properties) ? call.properties : {};
      row.name = text(call.name) ?? text(props.name);
      if (text(call.category)) row.category = call.category;
      addFields(row, props);
      break;
    }
    case 'group':
      row.group_id = call.groupId;
      addFields(row, call.traits);
      break;
    case 'alias':
      row.previous_id = call.previousId;
      break;
  }
  return { table, row };
}

const json = (v: unknown): JsonValue => (isPlainObject(v) ? (v as Record<string, JsonValue>) : {});

/** The silver row of a live call: the backfill's segmentSilverRow for the four shared layouts. */
export function liveSilverRow(call: EnrichedCall): { table: SegmentLiveTable; row: Row } {
  const { table, row } = liveWarehouseRow(call);
  const backfill = BACKFILL_TABLE[table];
  if (backfill) return { table, row: segmentSilverRow(backfill, row) };
  const base: Row = { id: call.messageId, timestamp: call.timestamp, user_id: text(call.userId), anonymous_id: text(call.anonymousId), received_at: call.receivedAt };
  if (call.type === 'group') return { table, row: { ...base, group_id: call.groupId, traits: json(call.traits), context: json(call.context) } };
  return { table, row: { ...base, previous_id: call.type === 'alias' ? call.previousId : null, context: json(call.context) } };
}

export interface LiveAmplitudeOptions {
  minIdLength: number;
  /**
   * Amplitude group type a group call sets (e.g. `company`). Groups need Amplitude's Accounts
   * add-on: without a type configured, group calls are not sent and say so.
   */
  groupType?: string;
}

/**
 * The Amplitude event of a live call. Tracks, identifies, pages and screens go through the
 * backfill's mapping (page and screen -> `Viewed <name>`, identify -> user properties, insert_id
 * `seg:<messageId>`), so a call present in both history and the live stream is one event.
 * A group sets the user's group (Amplitude's Accounts add-on) with an `$identify` carrying `groups`,
 * as Segment's Amplitude destination does. An alias needs Amplitude's User Mapping API (Portfolio
 * add-on), which this platform does not call: it is refused with that reason, and kept in silver.
 */
export function liveAmplitudeEvent(call: EnrichedCall, opts: LiveAmplitudeOptions): SegmentMapResult {
  const { table, row } = liveWarehouseRow(call);
  const backfill = BACKFILL_TABLE[table];
  if (backfill) return mapSegmentRow(backfill, row, { minIdLength: opts.minIdLength });
  if (call.type === 'alias')
    return {
      ok: false,
      reason:
        "alias is not sent to Amplitude: merging previousId into userId needs Amplitude's User Mapping API (/usermap, Portfolio add-on), which is not configured; the alias is kept in silver.segment_live_aliases",
    };
  if (call.type !== 'group') return { ok: false, reason: `no Amplitude mapping for ${call.type} calls` };
  if (!opts.groupType)
    return {
      ok: false,
      reason:
        "group is not sent to Amplitude: groups need Amplitude's Accounts add-on; once it is enabled, set SEGMENT_AMPLITUDE_GROUP_TYPE to the group type to set (e.g. company). The call is kept in silver.segment_live_groups",
    };
  const who: { user_id?: string; device_id?: string } = {};
  const problems: string[] = [];
  for (const [value, field, key] of [
    [call.userId, 'userId', 'user_id'],
    [call.anonymousId, 'anonymousId', 'device_id'],
  ] as const) {
    if (!value) continue;
    const r = resolveUserId(value, { field, minIdLength: opts.minIdLength });
    if (r.ok) who[key] = r.userId;
    else problems.push(r.reason);
  }
  if (!who.user_id && !who.device_id) return { ok: false, reason: problems.length ? `no usable userId or anonymousId (${problems.join('; ')})` : 'neither userId nor anonymousId' };
  const ip = typeof call.context.ip === 'string' && call.context.ip ? { ip: call.context.ip } : {};
  return {
    ok: true,
    event: {
      event_type: '$identify',
      ...who,
      time: Date.parse(call.timestamp),
      insert_id: segmentInsertId(call.messageId),
      groups: { [opts.groupType]: call.groupId },
      user_properties: { $set: { [opts.groupType]: call.groupId } },
      ...ip,
    },
  };
}
