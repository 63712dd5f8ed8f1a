import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, activityInfo, heartbeat } from '@temporalio/activity';
import type { AppConfig } from '../config/config';
import type { Logger } from '../config/logger';
import { SegmentReader } from '../connectors/bigquery/segment-reader';
import { AmplitudeSink } from '../connectors/amplitude/sink';
import { IdThroughputBudget } from '../connectors/amplitude/id-throughput';
import { runBackfillStep, type BackfillStepDeps } from '../streams/segment-backfill-step';
import { journalName, journalWarehouse, openJournal, pruneStoredMarks, replayJournal, type BackfillWarehouse } from '../streams/backfill-journal';
import type { ActivityDeps } from './deps';
import type { BackfillActivities, BackfillIoActivities } from './backfill-types';
import { translated } from './failures';
import type { JsonValue } from '../connectors/warehouse/types';
import type { BackfillStepInput, BackfillStepResult } from '../ports/backfill-step';
import { secretSource } from '../config/keyvault/secret-sources';

/** Amplitude keeps insert_ids 7 days; a day of margin for clocks and the time a resend takes. */
export const LATE_RESEND_MS = 6 * 24 * 3_600_000;

/** Events per second per id a backfill keeps under (Amplitude allows 1,000); a parallel one splits it among its lanes. */
const PER_ID_PER_SECOND = 800;

/** The worker as Temporal names it by default: what a lane reports as the worker that ran its step. */
export const WORKER_IDENTITY = `${process.pid}@${os.hostname()}`;

/**
 * The backfill's Batch API sink. Its key is a secret source, so a key rotated in Key Vault while a
 * long backfill runs is read again when Amplitude refuses the old one, as the live sync's sink does.
 */
export function backfillSink(config: AppConfig, log?: Logger): AmplitudeSink {
  const amp = config.amplitude;
  return new AmplitudeSink({ apiKey: secretSource(config, 'AMPLITUDE_API_KEY', amp.apiKey, log), serverUrl: amp.serverUrl, minIdLength: amp.minIdLength, endpoint: 'batch', maxEventsPerRequest: 2_000, maxBytesPerRequest: 10_000_000, concurrency: 2, log });
}

/**
 * Where a parallel backfill's steps leave their warehouse writes for the owner: beside the DuckDB
 * file, on the volume every worker of a DuckDB deployment shares.
 */
export function backfillStagingDir(config: AppConfig): string {
  const base = config.warehouse.kind === 'duckdb' ? path.dirname(config.warehouse.path) : config.dataDir;
  return path.join(base, 'backfill-staging');
}

/**
 * Runs steps (streams/segment-backfill-step.ts) against a given warehouse. The BigQuery reader and
 * the Batch API sink are built on first use from the worker's config, so a worker that never runs a
 * backfill never needs BigQuery. Steps of one backfill share the process's per-id budget; each lane
 * of a parallel one has its own deps (the page a failure interrupted is the lane's) and a budget
 * that is its share, seeded with its recent sends wherever they were made.
 */
function stepRunner(config: AppConfig, log: Logger) {
  let base: Omit<BackfillStepDeps, 'warehouse'> | undefined;
  let reader: SegmentReader | undefined;
  const lanes = new Map<string, BackfillStepDeps>();
  const build = (): Omit<BackfillStepDeps, 'warehouse'> => {
    const bq = config.bigquery;
    const amp = config.amplitude;
    base ??= {
      reader: (reader = new SegmentReader({ projectId: bq.projectId, apiEndpoint: bq.apiEndpoint, keyFilename: bq.keyFilename, dataset: bq.dataset, log })),
      sink: backfillSink(config, log),
      minIdLength: amp.minIdLength,
      log,
      ensured: new Set(),
      idBudget: new IdThroughputBudget({ perIdPerSecond: PER_ID_PER_SECOND }),
    };
    return base;
  };
  let shared: BackfillStepDeps | undefined;

  return async (input: BackfillStepInput, warehouse: BackfillWarehouse, opts: { ensured?: Set<string> } = {}): Promise<BackfillStepResult> => {
    const info = activityInfo();
    if (!input.dryRun && !input.allowLateResend && Date.now() - input.firstAttemptAt > LATE_RESEND_MS) {
      const days = ((Date.now() - input.firstAttemptAt) / 86_400_000).toFixed(1);
      throw ApplicationFailure.nonRetryable(
        `The page at ${JSON.stringify(input.cursor)} was first attempted ${days} days ago and may have been partly sent; Amplitude deduplicates insert_ids for 7 days only, so sending it again could duplicate events. ` +
          `Check Amplitude for the insert_ids seg:<id> of that window, then resume with \`npx novade backfill resume --allow-late-resend\`.`,
        'DedupWindowExpired',
      );
    }
    let stepDeps: BackfillStepDeps;
    let laneBudget: IdThroughputBudget | undefined;
    if (!input.lane) stepDeps = shared ??= { ...build(), warehouse };
    else {
      const key = `${input.runId}#${input.lane.index}`;
      stepDeps = lanes.get(key) ?? { ...build(), warehouse };
      lanes.delete(key);
      lanes.set(key, stepDeps);
      // Lanes of backfills long gone are forgotten (the oldest first): each may hold one page.
      while (lanes.size > 64) lanes.delete(lanes.keys().next().value as string);
      laneBudget = new IdThroughputBudget({ perIdPerSecond: PER_ID_PER_SECOND * input.lane.idShare, hashIds: true }).importSends(input.lane.idHistory);
      stepDeps.idBudget = laneBudget;
    }
    stepDeps.warehouse = warehouse;
    if (opts.ensured) stepDeps.ensured = opts.ensured;
    let result: BackfillStepResult;
    try {
      result = await runBackfillStep(stepDeps, input, { progress: (d) => heartbeat(d), resumeFrom: info.heartbeatDetails });
    } finally {
      // A step's query jobs end with it: a paused, cancelled or moved backfill leaves none open in BigQuery.
      await reader?.close();
    }
    log.info({ runId: input.runId, lane: input.lane?.index, cursor: result.cursor, pages: result.counts.pages, read: result.counts.rowsRead, sent: result.counts.sent, attempt: info.attempt, worker: WORKER_IDENTITY }, 'backfill step done');
    return laneBudget ? { ...result, idHistory: laneBudget.exportHot(), worker: WORKER_IDENTITY } : result;
  };
}

export function createBackfillActivities(deps: ActivityDeps): BackfillActivities {
  const run = stepRunner(deps.config, deps.log);
  const staging = backfillStagingDir(deps.config);
  const ensured = new Set<string>();
  const ensuredTables = new Set<string>();

  return {
    backfillStep: (input) => translated(() => run(input, deps.warehouse, { ensured: ensuredTables })),

    backfillStoreStep: (input) =>
      translated(async () => {
        const t0 = Date.now();
        await pruneStoredMarks(staging);
        // Heartbeats, so that the store of an owner that dies is retried on the next owner within the heartbeat timeout.
        const r = await replayJournal(path.join(staging, input.journal), deps.warehouse, ensured, () => heartbeat());
        const ms = Date.now() - t0;
        deps.log.info({ runId: input.runId, journal: input.journal, ops: r.ops, alreadyStored: r.alreadyStored, ms }, 'backfill journal stored');
        return { ...r, ms };
      }),

    recordBackfillRun: (r) =>
      translated(async () => {
        await deps.warehouse.ensureSchema();
        await deps.warehouse.recordRun({
          runId: r.runId,
          flow: 'segment',
          // The stream of its stored cursor, so that status shows the run and the cursor on one row.
          stream: `segment_backfill:${r.runId}`,
          startedAt: new Date(r.startedAt),
          finishedAt: r.finishedAt ? new Date(r.finishedAt) : undefined,
          status: r.status,
          read: r.totals.rowsRead,
          written: r.totals.written,
          sent: r.totals.sent,
          rejected: r.totals.rejected,
          cursorBefore: null,
          cursorAfter: r.cursorAfter as JsonValue,
          error: r.error,
        });
      }),
  };
}

/**
 * The activity of the reading and sending queue, which every worker polls (a DuckDB standby too):
 * a lane's step whose warehouse writes go to a journal for the owner's `backfillStoreStep`.
 */
export function createBackfillIoActivities(deps: { config: AppConfig; log: Logger }): BackfillIoActivities {
  const run = stepRunner(deps.config, deps.log);
  const staging = backfillStagingDir(deps.config);
  return {
    backfillFetchStep: (input) =>
      translated(async () => {
        if (!input.lane) throw ApplicationFailure.nonRetryable('backfillFetchStep serves the lanes of a parallel backfill only', 'InvalidRequest');
        const journal = journalName(input.runId, input.lane.index, input.cursor);
        if (!input.dryRun) await openJournal(path.join(staging, journal));
        // Recorded tables are ensured again by the owner's replay, once per table and process.
        const result = await run(input, journalWarehouse(path.join(staging, journal)), { ensured: new Set() });
        return { ...result, journal };
      }),
  };
}
