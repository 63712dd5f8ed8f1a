import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { AppConfig } from '../../config/config';

/**
 * Runs one of the tracking read workflows (workflows/tracking.ts) and answers its result: the
 * worker reads the warehouse (its only writer) and BigQuery, the CLI prints. A worker that does not
 * answer, or a read that fails, becomes one message saying what to do.
 */
export async function readThroughWorker<T>(client: Client, config: AppConfig, workflowType: string, input: unknown, timeoutMs: number): Promise<T> {
  const workflowId = `${workflowType.replace(/Workflow$/, '')}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    return await client.workflow.execute<(i: unknown) => Promise<T>>(workflowType, {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      args: [input],
      workflowExecutionTimeout: timeoutMs,
    });
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const inner = err.cause?.cause instanceof Error ? err.cause.cause : undefined;
      const why = inner?.message ?? err.cause?.message ?? err.message;
      if (/timed out|timeout/i.test(why) && !inner)
        throw new Error(`no worker answered on task queue ${config.temporal.taskQueue} within ${Math.round(timeoutMs / 1000)} s: start it with \`npm start\` (the worker reads the warehouse)`);
      throw new Error(why);
    }
    throw err;
  }
}

const SINCE = /^(\d+)([mhd])$/;
const UNIT = { m: 60, h: 3_600, d: 86_400 } as const;

/** `24h`, `7d`, `30m` in seconds. */
export function parseSince(text: string): number {
  const m = SINCE.exec(text.trim());
  if (!m || Number(m[1]) <= 0) throw new Error(`--since expects a duration such as 30m, 24h or 7d, got "${text}".`);
  return Number(m[1]) * UNIT[m[2] as keyof typeof UNIT];
}

/** `2%`, `0.5%` or `0.02` as a share. */
export function parseTolerance(text: string): number {
  const t = text.trim();
  const v = t.endsWith('%') ? Number(t.slice(0, -1)) / 100 : Number(t);
  if (!Number.isFinite(v) || v < 0 || v >= 1 || t === '' || t === '%') throw new Error(`--tolerance expects a percentage such as 2% or 0.5%, got "${text}".`);
  return v;
}
