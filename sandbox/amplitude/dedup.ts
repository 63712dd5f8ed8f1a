import type { IngestEndpoint } from './types';

export const DEDUP_WINDOW_MS = 7 * 24 * 3_600_000;

/**
 * insert_id deduplication, keyed as each API documents it: HTTP V2 ignores "events sent with the same
 * insert_id on the same device_id (if the event has a device_id value) ... within the past 7 days"; Batch
 * ignores "an insert_id that has been seen within the past 7 days". Every accepted event is remembered under
 * both keys, so a Batch resend of an event first sent over HTTP V2 is recognised too.
 */
export class InsertIdDeduplicator {
  private readonly firstSeen = new Map<string, number>();

  constructor(private readonly windowMs = DEDUP_WINDOW_MS) {}

  isDuplicate(endpoint: IngestEndpoint, insertId: string, deviceId: string | undefined, nowMs: number): boolean {
    const key = endpoint === 'httpapi' && deviceId !== undefined ? deviceKey(deviceId, insertId) : plainKey(insertId);
    const seen = this.firstSeen.get(key);
    if (seen === undefined) return false;
    if (nowMs - seen < this.windowMs) return true;
    this.firstSeen.delete(key);
    return false;
  }

  remember(insertId: string, deviceId: string | undefined, nowMs: number): void {
    this.touch(plainKey(insertId), nowMs);
    if (deviceId !== undefined) this.touch(deviceKey(deviceId, insertId), nowMs);
  }

  /** The window runs from the first sighting; a later duplicate does not extend it. */
  private touch(key: string, nowMs: number): void {
    const seen = this.firstSeen.get(key);
    if (seen === undefined || nowMs - seen >= this.windowMs) this.firstSeen.set(key, nowMs);
  }

  clear(): void {
    this.firstSeen.clear();
  }
}

const plainKey = (insertId: string) => `i\u0000${insertId}`;
const deviceKey = (deviceId: string, insertId: string) => `d\u0000${deviceId}\u0000${insertId}`;
