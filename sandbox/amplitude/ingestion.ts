import { randomUUID } from 'node:crypto';
import type { InsertIdDeduplicator } from './dedup';
import type { PerIdRateLimiter } from './rate-limiter';
import type { AmplitudeStore } from './store';
import type { EventStream } from './stream';
import type { AmplitudeEvent, IngestEndpoint, JsonObject, SuccessAnswer, ThrottledAnswer } from './types';
import { applyUserProperties, isOperationDictionary } from './user-properties';

/**
 * Turns a validated upload into ingested events: the per-id throttle first (a 429 rejects the whole
 * request and ingests nothing), then insert_id deduplication, user properties, storage and streaming.
 *
 * `events_ingested` counts every event of the accepted request, duplicates included: Amplitude accepts the
 * request and drops duplicates later in its pipeline, so a client can't learn from the answer that an event
 * was a duplicate (the store can: see `duplicates()`).
 */

export interface IngestionContext {
  store: AmplitudeStore;
  dedup: InsertIdDeduplicator;
  limiter: PerIdRateLimiter;
  stream: EventStream;
  now: () => Date;
}

export interface Upload {
  endpoint: IngestEndpoint;
  apiKey: string;
  events: AmplitudeEvent[];
  payloadBytes: number;
  clientUploadTime?: number;
}

/** Amplitude's own events: they change a user or group, and event streaming does not forward them. */
const IDENTIFY_EVENTS = new Set(['$identify', '$groupidentify']);

export function ingestUpload(upload: Upload, ctx: IngestionContext): SuccessAnswer | ThrottledAnswer {
  const nowMs = ctx.now().getTime();
  const ids = upload.events.map((e) => ({ userId: e.user_id, deviceId: e.device_id }));
  const verdict = ctx.limiter.check(ids, nowMs);
  if (verdict) {
    return {
      code: 429,
      error: 'Too many requests for some devices and users',
      eps_threshold: ctx.limiter.threshold,
      throttled_devices: verdict.throttledDevices,
      throttled_users: verdict.throttledUsers,
      throttled_events: verdict.throttledEvents,
      exceeded_daily_quota_users: verdict.exceededDailyQuotaUsers,
      exceeded_daily_quota_devices: verdict.exceededDailyQuotaDevices,
    };
  }
  ctx.limiter.record(ids, nowMs);

  for (const event of upload.events) {
    const insertId = typeof event.insert_id === 'string' ? event.insert_id : undefined;
    if (insertId !== undefined && ctx.dedup.isDuplicate(upload.endpoint, insertId, event.device_id, nowMs)) {
      ctx.store.recordDuplicate({ at: nowMs, endpoint: upload.endpoint, insertId, deviceId: event.device_id, eventType: event.event_type });
      continue;
    }
    if (insertId !== undefined) ctx.dedup.remember(insertId, event.device_id, nowMs);

    const personKey = event.user_id ?? (event.device_id as string);
    const userPropertiesAfter = applyEventProperties(event, personKey, ctx);
    const ingested = {
      uuid: randomUUID(),
      endpoint: upload.endpoint,
      apiKey: upload.apiKey,
      event: { ...event, time: typeof event.time === 'number' ? event.time : nowMs },
      eventType: event.event_type,
      userId: event.user_id,
      deviceId: event.device_id,
      insertId,
      amplitudeId: ctx.store.amplitudeIdFor(personKey),
      eventTime: typeof event.time === 'number' ? event.time : nowMs,
      clientEventTime: typeof event.time === 'number' ? event.time : undefined,
      clientUploadTime: upload.clientUploadTime,
      serverReceivedTime: nowMs,
      serverUploadTime: nowMs,
      userPropertiesAfter,
    };
    ctx.store.add(ingested);
    if (!IDENTIFY_EVENTS.has(event.event_type)) ctx.stream.push(ingested);
  }
  return { code: 200, events_ingested: upload.events.length, payload_size_bytes: upload.payloadBytes, server_upload_time: nowMs };
}

function applyEventProperties(event: AmplitudeEvent, personKey: string, ctx: IngestionContext): JsonObject {
  const current = ctx.store.userProperties(personKey) ?? {};
  const update = event.user_properties;
  if (!update || event.$skip_user_properties_sync === true || event.event_type === '$groupidentify') return current;
  if (event.event_type !== '$identify' && isOperationDictionary(update)) {
    ctx.store.recordViolation(`event ${describe(event)}: user property operations are only applied on $identify events`);
    return current;
  }
  const { next, violations } = applyUserProperties(current, update);
  for (const v of violations) ctx.store.recordViolation(`event ${describe(event)}: ${v}`);
  ctx.store.setUserProperties(personKey, next);
  return next;
}

export function applyIdentification(personKey: string, update: JsonObject, ctx: Pick<IngestionContext, 'store'>): void {
  const { next, violations } = applyUserProperties(ctx.store.userProperties(personKey) ?? {}, update);
  for (const v of violations) ctx.store.recordViolation(`identify ${personKey}: ${v}`);
  ctx.store.setUserProperties(personKey, next);
}

const describe = (e: AmplitudeEvent) => `${e.event_type}${typeof e.insert_id === 'string' ? ` (${e.insert_id})` : ''}`;
