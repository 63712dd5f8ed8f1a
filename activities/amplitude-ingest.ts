import { activityInfo, heartbeat } from '@temporalio/activity';
import type { DeadLetter } from '../connectors/warehouse/types';
import { amplitudeEventsBronze, amplitudeEventsSilver, checkExportEvent, toBronzeRecord, toSilverRow, type AmplitudeExportEvent } from '../mappings/amplitude-export';
import type { ActivityDeps } from './deps';
import { alwaysRetried } from './failures';
import type { AmplitudeIngestActivities, FlushInput, RejectedEvent } from './amplitude-ingest-types';

const FLOW = 'amplitude';
const STREAM = 'amplitude_events';

function deadLetter(r: RejectedEvent): DeadLetter {
  return { flow: FLOW, stream: STREAM, recordKey: r.recordKey, reason: r.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; '), payload: r.payload };
}

export function createAmplitudeIngestActivities(deps: Pick<ActivityDeps, 'warehouse' | 'log' | 'metrics'>): AmplitudeIngestActivities {
  // Which stage a slow flush spent its time in (the flushes are what the webhook's slow seconds line up with).
  const timed = async <T>(stage: 'check' | 'bronze' | 'silver' | 'dead_letters', fn: () => Promise<T> | T): Promise<T> => {
    const end = deps.metrics?.ingestFlushStage.startTimer({ stage });
    try {
      return await fn();
    } finally {
      end?.();
    }
  };

  let schemaReady: Promise<void> | undefined;
  const ensureSchema = () => {
    schemaReady ??= deps.warehouse.ensureSchema({ bronze: [amplitudeEventsBronze], silver: [amplitudeEventsSilver] }).catch((err: unknown) => {
      schemaReady = undefined;
      throw err;
    });
    return schemaReady;
  };

  return {
    gatherSignals: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),

    flushAmplitudeEvents: (input: FlushInput) =>
      alwaysRetried(async () => {
        await ensureSchema();
        // The payload crossed Temporal as plain JSON: check it again rather than trust the other side.
        const events: AmplitudeExportEvent[] = [];
        const rejected = [...input.rejected];
        await timed('check', () => {
          for (const [i, raw] of input.events.entries()) {
            const checked = checkExportEvent(raw);
            if (checked.ok) events.push(checked.event);
            else rejected.push({ recordKey: typeof raw.uuid === 'string' ? raw.uuid : `${input.batchId}:${i}`, problems: checked.problems, payload: raw });
          }
        });
        // Bronze first: what was acknowledged is kept as received even if the merge fails and is retried.
        const appended = events.length
          ? await timed('bronze', () => deps.warehouse.appendBronze(amplitudeEventsBronze, { batchId: input.batchId, records: events.map(toBronzeRecord) }))
          : { inserted: 0, alreadyLoaded: false };
        // A local activity (the ingest workflow's flush since its local-batching patch) has no heartbeat: the worker keeps its workflow task alive.
        if (!activityInfo().isLocal) heartbeat({ stage: 'bronze', batchId: input.batchId });
        const merged = events.length ? await timed('silver', () => deps.warehouse.mergeSilver(amplitudeEventsSilver, events.map(toSilverRow))) : { inserted: 0, updated: 0, unchanged: 0 };
        const deadLettered = rejected.length ? await timed('dead_letters', () => deps.warehouse.writeDeadLetters(rejected.map(deadLetter))) : 0;
        deps.log.debug({ batchId: input.batchId, events: events.length, ...merged, deadLettered }, 'amplitude events flushed');
        return { appended: appended.inserted, alreadyLoaded: appended.alreadyLoaded, ...merged, deadLettered };
      }),
  };
}
