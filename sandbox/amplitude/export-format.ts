import type { IngestedEvent, JsonObject } from './types';

/**
 * Amplitude's export event JSON (amplitude.com/docs/apis/analytics/export), the default payload of event
 * streaming to a webhook. Times are UTC strings like `2022-02-28 20:07:01.795`; fields Amplitude has no value
 * for are null rather than absent, as in real exports.
 */

/** The app (project) id the sandbox project pretends to have. */
export const SANDBOX_APP_ID = 424242;

export function exportTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('T', ' ').replace('Z', '');
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const obj = (v: unknown): JsonObject => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : {});

export function toExportEvent(e: IngestedEvent, processedAtMs: number): JsonObject {
  const ev = e.event;
  return {
    uuid: e.uuid,
    $insert_id: e.insertId ?? null,
    event_type: e.eventType,
    user_id: e.userId ?? null,
    device_id: e.deviceId ?? null,
    amplitude_id: e.amplitudeId,
    session_id: num(ev.session_id) ?? -1,
    event_id: num(ev.event_id),
    event_time: exportTime(e.eventTime),
    client_event_time: e.clientEventTime !== undefined ? exportTime(e.clientEventTime) : exportTime(e.eventTime),
    client_upload_time: exportTime(e.clientUploadTime ?? e.serverReceivedTime),
    server_received_time: exportTime(e.serverReceivedTime),
    server_upload_time: exportTime(e.serverUploadTime),
    processed_time: exportTime(processedAtMs),
    event_properties: obj(ev.event_properties),
    user_properties: e.userPropertiesAfter,
    group_properties: obj(ev.group_properties),
    groups: obj(ev.groups),
    data: {},
    app: SANDBOX_APP_ID,
    library: str(ev.library) ?? (e.endpoint === 'batch' ? 'batch/1.0' : 'http/2.0'),
    platform: str(ev.platform),
    os_name: str(ev.os_name),
    os_version: str(ev.os_version),
    version_name: str(ev.app_version),
    device_type: str(ev.device_model),
    device_family: str(ev.device_brand),
    device_carrier: str(ev.carrier),
    language: str(ev.language),
    country: str(ev.country),
    region: str(ev.region),
    city: str(ev.city),
    dma: str(ev.dma),
    ip_address: str(ev.ip),
    location_lat: num(ev.location_lat),
    location_lng: num(ev.location_lng),
    paying: null,
    start_version: null,
    sample_rate: null,
    amplitude_attribution_ids: null,
  };
}
