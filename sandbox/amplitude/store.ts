import type { IngestEndpoint, IngestedEvent, JsonObject, UploadAnswer } from './types';

/**
 * What the emulator ingested, for tests to inspect: the events Amplitude would show (duplicates already
 * removed), each user's current properties, the duplicates it ignored, the requests it answered, and the
 * documented rules a client broke without being rejected for it (mixed property operations, for example).
 */

export interface EventFilter {
  eventType?: string;
  userId?: string;
  deviceId?: string;
  insertId?: string;
  endpoint?: IngestEndpoint;
  /** Only events ingested at or after this epoch ms. */
  since?: number;
}

export interface RequestRecord {
  at: number;
  endpoint: string;
  status: number;
  eventCount: number;
  answer: UploadAnswer | string;
}

export interface DuplicateRecord {
  at: number;
  endpoint: IngestEndpoint;
  insertId: string;
  deviceId?: string;
  eventType: string;
}

const MAX_REQUEST_LOG = 2_000;

export class AmplitudeStore {
  private readonly events: IngestedEvent[] = [];
  private readonly byInsert = new Map<string, IngestedEvent[]>();
  private readonly properties = new Map<string, JsonObject>();
  private readonly amplitudeIds = new Map<string, number>();
  private readonly duplicateLog: DuplicateRecord[] = [];
  private readonly violationLog: string[] = [];
  private readonly requestLog: RequestRecord[] = [];
  private nextAmplitudeId = 100_000_000;

  /** `onClear` lets the emulator forget dedup and throttle history with the events, so a cleared store starts fresh. */
  constructor(private readonly onClear: () => void = () => undefined) {}

  add(event: IngestedEvent): void {
    this.events.push(event);
    if (event.insertId !== undefined) {
      const list = this.byInsert.get(event.insertId) ?? [];
      list.push(event);
      this.byInsert.set(event.insertId, list);
    }
  }

  count(filter?: EventFilter): number {
    return filter ? this.list(filter).length : this.events.length;
  }

  list(filter: EventFilter = {}): IngestedEvent[] {
    const source = filter.insertId !== undefined ? (this.byInsert.get(filter.insertId) ?? []) : this.events;
    return source.filter(
      (e) =>
        (filter.eventType === undefined || e.eventType === filter.eventType) &&
        (filter.userId === undefined || e.userId === filter.userId) &&
        (filter.deviceId === undefined || e.deviceId === filter.deviceId) &&
        (filter.endpoint === undefined || e.endpoint === filter.endpoint) &&
        (filter.since === undefined || e.serverUploadTime >= filter.since),
    );
  }

  /** The first event ingested with this insert_id (HTTP V2 keeps one per device_id; see list({insertId})). */
  byInsertId(insertId: string): IngestedEvent | undefined {
    return this.byInsert.get(insertId)?.[0];
  }

  /** A user's current properties, by user_id (or device_id for events that had no user_id). */
  userProperties(id: string): JsonObject | undefined {
    const props = this.properties.get(id);
    return props ? { ...props } : undefined;
  }

  setUserProperties(id: string, props: JsonObject): void {
    this.properties.set(id, props);
  }

  /** Amplitude's stable numeric id per user (or device, for anonymous events). */
  amplitudeIdFor(key: string): number {
    let id = this.amplitudeIds.get(key);
    if (id === undefined) {
      id = this.nextAmplitudeId++;
      this.amplitudeIds.set(key, id);
    }
    return id;
  }

  recordDuplicate(d: DuplicateRecord): void {
    this.duplicateLog.push(d);
  }

  duplicates(): DuplicateRecord[] {
    return [...this.duplicateLog];
  }

  recordViolation(message: string): void {
    this.violationLog.push(message);
  }

  violations(): string[] {
    return [...this.violationLog];
  }

  recordRequest(r: RequestRecord): void {
    this.requestLog.push(r);
    if (this.requestLog.length > MAX_REQUEST_LOG) this.requestLog.shift();
  }

  /** The last requests answered (up to 2,000), oldest first. */
  requests(): RequestRecord[] {
    return [...this.requestLog];
  }

  clear(): void {
    this.events.length = 0;
    this.byInsert.clear();
    this.properties.clear();
    this.amplitudeIds.clear();
    this.duplicateLog.length = 0;
    this.violationLog.length = 0;
    this.requestLog.length = 0;
    this.onClear();
  }
}
