import { ApplicationFailure, activityInfo, heartbeat } from '@temporalio/activity';
import { SegmentReader } from '../connectors/bigquery/segment-reader';
import { AmplitudeSink } from '../connectors/amplitude/sink';
import { IdThroughputBudget } from '../connectors/amplitude/id-throughput';
import { runBackfillStep, type BackfillStepDeps } from '../streams/segment-backfill-step';
import type { ActivityDeps } from './deps';
import type { BackfillActivities } from './backfill-types';
import { translated } from './failures';
import type { JsonValue } from '../connectors/warehouse/types';
import { secretSource } from '../config/keyvault/secret-sources';
import type { AppConfig } from '../config/config';
import type { Logger } from '../config/logger';

/** Amplitude keeps insert_ids 7 days; a day of margin for clocks and the time a resend takes. */
export const LATE_RESEND_MS = 6 * 24 * 3_600_000;

/**
 * The backfill's Batch API sink. Its key is a secret source, so a key rotated in Key Vault while a
 * long backfill runs is read again when Amplitude refuses the old one, as the live sync's sink does.
 */
export function backfillSink(config: AppConfig, log?: Logger): AmplitudeSink {
  const amp = config.amplitude;
  return new AmplitudeSink({ apiKey: secretSource(config, 'AMPLITUDE_API_KEY', amp.apiKey, log), serverUrl: amp.serverUrl, minIdLength: amp.minIdLength, endpoint: 'batch', maxEventsPerRequest: 2_000, maxBytesPerRequest: 10_000_000, concurrency: 2, log });
}

/**
 * The backfill's activity: one step of pages (streams/segment-backfill-step.ts). The BigQuery reader
 * and the Batch API sink are built on first use from the worker's config, so a worker that never
 * runs a backfill never needs BigQuery.
 */
export function createBackfillActivities(deps: ActivityDeps): BackfillActivities {
  let stepDeps: BackfillStepDeps | undefined;
  let reader: SegmentReader | undefined;
  const build = (): BackfillStepDeps => {
    const bq = deps.config.bigquery;
    const amp = deps.config.amplitude;
    stepDeps ??= {
      reader: (reader = new SegmentReader({ projectId: bq.projectId, apiEndpoint: bq.apiEndpoint, keyFilename: bq.keyFilename, dataset: bq.dataset, log: deps.log })),
      sink: backfillSink(deps.config, deps.log),
      warehouse: deps.warehouse,
      minIdLength: amp.minIdLength,
      log: deps.log,
      ensured: new Set(),
      idBudget: new IdThroughputBudget(),
    };
    return stepDeps;
  };

  return {
    backfillStep: (input) =>
      translated(async () => {
        const info = activityInfo();
        if (!input.dryRun && !input.allowLateResend && Date.now() - input.firstAttemptAt > LATE_RESEND_MS) {
          const days = ((Date.now() - input.firstAttemptAt) / 86_400_000).toFixed(1);
          throw ApplicationFailure.nonRetryable(
            `The page at ${JSON.stringify(input.cursor)} was first attempted ${days} days ago and may have been partly sent; Amplitude deduplicates insert_ids for 7 days only, so sending it again could duplicate events. ` +
              `Check Amplitude for the insert_ids seg:<id> of that window, then resume with \`npx novade backfill resume --allow-late-resend\`.`,
            'DedupWindowExpired',
          );
        }
        let result;
        try {
          result = await runBackfillStep(build(), input, { progress: (d) => heartbeat(d), resumeFrom: info.heartbeatDetails });
        } finally {
          // A step's query jobs end with it: a paused, cancelled or moved backfill leaves none open in BigQuery.
          await reader?.close();
        }
        deps.log.info({ runId: input.runId, cursor: result.cursor, pages: result.counts.pages, read: result.counts.rowsRead, sent: result.counts.sent, attempt: info.attempt }, 'backfill step done');
        return result;
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
