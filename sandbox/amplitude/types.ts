/**
 * Shapes of the Amplitude ingestion APIs as the emulator sees them. Request bodies arrive as
 * untrusted JSON, so they are typed loosely here and checked field by field in validation.ts,
 * the way Amplitude reports each bad field by event index.
 */

export type JsonObject = Record<string, unknown>;

/** One event as sent to HTTP V2 or Batch (fields named as Amplitude documents them). */
export interface AmplitudeEvent extends JsonObject {
  event_type: string;
  user_id?: string;
  device_id?: string;
  time?: number;
  insert_id?: string;
  session_id?: number;
  event_id?: number;
  event_properties?: JsonObject;
  user_properties?: JsonObject;
  groups?: JsonObject;
  group_properties?: JsonObject;
}

export type IngestEndpoint = 'httpapi' | 'batch';

/** An event Amplitude accepted, with what the server added on the way in. */
export interface IngestedEvent {
  uuid: string;
  endpoint: IngestEndpoint;
  apiKey: string;
  /** The event as stored: ids shorter than min_id_length already removed, `time` filled in. */
  event: AmplitudeEvent;
  eventType: string;
  userId?: string;
  deviceId?: string;
  insertId?: string;
  amplitudeId: number;
  /** Epoch ms. */
  eventTime: number;
  clientEventTime?: number;
  clientUploadTime?: number;
  serverReceivedTime: number;
  serverUploadTime: number;
  /** The user's properties right after this event was applied, as the export format carries them. */
  userPropertiesAfter: JsonObject;
}

export interface SuccessAnswer {
  code: 200;
  events_ingested: number;
  payload_size_bytes: number;
  server_upload_time: number;
}

export interface InvalidRequestAnswer {
  code: 400;
  error: string;
  missing_field?: string;
  events_with_invalid_fields?: Record<string, number[]>;
  events_with_missing_fields?: Record<string, number[]>;
  events_with_invalid_id_lengths?: Record<string, number[]>;
}

export interface PayloadTooLargeAnswer {
  code: 413;
  error: string;
}

export interface ThrottledAnswer {
  code: 429;
  error: string;
  eps_threshold: number;
  throttled_devices: Record<string, number>;
  throttled_users: Record<string, number>;
  throttled_events: number[];
  exceeded_daily_quota_users: Record<string, number>;
  exceeded_daily_quota_devices: Record<string, number>;
}

export interface ServerErrorAnswer {
  code: number;
  error: string;
}

export type UploadAnswer = SuccessAnswer | InvalidRequestAnswer | PayloadTooLargeAnswer | ThrottledAnswer | ServerErrorAnswer;
