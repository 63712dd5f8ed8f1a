import { activityInfo, heartbeat } from '@temporalio/activity';
import type { DeadLetter, Row, TrackingViolation } from '../connectors/warehouse/types';
import { blockReason, enforceCall, violationRows } from '../tracking/enforce';
import { checkEnrichedCall, type EnrichedCall } from '../mappings/segment-calls';
import { liveSilverRow, segmentLiveBronze, segmentLiveSilverDef, SEGMENT_LIVE_SILVER, type SegmentLiveTable } from '../mappings/segment-live';
import type { ActivityDeps } from './deps';
import { alwaysRetried } from './failures';
import type { FlushInput, FlushResult, PushIngestActivities, RejectedEvent } from './push-ingest-types';

export const SEGMENT_FLOW = 'segment';
export const SEGMENT_LIVE_STREAM = 'segment_live_events';
/** Dead letters of calls the tracking plan blocked. */
export const TRACKING_PLAN_STREAM = 'tracking_plan';

function deadLetter(r: RejectedEvent): DeadLetter {
  return { flow: SEGMENT_FLOW, stream: SEGMENT_LIVE_STREAM, recordKey: r.recordKey, reason: r.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; '), payload: r.payload };
}

/** What a flushed batch hands to the destinations (Amplitude, Segment forward): its id, never its calls. */
export interface SegmentBatchHandover {
  batchId: string;
  calls: number;
}

export interface SegmentIngestOptions {
  /**
   * Called once the batch is in bronze and silver, on every attempt (a retried flush hands over
   * again; the destinations ignore a batch id they already hold).
   */
  handover?: (batch: SegmentBatchHandover) => Promise<void>;
}

/**
 * The Segment source's flush: the calls of one ingest batch to `bronze.segment_live_events` (as made
 * durable, keyed by messageId) and to the silver table of their type, merged on messageId, so a
 * replayed call is one row. Then the batch id goes to the destinations, which read it back from
 * bronze: the workflow histories carry batch ids, not calls.
 */
export function createSegmentIngestActivities(deps: Pick<ActivityDeps, 'warehouse' | 'log' | 'trackingPlan' | 'metrics'>, opts: SegmentIngestOptions = {}): Pick<PushIngestActivities, 'flushSegmentCalls'> {
  let schemaReady: Promise<void> | undefined;
  const ensureSchema = () => {
    schemaReady ??= deps.warehouse.ensureSchema({ bronze: [segmentLiveBronze], silver: [...SEGMENT_LIVE_SILVER] }).catch((err: unknown) => {
      schemaReady = undefined;
      throw err;
    });
    return schemaReady;
  };

  return {
    flushSegmentCalls: (input: FlushInput): Promise<FlushResult> =>
      alwaysRetried(async () => {
        await ensureSchema();
        const calls: EnrichedCall[] = [];
        const rejected = [...input.rejected];
        for (const [i, raw] of input.events.entries()) {
          const checked = checkEnrichedCall(raw);
          if (checked.ok) calls.push(checked.call);
          else rejected.push({ recordKey: typeof raw.messageId === 'string' ? raw.messageId : `${input.batchId}:${i}`, problems: checked.problems, payload: raw });
        }
        // Bronze first: what was acknowledged is kept as received even if a merge fails and is retried.
        const appended = calls.length
          ? await deps.warehouse.appendBronze(segmentLiveBronze, { batchId: input.batchId, records: calls.map((c) => ({ keys: { message_id: c.messageId }, payload: c })) })
          : { inserted: 0, alreadyLoaded: false };
        if (!activityInfo().isLocal) heartbeat({ stage: 'bronze', batchId: input.batchId });

        // The tracking plan: a blocked call stays in bronze and becomes a dead letter, not a silver row;
        // an allowed one goes on without what the plan omitted. Segment forward reads bronze: never filtered.
        const plan = deps.trackingPlan;
        const violations: TrackingViolation[] = [];
        const blocked: DeadLetter[] = [];
        const kept: EnrichedCall[] = [];
        for (const call of calls) {
          if (!plan) {
            kept.push(call);
            continue;
          }
          const r = enforceCall(call, plan);
          deps.metrics?.recordEnforcement(r);
          violations.push(...violationRows(r, { messageId: call.messageId, receivedAt: new Date(call.receivedAt), planVersion: plan.version }));
          if (r.outcome === 'block')
            blocked.push({ flow: SEGMENT_FLOW, stream: TRACKING_PLAN_STREAM, recordKey: call.messageId, reason: blockReason(r), payload: call, id: `${TRACKING_PLAN_STREAM}:${call.messageId}` });
          else kept.push(r.call);
        }
        if (violations.length) await deps.warehouse.writeTrackingViolations(violations);

        const byTable = new Map<SegmentLiveTable, Row[]>();
        for (const call of kept) {
          const { table, row } = liveSilverRow(call);
          const rows = byTable.get(table);
          if (rows) rows.push(row);
          else byTable.set(table, [row]);
        }
        const merged = { inserted: 0, updated: 0, unchanged: 0 };
        for (const [table, rows] of byTable) {
          const r = await deps.warehouse.mergeSilver(segmentLiveSilverDef(table), rows);
          merged.inserted += r.inserted;
          merged.updated += r.updated;
          merged.unchanged += r.unchanged;
        }
        const letters = [...rejected.map(deadLetter), ...blocked];
        const deadLettered = letters.length ? await deps.warehouse.writeDeadLetters(letters) : 0;
        if (calls.length && opts.handover) await opts.handover({ batchId: input.batchId, calls: calls.length });
        deps.log.debug({ batchId: input.batchId, calls: calls.length, ...merged, deadLettered, blocked: blocked.length, violations: violations.length }, 'segment calls flushed');
        return { appended: appended.inserted, alreadyLoaded: appended.alreadyLoaded, ...merged, deadLettered };
      }),
  };
}
