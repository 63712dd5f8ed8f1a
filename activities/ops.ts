import { Context, heartbeat } from '@temporalio/activity';
import { z } from 'zod';
import { AlertCenter, AlertSender, reconcileInputSchema, type Problem } from '../connectors/alerts';
import { PermanentError } from '../lib/errors';
import { resolveFields } from '../mappings/salesforce-describe';
import { PlatformMetrics } from '../lib/metrics';
import { catchUpStream } from '../streams/catch-up';
import type { StreamDeclaration } from '../streams/types';
import type { ActivityDeps } from './deps';
import { translated } from './failures';
import type { CheckSummary, OpsActivities } from './ops-types';
import type { BronzeTableDef, SilverTableDef } from '../connectors/warehouse/types';
import { amplitudeEventsBronze, amplitudeEventsSilver } from '../mappings/amplitude-export';
import { segmentBronzeDef, segmentSilverDef } from '../mappings/segment-warehouse';
import type { SegmentTableName } from '../mappings/segment';
import { fetchLiveProgress } from '../lib/backfill-live';

/** Workflow type and query of the Segment backfill (workflows/segment-backfill.ts, another branch). */
export const BACKFILL_WORKFLOW_TYPE = 'segmentBackfillWorkflow';
export const BACKFILL_PROGRESS_QUERY = 'progress';

/** The part of the backfill's `progress` answer the stall check relies on; the rest is ignored. */
const backfillProgressSchema = z.looseObject({
  state: z.string(),
  rowsRead: z.number(),
  retry: z.looseObject({ attempt: z.number(), errorKind: z.string(), lastError: z.string() }).nullable().optional(),
});

export function createOpsActivities(deps: ActivityDeps): OpsActivities {
  const metrics = deps.metrics ?? new PlatformMetrics();
  const alerts = new AlertCenter({
    warehouse: deps.warehouse,
    sender: new AlertSender({ url: deps.config.alerts.url, format: deps.config.alerts.format, log: deps.log }),
    log: deps.log,
    uiUrl: deps.config.temporal.uiUrl,
    namespace: deps.config.temporal.namespace,
  });
  const declarations = (streams: string[]): StreamDeclaration[] =>
    streams.map((s) => {
      const decl = deps.streams.get(s);
      if (!decl) throw new PermanentError('UnknownStream', `Unknown stream "${s}". Known: ${[...deps.streams.keys()].join(', ')}.`);
      return decl;
    });
  /** Declarations whose fields come from describe, resolved against it (their silver columns depend on it). */
  const prepared = async (streams: string[]): Promise<StreamDeclaration[]> =>
    Promise.all(
      declarations(streams).map(async (d) => {
        if (!d.fromDescribe) return d;
        if (!deps.describer) throw new PermanentError('ConfigError', `${d.name} reads its fields from describe, but no Salesforce describer is configured for this worker.`);
        return d.fromDescribe.build(resolveFields(d.fromDescribe.config, await deps.describer.describe(d.fromDescribe.config.object)).specs);
      }),
    );

  return {
    reconcileAlerts: (input) =>
      translated(async () => {
        const parsed = reconcileInputSchema.parse(input);
        const outcome = await alerts.reconcile(parsed);
        if (outcome.raised.length) metrics.alerts.inc({ scope: parsed.scope, kind: 'alert' }, outcome.raised.length);
        if (outcome.recovered.length) metrics.alerts.inc({ scope: parsed.scope, kind: 'recovery' }, outcome.recovered.length);
        return outcome;
      }),

    organizeTargets: async () => [...deps.streams.keys()],

    organizeStream: (input) =>
      translated(async () => {
        const [decl] = await prepared([input.stream]);
        const result = await catchUpStream(deps.warehouse, decl, { batchSize: input.batchSize, progress: (p) => heartbeat(p) });
        if (result.merged > 0) {
          metrics.organizeMerged.inc({ stream: decl.name }, result.merged);
          deps.log.warn({ ...result }, 'organize merged bronze records that were missing in silver');
        }
        return result;
      }),

    runOrganizeChecks: (input) =>
      translated(async () => {
        const decls = await prepared(input.streams);
        // A full run also checks the tables no polled stream declares: the webhook's and the backfill's.
        const pushed = input.pushed ? pushedTables(deps.config.bigquery.tables as SegmentTableName[]) : [];
        const bronze = [...decls.map((d) => d.bronze), ...pushed.map((t) => t.bronze)];
        const silver = [...decls.map((d) => d.silver), ...pushed.map((t) => t.silver)];
        await deps.warehouse.ensureSchema({ bronze, silver });
        const results = await deps.warehouse.runChecks(
          silver,
          { freshnessSeconds: deps.config.ops.freshnessSeconds },
        );
        await deps.warehouse.recordChecks?.(results);
        metrics.recordChecks(results);
        const summaries: CheckSummary[] = results.map((r) => ({ check: r.check, table: r.table, passed: r.passed, observed: r.observed, ...(r.detail !== undefined ? { detail: r.detail } : {}) }));
        return { results: summaries, failed: summaries.filter((r) => !r.passed) };
      }),

    countRecentDeadLetters: () =>
      translated(async () => {
        const windowSeconds = deps.config.ops.deadLettersWindowSeconds;
        const byFlow = await deps.warehouse.countDeadLettersSince(new Date(Date.now() - windowSeconds * 1000));
        metrics.deadLetters.reset();
        for (const [flow, n] of Object.entries(byFlow)) metrics.deadLetters.set({ flow }, n);
        return { threshold: deps.config.ops.deadLettersThreshold, windowSeconds, byFlow };
      }),

    findStalledBackfills: () =>
      translated(async () => {
        const client = Context.current().client;
        const stallMs = deps.config.ops.backfillStallMinutes * 60_000;
        const problems: Problem[] = [];
        const query = `WorkflowType="${BACKFILL_WORKFLOW_TYPE}" AND ExecutionStatus="Running"`;
        for await (const wf of client.workflow.list({ query })) {
          let progress: z.infer<typeof backfillProgressSchema>;
          try {
            // Live: rows acknowledged by the running step count as soon as it heartbeats them, so a step
            // that retries while it moves is progress and only a backfill that moves nothing is stalled.
            progress = backfillProgressSchema.parse(await fetchLiveProgress(client.workflow.getHandle(wf.workflowId, wf.runId)));
          } catch (err) {
            deps.log.warn({ err, workflowId: wf.workflowId }, 'could not read the progress of a running backfill; skipping it this time');
            continue;
          }
          // A paused backfill is not stalled; its reading restarts when it resumes.
          const reading = progress.state === 'running' ? String(progress.rowsRead) : `${progress.state}:${progress.rowsRead}`;
          const seen = await alerts.observe(`backfill_progress:${wf.workflowId}`, reading, `backfill ${wf.workflowId} rowsRead`);
          const stuckMs = Date.now() - seen.unchangedSince.getTime();
          if (progress.state === 'running' && stuckMs >= stallMs)
            problems.push({
              key: `backfill_stalled:${wf.workflowId}`,
              title: `Segment backfill ${wf.workflowId} has not read a row for ${Math.round(stuckMs / 60_000)} min`,
              detail:
                `state running, rowsRead ${progress.rowsRead} unchanged since ${seen.unchangedSince.toISOString()} (threshold ALERT_BACKFILL_STALL_MINUTES=${deps.config.ops.backfillStallMinutes})` +
                (progress.retry ? `; retrying, attempt ${progress.retry.attempt}: ${progress.retry.errorKind}: ${progress.retry.lastError}` : ''),
              workflowId: wf.workflowId,
              runId: wf.runId,
            });
          heartbeat();
        }
        return problems;
      }),

    compactTables: (input) =>
      translated(async () => {
        const decls = await prepared(input.streams);
        return deps.warehouse.compact({ bronze: decls.map((d) => d.bronze), silver: decls.map((d) => d.silver) });
      }),

    purgeOldBronze: (input) =>
      translated(async () => {
        const keep = deps.config.ops.bronzeRetentionSeconds;
        if (keep === undefined) return { purged: [] };
        const before = new Date(Date.now() - keep * 1000);
        const purged = [];
        for (const decl of declarations(input.streams)) {
          const deleted = await deps.warehouse.purgeBronze(decl.bronze, before);
          if (deleted > 0) metrics.bronzePurged.inc({ table: `bronze.${decl.bronze.name}` }, deleted);
          purged.push({ table: `bronze.${decl.bronze.name}`, deleted });
          heartbeat();
        }
        deps.log.info({ before: before.toISOString(), purged }, 'bronze retention applied');
        return { before: before.toISOString(), purged };
      }),
  };
}

/** Tables filled by pushes and the backfill rather than by a declared stream. */
function pushedTables(segmentTables: SegmentTableName[]): { bronze: BronzeTableDef; silver: SilverTableDef }[] {
  return [
    { bronze: amplitudeEventsBronze, silver: amplitudeEventsSilver },
    ...segmentTables.map((t) => ({ bronze: segmentBronzeDef(t), silver: segmentSilverDef(t) })),
  ];
}
