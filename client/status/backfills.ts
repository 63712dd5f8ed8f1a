import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { fetchLiveProgress } from '../../lib/backfill-live';

/**
 * Segment backfills (workflow type `segmentBackfillWorkflow`, ids `segment-backfill-…`): the recent
 * ones from Temporal's visibility, and the `progress` query of those still running.
 */
export const BACKFILL_WORKFLOW_TYPE = 'segmentBackfillWorkflow';

/** The backfill's `progress` query answer; every field optional, so an older or newer backfill still shows. */
export const backfillProgressSchema = z.looseObject({
  state: z.string().optional(),
  window: z.unknown().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  tables: z.array(z.string()).optional(),
  rowsRead: z.number().optional(),
  sent: z.number().optional(),
  written: z.number().optional(),
  rejected: z.number().optional(),
  ratePerSec: z.number().optional(),
  etaSeconds: z.number().nullable().optional(),
  dryRun: z.boolean().optional(),
  /** A retry in progress (attempt, last error, next try); see ports/backfill.ts BackfillRetry. */
  retry: z
    .looseObject({ attempt: z.number(), errorKind: z.string(), lastError: z.string(), nextTryAt: z.string().nullable(), progressing: z.boolean().optional() })
    .nullable()
    .optional(),
});
export type BackfillProgress = z.infer<typeof backfillProgressSchema>;

export interface BackfillStatus {
  workflowId: string;
  runId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, … */
  status: string;
  startedAt?: string;
  closedAt?: string;
  progress?: BackfillProgress;
  /** Why progress is missing for a running backfill (query failed, no worker). */
  progressError?: string;
}

export async function listBackfills(client: Client, opts: { limit?: number; queryTimeoutMs?: number } = {}): Promise<BackfillStatus[]> {
  const limit = opts.limit ?? 10;
  const out: BackfillStatus[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = '${BACKFILL_WORKFLOW_TYPE}'`, pageSize: limit })) {
    out.push({ workflowId: wf.workflowId, runId: wf.runId, status: wf.status.name, startedAt: wf.startTime.toISOString(), closedAt: wf.closeTime?.toISOString() });
    if (out.length >= limit) break;
  }
  await Promise.all(
    out
      .filter((b) => b.status === 'RUNNING')
      .map(async (b) => {
        try {
          // With the running step's heartbeat and retries (describe), not only the last finished step.
          const answer: unknown = await withDeadline(fetchLiveProgress(client.workflow.getHandle(b.workflowId, b.runId)), opts.queryTimeoutMs ?? 5_000);
          const parsed = backfillProgressSchema.safeParse(answer);
          if (parsed.success) b.progress = parsed.data;
          else b.progressError = 'the progress answer has an unexpected shape';
        } catch (err) {
          b.progressError = err instanceof Error ? err.message : String(err);
        }
      }),
  );
  return out;
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms / 1000)} s (is the worker running?)`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
