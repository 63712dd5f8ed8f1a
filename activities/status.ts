import { FULL_READ_SUFFIX } from '../streams/full-reread';
import { syncStreamsBySource } from '../streams/sources';
import { cursorTime } from '../streams/cursor-time';
import type { CellValue } from '../connectors/warehouse/types';
import type { ActivityDeps } from './deps';
import { translated } from './failures';
import type { StatusActivities, StreamStatus } from './status-types';

const iso = (v: CellValue | undefined): string | undefined => {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string' && v !== '') {
    const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(' ', 'T')}Z`);
    return Number.isNaN(t) ? v : new Date(t).toISOString();
  }
  return undefined;
};

/** How many runs back the status looks for each stream's latest one. */
const RUNS_WINDOW = 2_000;

export function createStatusActivities(deps: ActivityDeps): StatusActivities {
  return {
    collectSyncStatus: () =>
      translated(async () => {
        const w = deps.warehouse;
        // A fresh warehouse has no ops tables yet; creating them is what the first sync would do anyway.
        await w.ensureSchema();
        const [runs, successes, states, letters] = await Promise.all([
          w.listRuns({ limit: RUNS_WINDOW }),
          w.query(`SELECT stream, MAX(finished_at) AS at FROM ops.sync_runs WHERE status = 'succeeded' GROUP BY stream`),
          w.query(`SELECT stream, updated_at FROM ops.sync_state`),
          w.query(`SELECT flow, stream, COUNT(*) AS n FROM ops.dead_letters GROUP BY flow, stream`),
        ]);
        const byStream = new Map<string, StreamStatus>();
        const entry = (stream: string, flow: string) => {
          let s = byStream.get(stream);
          if (!s) byStream.set(stream, (s = { stream, flow, deadLetters: 0 }));
          return s;
        };
        for (const [flow, streams] of Object.entries(syncStreamsBySource(deps.streamsFile))) for (const stream of streams) entry(stream, flow);
        // Newest first: the first run seen per stream is its latest.
        for (const r of runs) {
          const s = entry(r.stream, r.flow);
          s.lastRun ??= {
            runId: r.runId,
            status: r.status,
            startedAt: r.startedAt.toISOString(),
            finishedAt: r.finishedAt?.toISOString(),
            read: r.read,
            written: r.written,
            sent: r.sent,
            rejected: r.rejected,
            error: r.error,
          };
        }
        for (const row of successes) entry(String(row.stream), flowOf(String(row.stream))).lastSuccessAt = iso(row.at);
        for (const row of states) {
          // A full re-read's start time (streams/full-reread.ts) shares the table; it is no stream.
          if (String(row.stream).endsWith(FULL_READ_SUFFIX)) continue;
          const s = entry(String(row.stream), flowOf(String(row.stream)));
          s.cursorStoredAt = iso(row.updated_at);
          s.cursorAt = cursorTime(await w.getSyncState(s.stream))?.toISOString();
        }
        for (const row of letters) entry(String(row.stream), String(row.flow)).deadLetters += Number(row.n);
        return { warehouse: w.kind, collectedAt: new Date().toISOString(), streams: [...byStream.values()] };
      }),
  };
}

/** `salesforce_contact` -> `salesforce`: streams are named `<source>_<object>`. */
const flowOf = (stream: string) => stream.split('_')[0];
