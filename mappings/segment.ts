import { parseIsoMicros } from '../connectors/bigquery/timestamp';
import type { AmplitudeEvent } from './amplitude-types';
import { AMPLITUDE_MAX_STRING, resolveUserId } from './identity';

/**
 * Segment warehouse rows (tracks, identifies, pages) to Amplitude events, for the historical
 * backfill. Segment's own columns (ids, the four timestamps, `context_*`, load bookkeeping) are
 * not properties; every other column is a flattened property (tracks, pages) or trait (identifies)
 * and is passed on as is, so a property added over the years needs no code change.
 * insert_id is `seg:<id>`: a retried or repeated send of the same message is one event in Amplitude.
 */

export type SegmentTableName = 'tracks' | 'identifies' | 'pages';
export type SegmentRecord = Record<string, unknown>;

export type SegmentMapResult = { ok: true; event: AmplitudeEvent } | { ok: false; reason: string };

const SEGMENT_COLUMNS = new Set(['id', 'anonymous_id', 'user_id', 'received_at', 'sent_at', 'timestamp', 'original_timestamp', 'uuid', 'uuid_ts', 'loaded_at', 'event', 'event_text']);

/** Segment bookkeeping and context columns: not properties of the event. */
export function isSegmentColumn(name: string): boolean {
  return SEGMENT_COLUMNS.has(name) || name.startsWith('context_');
}

/** The flattened property (or trait) columns of a row, nulls left out. */
export function propertiesOf(row: SegmentRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // for-in, not Object.entries: an array of pairs per row and call was a fifth of the backfill's garbage.
  for (const k in row) {
    const v = row[k];
    if (v !== null && v !== undefined && !isSegmentColumn(k)) out[k] = v;
  }
  return out;
}

export function segmentInsertId(id: string): string {
  return `seg:${id}`;
}

/** user_id from user_id, device_id from anonymous_id; a row with neither usable cannot be sent. */
function identity(row: SegmentRecord, minIdLength: number): { user_id?: string; device_id?: string } | { reason: string } {
  const reasons: string[] = [];
  const out: { user_id?: string; device_id?: string } = {};
  for (const [column, key] of [
    ['user_id', 'user_id'],
    ['anonymous_id', 'device_id'],
  ] as const) {
    const v = row[column];
    if (v === null || v === undefined || v === '') continue;
    const r = resolveUserId(v, { field: column, minIdLength });
    if (r.ok) out[key] = r.userId;
    else reasons.push(r.reason);
  }
  if (out.user_id === undefined && out.device_id === undefined)
    return { reason: reasons.length ? `no usable user_id or anonymous_id (${reasons.join('; ')})` : 'neither user_id nor anonymous_id: Amplitude needs one of them' };
  return out;
}

function eventTime(row: SegmentRecord): number | string {
  try {
    return Math.floor(parseIsoMicros(String(row.timestamp)) / 1000);
  } catch {
    return `timestamp ${JSON.stringify(row.timestamp)} is not a timestamp`;
  }
}

export function mapSegmentRow(table: SegmentTableName, row: SegmentRecord, opts: { minIdLength: number }): SegmentMapResult {
  const id = typeof row.id === 'string' ? row.id : '';
  if (!id) return { ok: false, reason: 'no id: cannot build an insert_id' };
  const who = identity(row, opts.minIdLength);
  if ('reason' in who) return { ok: false, reason: who.reason };
  const time = eventTime(row);
  if (typeof time === 'string') return { ok: false, reason: time };
  const base = { ...who, time, insert_id: segmentInsertId(id), ...(typeof row.context_ip === 'string' && row.context_ip ? { ip: row.context_ip } : {}) };

  if (table === 'identifies') {
    const traits = propertiesOf(row);
    if (Object.keys(traits).length === 0) return { ok: false, reason: 'identify without traits: nothing to set on the user' };
    return { ok: true, event: { event_type: '$identify', ...base, user_properties: { $set: traits } } };
  }

  let eventType: string;
  if (table === 'tracks') {
    if (typeof row.event !== 'string' || row.event === '') return { ok: false, reason: 'track without an event name' };
    eventType = row.event;
  } else {
    eventType = typeof row.name === 'string' && row.name.trim() !== '' ? `Viewed ${row.name.trim()}` : 'Page Viewed';
  }
  if (eventType.length > AMPLITUDE_MAX_STRING) return { ok: false, reason: `event type longer than Amplitude's ${AMPLITUDE_MAX_STRING}-character limit` };
  return { ok: true, event: { event_type: eventType, ...base, event_properties: propertiesOf(row) } };
}
