import { activityInfo, heartbeat } from '@temporalio/activity';
import { SegmentForwarder } from '../connectors/segment';
import type { DeadLetter, JsonValue } from '../connectors/warehouse/types';
import type { AmplitudeEvent } from '../mappings/amplitude-types';
import { checkEnrichedCall, type EnrichedCall } from '../mappings/segment-calls';
import { liveAmplitudeEvent, segmentLiveBronze } from '../mappings/segment-live';
import { enforceCall } from '../tracking/enforce';
import type { ActivityDeps } from './deps';
import { alwaysRetried } from './failures';
import { SEGMENT_FLOW } from './segment-ingest';
import type { DeliverInput, DeliverResult, SegmentDeliveryActivities } from './segment-delivery-types';

/** Calls sent per destination request group; each group ends with a heartbeat naming the batches done. */
const GROUP_CALLS = 2_000;
/** Batch ids per bronze read. */
const READ_BATCHES = 50;

interface Progress {
  /** Batch ids fully delivered by an earlier attempt of this activity. */
  done: string[];
}

const STREAM = { amplitude: 'segment_live_amplitude', segment: 'segment_live_forward' } as const;

function letter(destination: keyof typeof STREAM, key: string, reason: string, payload: unknown): DeadLetter {
  // Deterministic: delivering the batch again records the same letter once.
  return { flow: SEGMENT_FLOW, stream: STREAM[destination], recordKey: key, reason, payload, id: `${STREAM[destination]}:${key}` };
}

export interface SegmentDeliveryOptions {
  /** The Segment forward client; built from config on first use when absent. */
  forwarder?: SegmentForwarder;
}

/**
 * One delivery of the outbox (workflows/segment-delivery.ts): reads the batches' calls back from
 * `bronze.segment_live_events` and sends them to one destination, a group at a time, heartbeating
 * the batch ids done so that a retry never sends them again.
 */
export function createSegmentDeliveryActivities(deps: Pick<ActivityDeps, 'config' | 'warehouse' | 'log' | 'sink' | 'trackingPlan'>, opts: SegmentDeliveryOptions = {}): SegmentDeliveryActivities {
  let forwarder = opts.forwarder;
  const forward = () => {
    const f = deps.config.segment.forward;
    forwarder ??= new SegmentForwarder({ endpoint: f.endpoint, writeKey: f.writeKey, log: deps.log });
    return forwarder;
  };
  let schemaReady: Promise<void> | undefined;
  const ensureSchema = () => {
    schemaReady ??= deps.warehouse.ensureSchema({ bronze: [segmentLiveBronze] }).catch((err: unknown) => {
      schemaReady = undefined;
      throw err;
    });
    return schemaReady;
  };

  /**
   * The calls of these batches, in the order they were stored. Read with the warehouse's read-only
   * query (the interface has no other reader for bronze rows), in two steps: the batch ledger says when
   * each batch was appended, and that time range lets the engine skip the rest of bronze (DuckDB's zone
   * maps, Delta's file statistics) instead of scanning every row ever collected for the batch ids.
   */
  const readBatches = async (batchIds: string[]): Promise<Map<string, unknown[]>> => {
    const out = new Map<string, unknown[]>(batchIds.map((id) => [id, []]));
    for (let i = 0; i < batchIds.length; i += READ_BATCHES) {
      const ids = batchIds.slice(i, i + READ_BATCHES);
      const marks = ids.map(() => '?').join(', ');
      const ledger = await deps.warehouse.query<{ at: Date | string }>(`SELECT ingested_at AS at FROM ops.bronze_batches WHERE table_name = ? AND batch_id IN (${marks})`, [segmentLiveBronze.name, ...ids]);
      if (ledger.length === 0) continue;
      const times = ledger.map((r) => new Date(r.at).getTime());
      const [from, to] = [new Date(Math.min(...times)), new Date(Math.max(...times))];
      const rows = await deps.warehouse.query<{ batch_id: string; payload: JsonValue }>(
        `SELECT _batch_id AS batch_id, _payload AS payload FROM bronze.${segmentLiveBronze.name} WHERE _ingested_at BETWEEN CAST(? AS TIMESTAMP) AND CAST(? AS TIMESTAMP) AND _batch_id IN (${marks}) ORDER BY _batch_id, _row`,
        [from.toISOString(), to.toISOString(), ...ids],
      );
      for (const r of rows) out.get(r.batch_id)?.push(typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload);
    }
    return out;
  };

  const sendAmplitude = async (calls: EnrichedCall[], letters: DeadLetter[]): Promise<{ sent: number; rejected: number }> => {
    const events: AmplitudeEvent[] = [];
    let rejected = 0;
    for (const received of calls) {
      // The flush judged these calls by the same plan (tracking/enforce.ts is pure): a blocked call
      // is already a dead letter and is not Amplitude's; an allowed one goes without what was omitted.
      const judged = deps.trackingPlan ? enforceCall(received, deps.trackingPlan) : undefined;
      if (judged?.outcome === 'block') continue;
      const call = judged ? judged.call : received;
      const mapped = liveAmplitudeEvent(call, { minIdLength: deps.config.amplitude.minIdLength, groupType: deps.config.segment.amplitudeGroupType });
      if (mapped.ok) events.push(mapped.event);
      else {
        rejected++;
        letters.push(letter('amplitude', call.messageId, mapped.reason, call));
      }
    }
    const report = events.length ? await deps.sink.send(events) : { sent: 0, rejected: [] };
    for (const r of report.rejected) letters.push(letter('amplitude', r.event.insert_id.replace(/^seg:/, ''), r.reason, r.event));
    return { sent: report.sent, rejected: rejected + report.rejected.length };
  };

  const sendSegment = async (calls: EnrichedCall[], letters: DeadLetter[]): Promise<{ sent: number; rejected: number }> => {
    const report = await forward().send(calls as unknown as Record<string, unknown>[]);
    for (const r of report.rejected) letters.push(letter('segment', String(r.call.messageId), r.reason, r.call));
    return { sent: report.sent, rejected: report.rejected.length };
  };

  return {
    deliverSegmentBatches: (input: DeliverInput): Promise<DeliverResult> =>
      alwaysRetried(async () => {
        const info = activityInfo();
        const earlier = (info.heartbeatDetails as Progress | undefined)?.done ?? [];
        const done = new Set(earlier);
        const todo = input.batchIds.filter((id) => !done.has(id));
        const result: DeliverResult = { batches: input.batchIds.length, calls: 0, sent: 0, rejected: 0, missing: 0, skipped: 0 };
        if (todo.length === 0) return result;
        await ensureSchema();
        const byBatch = await readBatches(todo);
        const enabled = input.destination === 'amplitude' || deps.config.segment.forward.enabled;

        let group: EnrichedCall[] = [];
        let groupIds: string[] = [];
        const flush = async () => {
          const letters: DeadLetter[] = [];
          if (group.length) {
            const r = input.destination === 'amplitude' ? await sendAmplitude(group, letters) : await sendSegment(group, letters);
            result.sent += r.sent;
            result.rejected += r.rejected;
          }
          if (letters.length) await deps.warehouse.writeDeadLetters(letters);
          for (const id of groupIds) done.add(id);
          heartbeat({ done: [...done] } satisfies Progress);
          group = [];
          groupIds = [];
        };
        for (const id of todo) {
          const raws = byBatch.get(id) ?? [];
          if (raws.length === 0) {
            result.missing++;
            deps.log.warn({ batchId: id, destination: input.destination }, 'segment batch not found in bronze (purged before delivery?): nothing to deliver');
          }
          for (const raw of raws) {
            result.calls++;
            const checked = checkEnrichedCall(raw);
            if (!enabled) result.skipped++;
            else if (checked.ok) group.push(checked.call);
            else {
              // Bronze holds only checked calls: this is a bronze row edited by hand.
              result.rejected++;
              await deps.warehouse.writeDeadLetters([letter(input.destination, `${id}:${result.calls}`, checked.problems.map((p) => `${p.path}: ${p.message}`).join('; '), raw)]);
            }
          }
          groupIds.push(id);
          if (group.length >= GROUP_CALLS) await flush();
        }
        await flush();
        deps.log.debug({ destination: input.destination, ...result }, 'segment batches delivered');
        return result;
      }),
  };
}
