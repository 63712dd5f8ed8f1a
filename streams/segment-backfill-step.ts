import { createHash } from 'node:crypto';
import type { Logger } from '../config/logger';
import type { ReadPageRequest, SegmentPage } from '../connectors/bigquery/segment-reader';
import type { SegmentReadTable } from '../connectors/bigquery/segment-rows';
import type { DeadLetter, JsonValue } from '../connectors/warehouse/types';
import type { BackfillWarehouse } from './backfill-journal';
import type { AmplitudeEvent } from '../mappings/amplitude-types';
import { mapSegmentRow, type SegmentRecord, type SegmentTableName } from '../mappings/segment';
import { segmentBronzeDef, segmentSilverDef, segmentSilverRow } from '../mappings/segment-warehouse';
import type { BackfillStepInput, BackfillStepResult, StepCounts, StepInterruption } from '../ports/backfill-step';
import { PermanentError, TransientError } from '../lib/errors';
import { nextTable, windowOf } from '../ports/backfill-cursor';
import type { BackfillCursor } from '../ports/backfill';
import type { EventSink } from '../ports/event-sink';
import type { IdThroughputBudget } from '../connectors/amplitude/id-throughput';
import { parseStepProgress, stepCursorSchema, type StepProgress } from '../ports/backfill-step-progress';

/**
 * One step of the Segment backfill, with no Temporal in sight: from the cursor, read keyset pages
 * of BigQuery, and for each page send the events to Amplitude and merge the rows into the warehouse;
 * only once both have acknowledged the page does the cursor move past it (reported through
 * `progress`, which the activity turns into a heartbeat, so a retried attempt starts after the last
 * acknowledged page). A step ends after `pagesPerStep` pages or `stepBudgetMs`, so the workflow sees
 * pause and cancel at page boundaries. Every write is idempotent (bronze batch ids, silver merge on
 * id, insert_id `seg:<id>`), so re-doing a page the heartbeat did not record duplicates nothing.
 * A retryable failure after the step moved ends it early but successfully, with its cursor, counts
 * and the failure (`interruption`): progress never counts as a failed attempt.
 */

export interface SegmentPageSource {
  readPage(req: ReadPageRequest): Promise<SegmentPage>;
}

export interface BackfillStepDeps {
  reader: SegmentPageSource;
  sink: EventSink;
  /** The warehouse, or a journal of its writes that the warehouse's owner replays (backfill-journal.ts). */
  warehouse: BackfillWarehouse;
  minIdLength: number;
  log?: Logger;
  /** Tables already ensured by this process. */
  ensured?: Set<string>;
  /** Keeps each id under Amplitude's per-id throughput; shared by the steps of a process. */
  idBudget?: IdThroughputBudget;
  /**
   * The page a step was sending when a failure ended it: the next step of the same backfill on this
   * worker starts with that page and takes it from here rather than reading it from BigQuery again.
   */
  unfinishedPage?: { key: string; page: SegmentPage };
}

export interface BackfillStepHooks {
  /** Called after each acknowledged page and while waiting: becomes a Temporal heartbeat. */
  progress(details: StepProgress): void;
  /** The last progress of a previous attempt of this same step, if any. */
  resumeFrom?: unknown;
  sleep?(ms: number): Promise<void>;
  now?(): number;
}

export type { StepProgress };

export const MAX_REASONS = 50;
export const MAX_SAMPLES = 20;

export function emptyCounts(): StepCounts {
  return { rowsRead: 0, sent: 0, written: 0, rejected: 0, pages: 0, activeMs: 0, bigqueryMs: 0, amplitudeMs: 0, warehouseMs: 0, pacedMs: 0 };
}

const sameCursor = (a: BackfillCursor, b: BackfillCursor) => JSON.stringify(stepCursorSchema.parse(a)) === JSON.stringify(stepCursorSchema.parse(b));

/** A previous attempt's progress, if it belongs to this step; anything else is ignored. */
function resumed(input: BackfillStepInput, details: unknown): StepProgress | undefined {
  const parsed = parseStepProgress(details);
  if (!parsed || !sameCursor(parsed.stepCursor, input.cursor)) return undefined;
  return parsed;
}

/** The page's position and size name its bronze batch: a retry of the same page adds nothing, a different-sized page is another batch. */
export function bronzeBatchId(runId: string, table: string, cursor: BackfillCursor, pageSize: number): string {
  const position = cursor.after ? `${cursor.after.timestamp}|${cursor.after.id}` : 'start';
  return `segment_${table}:${createHash('sha256').update(`${runId}|${cursor.windowStart}|${position}|${pageSize}`).digest('hex').slice(0, 24)}`;
}

/** The stored cursor's key: the backfill's, or each lane's own for a parallel one (their windows differ). */
export function backfillStateKey(input: Pick<BackfillStepInput, 'runId' | 'lane'>): string {
  return input.lane ? `segment_backfill:${input.runId}#lane${input.lane.index}` : `segment_backfill:${input.runId}`;
}

export function addReason(map: Record<string, number>, reason: string, n = 1): void {
  const key = map[reason] !== undefined || Object.keys(map).length < MAX_REASONS ? reason : 'other reasons';
  map[key] = (map[key] ?? 0) + n;
}

export async function runBackfillStep(deps: BackfillStepDeps, input: BackfillStepInput, hooks: BackfillStepHooks): Promise<BackfillStepResult> {
  const now = hooks.now ?? Date.now;
  const sleep = hooks.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const range = input.range;
  const prior = resumed(input, hooks.resumeFrom);
  const state: StepProgress = prior ?? { stepCursor: input.cursor, cursor: input.cursor, counts: emptyCounts(), perEventType: {}, rejectedByReason: {}, rejectedSamples: [] };
  if (prior) deps.log?.info({ runId: input.runId, cursor: prior.cursor, pages: prior.counts.pages }, 'backfill step resumes after its last acknowledged page');
  const counts = state.counts;
  const t0 = now();
  const activeBefore = counts.activeMs;
  let sentThisAttempt = 0;
  let reads = 0;
  let pagesThisAttempt = 0;

  let interruption: StepInterruption | undefined;
  let inFlightPage: { key: string; page: SegmentPage } | undefined;
  try {
    await walkPages();
  } catch (err) {
    // Whether or not this step keeps its progress, the page it was on comes next: keep it (one page at most).
    deps.unfinishedPage = inFlightPage;
    // Progress made before a retryable failure is kept: the step ends with its cursor and counts and
    // says what failed, instead of failing as a whole (which would count as an attempt that moved
    // nothing and make the next one wait longer). With no progress at all, it fails for Temporal's retry policy.
    if (err instanceof PermanentError || unmoved(state.cursor, input.cursor)) throw err;
    interruption = interruptionOf(err, now());
    deps.log?.warn({ runId: input.runId, cursor: state.cursor, pages: counts.pages, kind: interruption.kind, retryAfterMs: interruption.retryAfterMs }, 'backfill step ends early on a failure after progress');
  }
  counts.activeMs = activeBefore + (now() - t0);
  return {
    cursor: state.cursor,
    counts,
    perEventType: state.perEventType,
    rejectedByReason: state.rejectedByReason,
    rejectedSamples: state.rejectedSamples,
    ...(interruption ? { interruption } : {}),
  };

  async function walkPages(): Promise<void> {
    while (state.cursor && pagesThisAttempt < input.pagesPerStep && reads < input.pagesPerStep * 20 && now() - t0 < input.stepBudgetMs) {
      const cursor: BackfillCursor = state.cursor;
      const table = input.tables[cursor.table] as SegmentTableName;
      const win = windowOf(cursor, range, input.windowHours);
      let t = now();
      const request: ReadPageRequest = { table: table as SegmentReadTable, windowStart: win.start, windowEnd: win.end, after: cursor.after, limit: input.pageSize };
      const key = JSON.stringify([input.runId, request]);
      const kept = deps.unfinishedPage?.key === key ? deps.unfinishedPage.page : undefined;
      deps.unfinishedPage = undefined;
      const page = kept ?? (await deps.reader.readPage(request));
      counts.bigqueryMs += now() - t;
      inFlightPage = { key, page };
      reads++;
      const next: BackfillCursor | null = page.next ? { windowStart: cursor.windowStart, table: cursor.table, after: page.next } : nextTable(cursor, range, input.windowHours, input.tables.length);
      const size = page.rows.length + page.rejected.length;
      if (size === 0) {
        // Nothing to acknowledge: move on, and say so, since a run of empty windows is still work.
        state.cursor = next;
        inFlightPage = undefined;
        hooks.progress(state);
        continue;
      }

      const events: AmplitudeEvent[] = [];
      const dead: DeadLetter[] = [];
      const reject = (id: string, reason: string, payload: unknown) => {
        dead.push({ flow: 'segment', stream: `segment_${table}`, recordKey: id, reason, payload, id: createHash('sha256').update(`segment_${table}|${id}|${reason}`).digest('hex').slice(0, 32) });
        addReason(state.rejectedByReason, reason);
        if (state.rejectedSamples.length < MAX_SAMPLES) state.rejectedSamples.push({ table, id, reason });
      };
      for (const r of page.rejected) reject(typeof r.row.id === 'string' ? r.row.id : '', r.reason, r.row);
      for (const row of page.rows) {
        const mapped = mapSegmentRow(table, row as SegmentRecord, { minIdLength: deps.minIdLength });
        if (mapped.ok) events.push(mapped.event);
        else reject(row.id, mapped.reason, row);
      }

      let sentTypes = events;
      let written = 0;
      if (!input.dryRun) {
        t = now();
        await ensureTables(deps, table);
        await deps.warehouse.appendBronze(segmentBronzeDef(table), {
          batchId: bronzeBatchId(input.runId, table, cursor, input.pageSize),
          records: [...page.rows.map((r) => ({ keys: { id: r.id }, payload: r })), ...page.rejected.map((r) => ({ keys: { id: typeof r.row.id === 'string' ? r.row.id : null }, payload: r.row }))],
        });
        counts.warehouseMs += now() - t;

        if (input.rate !== null && input.rate > 0 && events.length > 0) {
          // Pace the attempt as a whole: the events sent so far plus these may not outrun the rate.
          const due = t0 + ((sentThisAttempt + events.length) / input.rate) * 1000;
          const tp = now();
          while (now() < due) {
            await sleep(Math.min(1_000, due - now()));
            hooks.progress(state);
          }
          counts.pacedMs += now() - tp;
        }

        if (deps.idBudget && events.length > 0) {
          const tp = now();
          for (let wait = deps.idBudget.delayFor(events); wait > 0; wait = deps.idBudget.delayFor(events)) {
            await sleep(Math.min(1_000, wait));
            hooks.progress(state);
          }
          counts.pacedMs += now() - tp;
        }

        t = now();
        const delivery = events.length > 0 ? await deps.sink.send(events) : { sent: 0, rejected: [] };
        deps.idBudget?.record(events);
        counts.amplitudeMs += now() - t;
        counts.sent += delivery.sent;
        sentThisAttempt += events.length;
        if (delivery.rejected.length > 0) {
          const refused = new Set(delivery.rejected.map((r) => r.event.insert_id));
          sentTypes = events.filter((e) => !refused.has(e.insert_id));
          for (const r of delivery.rejected) reject(r.event.insert_id.replace(/^seg:/, ''), `amplitude rejected ${r.event.event_type}: ${r.reason}`, r.event);
        }

        t = now();
        if (page.rows.length > 0) {
          await deps.warehouse.mergeSilver(
            segmentSilverDef(table),
            page.rows.map((r) => segmentSilverRow(table, r as SegmentRecord)),
          );
          written = page.rows.length;
        }
        if (dead.length > 0) await deps.warehouse.writeDeadLetters(dead);
        // Last: the stored cursor moves only once Amplitude and the warehouse have the page.
        await deps.warehouse.setSyncState(backfillStateKey(input), next as JsonValue);
        counts.warehouseMs += now() - t;
      }

      for (const e of sentTypes) state.perEventType[e.event_type] = (state.perEventType[e.event_type] ?? 0) + 1;
      counts.rowsRead += size;
      counts.written += written;
      counts.rejected += dead.length;
      counts.pages += 1;
      pagesThisAttempt++;
      state.cursor = next;
      inFlightPage = undefined;
      counts.activeMs = activeBefore + (now() - t0);
      hooks.progress(state);
    }
  }
}

/** The step has not moved from where it started, in this attempt or an earlier one of it. */
function unmoved(a: BackfillCursor | null, b: BackfillCursor): boolean {
  return a !== null && sameCursor(a, b);
}

function interruptionOf(err: unknown, at: number): StepInterruption {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof TransientError)
    return { kind: err.kind ?? 'transient', message, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}), at: new Date(at).toISOString() };
  return { kind: err instanceof Error && err.name !== 'Error' ? err.name : 'error', message, at: new Date(at).toISOString() };
}

async function ensureTables(deps: BackfillStepDeps, table: SegmentTableName): Promise<void> {
  if (deps.ensured?.has(table)) return;
  await deps.warehouse.ensureSchema({ bronze: [segmentBronzeDef(table)], silver: [segmentSilverDef(table)] });
  deps.ensured?.add(table);
}
