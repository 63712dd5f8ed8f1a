import { z } from 'zod';
import type { Warehouse } from '../connectors/warehouse/types';

/**
 * The periodic full re-read of a Salesforce object (config/streams.yaml `full_reread: 7d`): formula
 * fields change value without SystemModstamp moving, so an incremental read never sees the new
 * values. When the object's last full read started longer ago than the duration, the run resets
 * the stream's cursor and reads the whole object from the start; rows silver already holds at the
 * same version are refreshed in place, with no events (streams/pipeline.ts).
 *
 * When the last full read started is kept in ops.sync_state under the stream's name plus
 * FULL_READ_SUFFIX. Order makes it safe to retry: the cursor is reset first, the time recorded
 * after, so a crash in between only means the next attempt starts the same full read again.
 */

export const FULL_READ_SUFFIX = '#full_read';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m`, `12h`, `7d` → milliseconds (the streams file's schema validated the text). */
export function durationMs(text: string): number {
  const m = /^([1-9]\d*)(m|h|d)$/.exec(text);
  if (!m) throw new Error(`not a duration: "${text}" (expected e.g. 30m, 12h or 7d)`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

const marker = z.object({ startedAt: z.string() });

/** When the stream's last full read started; undefined if none was recorded. */
export async function lastFullRead(warehouse: Warehouse, stream: string): Promise<Date | undefined> {
  const parsed = marker.safeParse(await warehouse.getSyncState(stream + FULL_READ_SUFFIX));
  if (!parsed.success) return undefined;
  const at = Date.parse(parsed.data.startedAt);
  return Number.isNaN(at) ? undefined : new Date(at);
}

/** Records that a full read of the stream starts now (a `full` run, or a due re-read). */
export async function recordFullRead(warehouse: Warehouse, stream: string, now: Date): Promise<void> {
  await warehouse.setSyncState(stream + FULL_READ_SUFFIX, { startedAt: now.toISOString() });
}

/**
 * Starts a full re-read when the last one is older than `everyMs` (or none was recorded): resets
 * the cursor, then records the start. Returns whether it did.
 */
export async function startFullRereadIfDue(warehouse: Warehouse, stream: string, everyMs: number, now: Date): Promise<boolean> {
  const last = await lastFullRead(warehouse, stream);
  if (last !== undefined && now.getTime() - last.getTime() < everyMs) return false;
  await warehouse.setSyncState(stream, null);
  await recordFullRead(warehouse, stream, now);
  return true;
}

/** Bronze batch salt of a stream's current full read: its pages are new batches, not repeats. */
export async function fullReadSalt(warehouse: Warehouse, stream: string): Promise<string | undefined> {
  const last = await lastFullRead(warehouse, stream);
  return last ? `full-read-${last.toISOString()}` : undefined;
}
