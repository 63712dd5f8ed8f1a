import { z } from 'zod';
import type { BronzeRecord, BronzeTableDef, Row, SilverTableDef } from '../connectors/warehouse/types';

/**
 * Amplitude's export event JSON, as event streaming POSTs it to a webhook (API-FACTS.md, "Amplitude"),
 * and its rows in bronze/silver `amplitude_events`. Pure: no Temporal, no I/O.
 */

/** Export times are UTC without a zone, e.g. `2022-02-28 20:07:01.795`; ISO text with `Z` is accepted too. */
const TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z?$/;
const time = z
  .string()
  .regex(TIME, 'expected a UTC time like "2022-02-28 20:07:01.795"')
  .refine((t) => !TIME.test(t) || !Number.isNaN(exportTimeToDate(t).getTime()), 'not a real date and time');
const optTime = time.nullish();
const text = z.string().nullish();
const props = z.record(z.string(), z.unknown()).nullish();
const int = z.number().int().nullish();

/**
 * One event. Unknown fields are kept (looseObject): Amplitude adds fields over time and a FreeMarker
 * template may add more, and bronze stores the event exactly as received.
 */
export const amplitudeExportEventSchema = z
  .looseObject({
    uuid: z.string().trim().min(1, 'uuid is required: it identifies the event for deduplication').max(128),
    $insert_id: z.string().min(1).max(1024).nullish(),
    event_type: z.string().min(1, 'event_type must not be empty').max(1024),
    user_id: text,
    device_id: text,
    amplitude_id: int,
    session_id: int,
    event_id: int,
    event_time: time,
    client_event_time: optTime,
    client_upload_time: optTime,
    server_received_time: optTime,
    server_upload_time: optTime,
    processed_time: optTime,
    event_properties: props,
    user_properties: props,
    group_properties: props,
    groups: props,
    data: props,
    app: int,
    library: text,
    platform: text,
    os_name: text,
    os_version: text,
    version_name: text,
    device_type: text,
    device_family: text,
    language: text,
    country: text,
    region: text,
    city: text,
    dma: text,
    ip_address: text,
    location_lat: z.number().nullish(),
    location_lng: z.number().nullish(),
  })
  .refine((e) => !!e.user_id || !!e.device_id || (e.amplitude_id !== null && e.amplitude_id !== undefined), {
    message: 'an event needs a user_id, a device_id or an amplitude_id',
    path: ['user_id'],
  });

export type AmplitudeExportEvent = z.infer<typeof amplitudeExportEventSchema>;

export interface FieldProblem {
  /** Dotted path inside the event, e.g. `event_time` or `event_properties.amount`. */
  path: string;
  message: string;
}

export type EventCheck = { ok: true; event: AmplitudeExportEvent } | { ok: false; problems: FieldProblem[] };

export function checkExportEvent(value: unknown): EventCheck {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, problems: [{ path: '', message: `expected an event object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}` }] };
  const parsed = amplitudeExportEventSchema.safeParse(value);
  if (parsed.success) return { ok: true, event: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) };
}

export const AMPLITUDE_EVENTS_TABLE = 'amplitude_events';

export const amplitudeEventsBronze: BronzeTableDef = {
  name: AMPLITUDE_EVENTS_TABLE,
  keyColumns: [
    { name: 'uuid', type: 'varchar' },
    { name: 'insert_id', type: 'varchar' },
    { name: 'event_type', type: 'varchar' },
  ],
};

/**
 * Keyed on `event_key`: the insert_id when the event has one, else its uuid. A replay (same uuid) and a
 * resend Amplitude's 7-day insert_id window no longer caught (same insert_id) both land on one row.
 */
export const amplitudeEventsSilver: SilverTableDef = {
  name: AMPLITUDE_EVENTS_TABLE,
  primaryKey: ['event_key'],
  versionColumn: 'version_time',
  columns: [
    { name: 'event_key', type: 'varchar' },
    { name: 'uuid', type: 'varchar', nullable: false },
    { name: 'insert_id', type: 'varchar' },
    { name: 'event_type', type: 'varchar', nullable: false },
    { name: 'user_id', type: 'varchar' },
    { name: 'device_id', type: 'varchar' },
    { name: 'amplitude_id', type: 'bigint' },
    { name: 'session_id', type: 'bigint' },
    { name: 'event_id', type: 'bigint' },
    { name: 'event_time', type: 'timestamp', nullable: false },
    { name: 'client_event_time', type: 'timestamp' },
    { name: 'client_upload_time', type: 'timestamp' },
    { name: 'server_received_time', type: 'timestamp' },
    { name: 'server_upload_time', type: 'timestamp' },
    { name: 'processed_time', type: 'timestamp' },
    { name: 'version_time', type: 'timestamp', nullable: false },
    { name: 'event_properties', type: 'json' },
    { name: 'user_properties', type: 'json' },
    { name: 'group_properties', type: 'json' },
    { name: 'groups', type: 'json' },
    { name: 'app', type: 'bigint' },
    { name: 'platform', type: 'varchar' },
    { name: 'os_name', type: 'varchar' },
    { name: 'os_version', type: 'varchar' },
    { name: 'version_name', type: 'varchar' },
    { name: 'device_type', type: 'varchar' },
    { name: 'language', type: 'varchar' },
    { name: 'country', type: 'varchar' },
    { name: 'region', type: 'varchar' },
    { name: 'city', type: 'varchar' },
  ],
};

export function eventKey(e: Pick<AmplitudeExportEvent, 'uuid' | '$insert_id'>): string {
  return e.$insert_id ? `ins:${e.$insert_id}` : `uuid:${e.uuid}`;
}

/** Export times carry no zone and are UTC. */
export function exportTimeToDate(t: string): Date {
  return new Date(t.endsWith('Z') ? t.replace(' ', 'T') : `${t.replace(' ', 'T')}Z`);
}

const ts = (t: string | null | undefined): Date | null => (t ? exportTimeToDate(t) : null);
const json = (v: Record<string, unknown> | null | undefined) => (v ?? null) as Row[string];

export function toBronzeRecord(e: AmplitudeExportEvent): BronzeRecord {
  return { keys: { uuid: e.uuid, insert_id: e.$insert_id ?? null, event_type: e.event_type }, payload: e };
}

export function toSilverRow(e: AmplitudeExportEvent): Row {
  const eventTime = exportTimeToDate(e.event_time);
  return {
    event_key: eventKey(e),
    uuid: e.uuid,
    insert_id: e.$insert_id ?? null,
    event_type: e.event_type,
    user_id: e.user_id ?? null,
    device_id: e.device_id ?? null,
    amplitude_id: e.amplitude_id ?? null,
    session_id: e.session_id ?? null,
    event_id: e.event_id ?? null,
    event_time: eventTime,
    client_event_time: ts(e.client_event_time),
    client_upload_time: ts(e.client_upload_time),
    server_received_time: ts(e.server_received_time),
    server_upload_time: ts(e.server_upload_time),
    processed_time: ts(e.processed_time),
    // A replay carries the same upload time, so the merge sees it as "not newer" and keeps the stored row.
    version_time: ts(e.server_upload_time) ?? eventTime,
    event_properties: json(e.event_properties),
    user_properties: json(e.user_properties),
    group_properties: json(e.group_properties),
    groups: json(e.groups),
    app: e.app ?? null,
    platform: e.platform ?? null,
    os_name: e.os_name ?? null,
    os_version: e.os_version ?? null,
    version_name: e.version_name ?? null,
    device_type: e.device_type ?? null,
    language: e.language ?? null,
    country: e.country ?? null,
    region: e.region ?? null,
    city: e.city ?? null,
  };
}
