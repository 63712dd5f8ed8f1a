import type { AmplitudeEvent, InvalidRequestAnswer, JsonObject, PayloadTooLargeAnswer } from './types';

/**
 * Request and event validation of HTTP V2 and Batch, as documented (amplitude.com/docs/apis/analytics/http-v2,
 * .../batch-event-upload): the whole request is rejected with a 400 that names each bad event by index, so a
 * client can drop those and resend the rest. Ids shorter than min_id_length are silently removed from the event;
 * only an event left with no id at all makes the request fail.
 */

export const DEFAULT_MIN_ID_LENGTH = 5;
export const MAX_EVENTS_PER_REQUEST = 2_000;

/** Documented as rejected outright, whatever min_id_length says. */
const INVALID_IDS = new Set(['anonymous', 'nil', 'none', 'null', 'n/a', 'na', 'undefined', 'unknown', '""', '00000000-0000-0000-0000-000000000000', '{}', 'lmy47d', '0', '-1']);

const RESERVED_EVENT_TYPES = new Set([
  '[Amplitude] Start Session',
  '[Amplitude] End Session',
  '[Amplitude] Revenue',
  '[Amplitude] Revenue (Verified)',
  '[Amplitude] Revenue (Unverified)',
  '[Amplitude] Merged User',
]);

/** Documented string limit for ids and property values. */
const MAX_STRING_LENGTH = 1024;

/**
 * HTTP V2's page says each map holds "the index of the first event to encounter an error"; the Batch page
 * says "an array of indexes". `first` reproduces the former, so a client must loop until the 400s stop.
 */
export type InvalidIndexReporting = 'all' | 'first';

export interface ValidationOptions {
  apiKeys: ReadonlySet<string>;
  indexReporting: InvalidIndexReporting;
}

export type ValidationResult =
  | { ok: true; apiKey: string; events: AmplitudeEvent[]; minIdLength: number; clientUploadTime?: number }
  | { ok: false; answer: InvalidRequestAnswer | PayloadTooLargeAnswer };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

class FieldReport {
  readonly byField = new Map<string, number[]>();
  add(field: string, index: number): void {
    const list = this.byField.get(field) ?? [];
    if (!list.includes(index)) list.push(index);
    this.byField.set(field, list);
  }
  get empty(): boolean {
    return this.byField.size === 0;
  }
  toJson(mode: InvalidIndexReporting): Record<string, number[]> {
    return Object.fromEntries([...this.byField].map(([field, idx]) => [field, mode === 'first' ? idx.slice(0, 1) : idx]));
  }
}

export function validateUpload(body: unknown, opts: ValidationOptions): ValidationResult {
  if (!isObject(body)) return invalid('Invalid JSON request body');
  if (typeof body.api_key !== 'string' || body.api_key === '') return missingField('api_key');
  if (!Array.isArray(body.events) || body.events.length === 0) return missingField('events');
  if (!opts.apiKeys.has(body.api_key)) return invalid(`Invalid API key: ${body.api_key}`);
  if (body.events.length > MAX_EVENTS_PER_REQUEST) return { ok: false, answer: { code: 413, error: 'Payload too large' } };

  const options = isObject(body.options) ? body.options : {};
  const minIdLength = Number.isInteger(options.min_id_length) && (options.min_id_length as number) > 0 ? (options.min_id_length as number) : DEFAULT_MIN_ID_LENGTH;

  const invalidFields = new FieldReport();
  const missingFields = new FieldReport();
  const idLengths = new FieldReport();
  const events: AmplitudeEvent[] = [];
  body.events.forEach((raw: unknown, i: number) => {
    const event = checkEvent(raw, i, minIdLength, { invalidFields, missingFields, idLengths });
    if (event) events.push(event);
  });

  if (!missingFields.empty || !invalidFields.empty || !idLengths.empty) {
    const answer: InvalidRequestAnswer = {
      code: 400,
      error: !missingFields.empty || !idLengths.empty ? 'Request missing required field' : 'Invalid field values on some events',
      events_with_invalid_fields: invalidFields.toJson(opts.indexReporting),
      events_with_missing_fields: missingFields.toJson(opts.indexReporting),
    };
    // Not on the public pages, but the official SDKs parse this field and drop the events it lists.
    if (!idLengths.empty) answer.events_with_invalid_id_lengths = idLengths.toJson(opts.indexReporting);
    return { ok: false, answer };
  }
  const clientUploadTime = typeof body.client_upload_time === 'string' ? Date.parse(body.client_upload_time) : undefined;
  return { ok: true, apiKey: body.api_key, events, minIdLength, clientUploadTime: Number.isNaN(clientUploadTime) ? undefined : clientUploadTime };
}

interface Reports {
  invalidFields: FieldReport;
  missingFields: FieldReport;
  idLengths: FieldReport;
}

function checkEvent(raw: unknown, i: number, minIdLength: number, r: Reports): AmplitudeEvent | undefined {
  if (!isObject(raw)) {
    r.invalidFields.add('event', i);
    return undefined;
  }
  const event: JsonObject = { ...raw };

  if (event.event_type === undefined || event.event_type === null || event.event_type === '') r.missingFields.add('event_type', i);
  else if (typeof event.event_type !== 'string' || RESERVED_EVENT_TYPES.has(event.event_type) || event.event_type.length > MAX_STRING_LENGTH) r.invalidFields.add('event_type', i);

  const removedShortIds: string[] = [];
  for (const field of ['user_id', 'device_id'] as const) {
    const value = event[field];
    if (value === undefined || value === null) {
      delete event[field];
      continue;
    }
    if (typeof value !== 'string' || INVALID_IDS.has(value.toLowerCase()) || value.length > MAX_STRING_LENGTH) {
      r.invalidFields.add(field, i);
      continue;
    }
    if (value.length < minIdLength) {
      delete event[field];
      removedShortIds.push(field);
    }
  }
  if (event.user_id === undefined && event.device_id === undefined) {
    if (removedShortIds.length > 0) for (const field of removedShortIds) r.idLengths.add(field, i);
    // Every event needs a device_id; Amplitude derives one from user_id, so with neither it is the one missing.
    else r.missingFields.add('device_id', i);
  }

  for (const field of ['time', 'session_id', 'event_id'] as const) {
    if (event[field] !== undefined && event[field] !== null && !Number.isInteger(event[field])) r.invalidFields.add(field, i);
  }
  if (event.insert_id !== undefined && event.insert_id !== null && (typeof event.insert_id !== 'string' || event.insert_id.length > MAX_STRING_LENGTH)) r.invalidFields.add('insert_id', i);
  for (const field of ['event_properties', 'user_properties', 'groups', 'group_properties'] as const) {
    if (event[field] !== undefined && event[field] !== null && !isObject(event[field])) r.invalidFields.add(field, i);
  }
  return event as AmplitudeEvent;
}

function invalid(error: string): ValidationResult {
  return { ok: false, answer: { code: 400, error } };
}

function missingField(field: string): ValidationResult {
  return { ok: false, answer: { code: 400, error: 'Request missing required field', missing_field: field } };
}
