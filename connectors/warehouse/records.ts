import { createHash } from 'node:crypto';
import { PermanentError } from '../../lib/errors';
import type { CellValue, DeadLetter, JsonValue, SyncRun, TrackingViolation } from './types';
import { decodeCell, encodeCell, toJsonText } from './values';

/**
 * Rows of the ops tables from the interface's records and back, in the column order of
 * ops-tables.ts. Shared by both adapters so that a run or dead letter reads the same everywhere.
 */

export function syncStateCells(stream: string, cursor: JsonValue, now: Date): (string | null)[] {
  return [stream, toJsonText('cursor', cursor), now.toISOString()];
}

export function syncRunCells(run: SyncRun, now: Date): (string | null)[] {
  const json = (name: string, v: JsonValue | undefined) => (v === undefined ? null : toJsonText(name, v));
  return [
    run.runId,
    run.flow,
    run.stream,
    encodeCell('started_at', 'timestamp', run.startedAt),
    run.finishedAt ? encodeCell('finished_at', 'timestamp', run.finishedAt) : null,
    run.status,
    encodeCell('read_count', 'bigint', run.read),
    encodeCell('written_count', 'bigint', run.written),
    encodeCell('sent_count', 'bigint', run.sent),
    encodeCell('rejected_count', 'bigint', run.rejected),
    json('cursor_before', run.cursorBefore),
    json('cursor_after', run.cursorAfter),
    run.apiCallsUsed === undefined ? null : encodeCell('api_calls_used', 'bigint', run.apiCallsUsed),
    run.error ?? null,
    now.toISOString(),
  ];
}

const n = (v: CellValue): number => (v === null ? 0 : Number(v));

export function syncRunOf(raw: Record<string, unknown>): SyncRun {
  const ts = (k: string) => decodeCell('timestamp', raw[k]) as Date | null;
  const json = (k: string) => (raw[k] === null || raw[k] === undefined ? undefined : (decodeCell('json', raw[k]) as JsonValue));
  const run: SyncRun = {
    runId: String(raw.run_id),
    flow: String(raw.flow),
    stream: String(raw.stream),
    startedAt: ts('started_at') as Date,
    status: String(raw.status) as SyncRun['status'],
    read: n(decodeCell('bigint', raw.read_count)),
    written: n(decodeCell('bigint', raw.written_count)),
    sent: n(decodeCell('bigint', raw.sent_count)),
    rejected: n(decodeCell('bigint', raw.rejected_count)),
  };
  const finished = ts('finished_at');
  if (finished) run.finishedAt = finished;
  const before = json('cursor_before');
  if (before !== undefined) run.cursorBefore = before;
  const after = json('cursor_after');
  if (after !== undefined) run.cursorAfter = after;
  if (raw.api_calls_used !== null && raw.api_calls_used !== undefined) run.apiCallsUsed = n(decodeCell('bigint', raw.api_calls_used));
  if (raw.error !== null && raw.error !== undefined) run.error = String(raw.error);
  return run;
}

/** JSON text of a payload; `undefined` (nothing received) is stored as JSON null. */
export function payloadText(payload: unknown, column = '_payload'): string {
  return payload === undefined ? 'null' : toJsonText(column, payload);
}

/**
 * The `_payload` text of a bronze record: its `payloadJson` as given, else `payload` serialized.
 * `checkJson` parses given text to refuse invalid JSON (adapters that cannot check it in SQL).
 */
export function recordPayloadText(record: { payload?: unknown; payloadJson?: string }, row: number, checkJson: boolean): string {
  const text = record.payloadJson;
  if (text === undefined) return payloadText(record.payload);
  if (typeof text !== 'string') throw invalidPayloadJson(row, 'it is not text');
  if (checkJson)
    try {
      JSON.parse(text);
    } catch (err) {
      throw invalidPayloadJson(row, (err as Error).message);
    }
  return text;
}

export function invalidPayloadJson(row: number, why: string): PermanentError {
  return new PermanentError('InvalidRequest', `Record ${row} of the batch: payloadJson is not valid JSON (${why}). Pass the text exactly as received, or the parsed value as payload.`);
}

/** Without an id, a dead letter is identified by its content, so recording it twice is a no-op. */
export function deadLetterId(l: DeadLetter, payload: string): string {
  return l.id ?? createHash('sha256').update(JSON.stringify([l.flow, l.stream, l.recordKey, l.reason, payload])).digest('hex').slice(0, 32);
}

export function deadLetterCells(letters: DeadLetter[], now: Date): (string | null)[][] {
  return letters.map((l) => {
    const payload = payloadText(l.payload, 'payload');
    return [deadLetterId(l, payload), l.flow, l.stream, l.recordKey, l.reason, payload, now.toISOString()];
  });
}

export function trackingViolationCells(rows: TrackingViolation[], now: Date): (string | null)[][] {
  return rows.map((v) => [v.id, v.event, v.callType, v.messageId, v.type, v.path, v.sample, v.detail, v.outcome, v.planVersion, encodeCell('received_at', 'timestamp', v.receivedAt), now.toISOString()]);
}
