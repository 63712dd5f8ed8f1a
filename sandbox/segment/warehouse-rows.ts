import { COMMON_COLUMNS, segmentColumns, type SegmentColumn, type SegmentColumnType } from '../seed/segment-columns';
import { canonicalTimestamp } from '../seed/segment-time';
import { snakecase } from './snakecase';
import { isJsonObject, type CallType, type Json, type JsonObject, type ReceivedCall } from './types';

/**
 * A received call as Segment's warehouse sync writes it (warehouse schema page): one row in the
 * table of its type (`tracks`, `identifies`, `pages`, `screens`, `groups`, `aliases`), and for a
 * track optionally one more in the table named after its event. Context, properties and traits
 * become columns: names snake_cased with go-snakecase, nested objects flattened with `_`, arrays
 * stringified, null values left out (a column is created only for a non-null value), and a
 * property whose name is a reserved column is discarded.
 *
 * Unlike Segment, whose `tracks` table holds only the common columns, the sandbox's `tracks` also
 * holds each event's properties: the sandbox's seeded history has them there, and the backfill reads
 * them there.
 */

export type WarehouseColumnType = SegmentColumnType | 'FLOAT';
export interface WarehouseColumn {
  name: string;
  type: WarehouseColumnType;
}
export type WarehouseCell = string | number | boolean;
export type WarehouseRow = Record<string, WarehouseCell>;

export interface TableRow {
  table: string;
  row: WarehouseRow;
}

export const TABLE_OF: Record<CallType, string> = {
  track: 'tracks',
  identify: 'identifies',
  page: 'pages',
  screen: 'screens',
  group: 'groups',
  alias: 'aliases',
};

/** The columns a table starts with: the seed's layout for its three tables, the common columns plus the type's own for the others. */
export function baseColumns(table: string): WarehouseColumn[] {
  if (table === 'tracks' || table === 'identifies' || table === 'pages') return segmentColumns(table);
  const own: Record<string, SegmentColumn[]> = {
    screens: [{ name: 'name', type: 'STRING' }],
    groups: [{ name: 'group_id', type: 'STRING' }],
    aliases: [{ name: 'previous_id', type: 'STRING' }],
  };
  const event: SegmentColumn[] = [
    { name: 'event', type: 'STRING' },
    { name: 'event_text', type: 'STRING' },
  ];
  return [...COMMON_COLUMNS, ...(own[table] ?? event)];
}

const RESERVED = new Set(['id', 'anonymous_id', 'user_id', 'received_at', 'sent_at', 'timestamp', 'original_timestamp', 'uuid', 'uuid_ts', 'loaded_at', 'event', 'event_text']);
const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

/** Column type inferred from a value, as Segment infers it from the data. */
export function inferType(value: WarehouseCell): WarehouseColumnType {
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (typeof value === 'number') return Number.isInteger(value) ? 'INTEGER' : 'FLOAT';
  return TIMESTAMP_TEXT.test(value) && !Number.isNaN(Date.parse(value)) ? 'TIMESTAMP' : 'STRING';
}

/** Flattens an object into `prefix_key_sub` columns; arrays are stringified, nulls dropped. */
export function flatten(value: JsonObject, prefix: string, out: WarehouseRow = {}): WarehouseRow {
  for (const [key, v] of Object.entries(value)) {
    const name = snakecase(key);
    if (name === '') continue;
    const column = prefix ? `${prefix}_${name}` : name;
    if (v === null || v === undefined) continue;
    if (isJsonObject(v)) flatten(v, column, out);
    else if (Array.isArray(v)) out[column] = JSON.stringify(v);
    else out[column] = v;
  }
  return out;
}

function time(v: Json | undefined): string | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const ms = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) return undefined;
  try {
    // The client's own text keeps its microseconds, when it has them.
    if (typeof v === 'string') return canonicalTimestamp(v);
  } catch {
    // A form Date.parse reads but the canonical parser does not: millisecond precision is all there is.
  }
  return canonicalTimestamp(new Date(ms).toISOString());
}

const text = (v: Json | undefined): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

function addCustom(row: WarehouseRow, custom: Json | undefined, reserved: ReadonlySet<string>): void {
  if (!isJsonObject(custom)) return;
  for (const [column, value] of Object.entries(flatten(custom, ''))) {
    if (RESERVED.has(column) || reserved.has(column) || column.startsWith('context_') || column in row) continue;
    row[column] = value;
  }
}

export function warehouseRows(call: ReceivedCall, loadedAt: Date, opts: { eventTables?: boolean } = {}): TableRow[] {
  const m = call.message;
  const loaded = canonicalTimestamp(loadedAt.toISOString());
  const row: WarehouseRow = { id: call.messageId };
  const set = (column: string, v: WarehouseCell | undefined) => {
    if (v !== undefined) row[column] = v;
  };
  set('anonymous_id', text(m.anonymousId));
  set('user_id', text(m.userId));
  set('received_at', time(call.receivedAt));
  set('sent_at', time(m.sentAt));
  set('timestamp', time(call.timestamp));
  set('original_timestamp', time(m.originalTimestamp));
  if (isJsonObject(m.context)) flatten(m.context, 'context', row);
  set('uuid_ts', loaded);
  set('loaded_at', loaded);

  const table = TABLE_OF[call.type];
  const out: TableRow[] = [];
  switch (call.type) {
    case 'track': {
      const event = String(m.event);
      set('event', snakecase(event));
      set('event_text', event);
      addCustom(row, m.properties, new Set());
      out.push({ table, row });
      const eventTable = snakecase(event);
      if (opts.eventTables && eventTable !== '' && !Object.values(TABLE_OF).includes(eventTable)) out.push({ table: eventTable, row: { ...row } });
      return out;
    }
    case 'identify':
      addCustom(row, m.traits, new Set());
      break;
    case 'page':
    case 'screen': {
      set('name', text(m.name));
      const properties = isJsonObject(m.properties) ? m.properties : {};
      set('category', text(m.category) ?? text(properties.category));
      addCustom(row, properties, new Set(['name', 'category']));
      break;
    }
    case 'group':
      set('group_id', text(m.groupId));
      addCustom(row, m.traits, new Set(['group_id']));
      break;
    case 'alias':
      set('previous_id', text(m.previousId));
      break;
  }
  out.push({ table, row });
  return out;
}
