import { createHash } from 'node:crypto';
import type { DeadLetter, Row, Warehouse } from '../connectors/warehouse/types';
import type { AmplitudeEvent } from '../mappings/amplitude-types';
import { identifyToEvent } from '../mappings/amplitude-types';
import type { Cursor, ReadMode, ReadOptions, SourceReader } from '../ports/source-reader';
import type { MappingContext, RelatedRows } from '../mappings/types';
import type { StreamDeclaration } from './types';
import type { SyncPageResult } from '../ports/sync-page';
import type { EventSink } from '../ports/event-sink';

/**
 * One page of a stream, end to end, with no Temporal in sight: read from the source, keep the raw
 * records in bronze, send what changed to Amplitude, merge silver, and only then advance the cursor.
 * Every step is idempotent, so the activity that calls this can be retried at any point.
 */

export interface PipelineDeps {
  warehouse: Warehouse;
  reader: SourceReader;
  sink: EventSink;
  mapping: MappingContext;
  /** Stops a run before it exhausts the source's API allowance (share of the limit, 0..1). */
  apiUsageStopShare?: number;
  /**
   * Called once per page whose records fail validation, before anything but bronze is written: it
   * may stop the page (throw) when the failures have a cause of their own, such as a field retyped at
   * the source. Returning lets the invalid records be dead-lettered as usual.
   */
  explainInvalid?(invalid: readonly InvalidRecord[]): Promise<void>;
}

/** A record that failed validation: its key and, per field, what was wrong. */
export interface InvalidRecord {
  key: string;
  issues: { field: string; message: string }[];
}

export function batchIdOf(stream: string, cursor: Cursor, mode: ReadMode, content?: string): string {
  const hash = createHash('sha256').update(JSON.stringify(cursor));
  // A read that can see new records for the same cursor (the head of a newest-first list, a webhook's
  // targeted read) is another batch, or bronze would skip what it added as "already loaded".
  if (content !== undefined) hash.update(content);
  const digest = hash.digest('hex').slice(0, 16);
  return `${stream}:${mode}:${digest}`;
}

/** Keys and versions of a page, as received: what makes one delivery of a cursor differ from another. */
function contentOf(decl: StreamDeclaration, records: unknown[]): string {
  return records.map((r) => `${keyOf(decl, r)}@${String((r as Record<string, unknown> | null)?.[decl.cursorField] ?? '')}`).join(',');
}

function keyOf(decl: StreamDeclaration, record: unknown): string {
  const v = (record as Record<string, unknown> | null)?.[decl.primaryKey];
  return v === undefined || v === null ? '' : String(v);
}

export async function syncPage(
  deps: PipelineDeps,
  decl: StreamDeclaration,
  input: { runId: string; cursor: Cursor; mode: ReadMode },
  opts: ReadOptions,
): Promise<SyncPageResult> {
  const { warehouse, reader, sink } = deps;
  const page = await reader.readPage(decl, input.cursor, input.mode, opts);
  const deadLetters: DeadLetter[] = [];
  const dead = (recordKey: string, reason: string, payload: unknown) =>
    deadLetters.push({
      flow: decl.source,
      stream: decl.name,
      recordKey,
      reason,
      payload,
      id: createHash('sha256').update(`${decl.name}|${recordKey}|${reason}|${JSON.stringify(payload)}`).digest('hex').slice(0, 32),
    });

  // Bronze keeps every record exactly as received, valid or not.
  await warehouse.appendBronze(decl.bronze, {
    batchId: batchIdOf(decl.name, input.cursor, input.mode, decl.source === 'salesforce' ? decl.batchSalt : contentOf(decl, page.records)),
    records: page.records.map((r) => ({ keys: { [decl.bronze.keyColumns[0].name]: keyOf(decl, r) || null }, payload: r })),
  });

  const valid: { record: Record<string, unknown>; row: Row }[] = [];
  const invalid: InvalidRecord[] = [];
  for (const raw of page.records) {
    const parsed = decl.schema.safeParse(raw);
    if (!parsed.success) {
      const key = keyOf(decl, raw);
      invalid.push({ key, issues: parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })) });
      dead(key, `invalid record: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, raw);
      continue;
    }
    const record = parsed.data as Record<string, unknown>;
    valid.push({ record, row: decl.toRow(record) });
  }
  // Nothing is merged, dead-lettered or moved yet: a stop here leaves the page to be read again.
  if (invalid.length > 0 && deps.explainInvalid) await deps.explainInvalid(invalid);

  // Within one page the same key may appear twice (a lookback window re-reads): keep the newest.
  const pkColumn = decl.silver.primaryKey[0];
  const version = decl.silver.versionColumn;
  const newest = new Map<string, { record: Record<string, unknown>; row: Row }>();
  for (const v of valid) {
    const k = String(v.row[pkColumn]);
    const prev = newest.get(k);
    if (!prev || compareVersions(v.row[version], prev.row[version]) >= 0) newest.set(k, v);
  }

  const previous = new Map<string, Row>();
  if (newest.size > 0)
    for (const row of await warehouse.lookupSilver(decl.silver, [...newest.keys()])) previous.set(String(row[pkColumn]), row);

  const fresh: { key: string; record: Record<string, unknown>; row: Row }[] = [];
  const fills: Row[] = [];
  const refreshes: Row[] = [];
  const fillColumns = new Set<string>();
  for (const [key, { record, row }] of newest) {
    const before = previous.get(key);
    if (before) {
      const order = compareVersions(row[version], before[version]);
      // Same version bringing values silver lacks: a re-read after silver gained columns (schema
      // evolution). The record did not change, so it fills those columns and says nothing.
      if (order === 0 && decl.fullRereadMs !== undefined) {
        // A re-read of an object whose formula fields change without the version moving: the
        // same version may bring new values. Silver takes them; the record did not change, so no events.
        if (decl.silver.columns.some((c) => !sameValue(row[c.name], before[c.name]))) refreshes.push(row);
      } else if (order === 0) {
        const filled = decl.silver.columns.filter((c) => (before[c.name] === null || before[c.name] === undefined) && row[c.name] !== null && row[c.name] !== undefined);
        if (filled.length > 0) {
          fills.push(row);
          for (const c of filled) fillColumns.add(c.name);
        }
      }
      // Already merged at this version: a lookback re-read or a retried page. Nothing new to say.
      if (order <= 0) continue;
    }
    fresh.push({ key, record, row });
  }
  const related = await lookupRelated(warehouse, decl, fresh.map((f) => f.record));

  const events: AmplitudeEvent[] = [];
  const changed: Row[] = [];
  for (const { key, record, row } of fresh) {
    const before = previous.get(key);
    changed.push(row);
    const mapped = decl.toEvents(record, before, deps.mapping, related);
    if (mapped.unsendable) dead(key, mapped.unsendable, record);
    if (mapped.identify) events.push(identifyToEvent(mapped.identify));
    events.push(...mapped.events);
  }

  // Amplitude before silver: if sending fails, the retry still sees the old silver row and so
  // recomputes the same events (same insert_ids) instead of losing e.g. a stage change.
  const delivery = events.length > 0 ? await sink.send(events) : { sent: 0, rejected: [] };
  for (const r of delivery.rejected) dead(r.event.user_id ?? r.event.device_id ?? '', `amplitude rejected ${r.event.event_type}: ${r.reason}`, r.event);

  const merge = changed.length > 0 ? await warehouse.mergeSilver(decl.silver, changed, { deleted: (row) => row._deleted === true }) : undefined;
  const filled = fills.length > 0 ? await warehouse.mergeSilver(decl.silver, fills, { deleted: (row) => row._deleted === true, fill: [...fillColumns] }) : undefined;
  const refreshed = refreshes.length > 0 ? await warehouse.mergeSilver(decl.silver, refreshes, { deleted: (row) => row._deleted === true, refresh: true }) : undefined;
  if (deadLetters.length > 0) await warehouse.writeDeadLetters(deadLetters);

  // Last: the cursor moves only once every destination has the page. A targeted read (a webhook's
  // fast path) is outside the stream's sequence and leaves the cursor to the poll.
  if (input.mode !== 'targeted') await warehouse.setSyncState(decl.name, page.nextCursor);

  let stop: string | undefined;
  if (page.apiUsage && deps.apiUsageStopShare !== undefined && page.apiUsage.limit > 0) {
    const share = page.apiUsage.used / page.apiUsage.limit;
    if (share >= deps.apiUsageStopShare && !page.done)
      stop = `API usage ${page.apiUsage.used}/${page.apiUsage.limit} reached ${(share * 100).toFixed(0)}% of the daily limit (stop share ${(deps.apiUsageStopShare * 100).toFixed(0)}%): stopping for today`;
  }

  return {
    read: page.records.length,
    written: (merge ? merge.inserted + merge.updated : 0) + (filled ? filled.updated : 0) + (refreshed ? refreshed.updated : 0),
    sent: delivery.sent,
    rejected: deadLetters.length,
    apiCalls: page.apiCalls,
    apiUsage: page.apiUsage,
    nextCursor: page.nextCursor,
    nextMode: page.nextMode,
    done: page.done,
    stop,
  };
}

const NO_RELATED: RelatedRows = { get: () => undefined };

/** The silver rows the declaration's lookups name, one query per lookup for the whole page. */
async function lookupRelated(warehouse: Warehouse, decl: StreamDeclaration, records: Record<string, unknown>[]): Promise<RelatedRows> {
  if (!decl.lookups?.length || records.length === 0) return NO_RELATED;
  const found = new Map<string, Map<string, Row>>();
  for (const lookup of decl.lookups) {
    const keys = [...new Set(records.map((r) => lookup.key(r)).filter((k): k is string => k !== null && k !== ''))];
    const rows = keys.length > 0 ? await warehouse.lookupSilver(lookup.table, keys) : [];
    found.set(lookup.name, new Map(rows.map((row) => [String(row[lookup.table.primaryKey[0]]), row])));
  }
  return { get: (lookup, key) => (key === null || key === undefined ? undefined : found.get(lookup)?.get(key)) };
}

/**
 * Whether a value read now equals the one silver holds, across the shapes the two sides take
 * (timestamps as Date or ISO text, numbers as number, bigint or decimal text).
 */
export function sameValue(a: unknown, b: unknown): boolean {
  const none = (v: unknown) => v === null || v === undefined;
  if (none(a) || none(b)) return none(a) && none(b);
  if (a instanceof Date || b instanceof Date) {
    const t = (v: unknown) => (v instanceof Date ? v.getTime() : Date.parse(String(v)));
    return t(a) === t(b);
  }
  const numeric = (v: unknown) => typeof v === 'number' || typeof v === 'bigint';
  if (numeric(a) || numeric(b)) return Number(a) === Number(b);
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return String(a) === String(b);
}

/** Versions are timestamps (ISO text or Date) or numbers (epoch ms). */
export function compareVersions(a: unknown, b: unknown): number {
  const n = (v: unknown) => (v instanceof Date ? v.getTime() : typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Date.parse(String(v)));
  const x = n(a);
  const y = n(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return String(a).localeCompare(String(b));
  return x - y;
}
