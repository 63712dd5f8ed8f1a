import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { AppConfig } from '../config/config';
import { fetchLiveProgress } from '../lib/backfill-live';
import { backfillRange } from '../ports/backfill-cursor';
import {
  BACKFILL_HANDLERS,
  BACKFILL_WORKFLOW_TYPE,
  MAX_PARALLEL,
  SEGMENT_BACKFILL_TABLES,
  backfillIoTaskQueue,
  backfillWorkflowId,
  type BackfillInput,
  type BackfillOptions,
  type BackfillProgress,
  type BackfillRetry,
  type ResumeArgs,
} from '../ports/backfill';

/** The operator's side of the Segment backfill: start, find, signal and query it through Temporal. */

export class BackfillUsageError extends Error {}

export interface StartBackfillRequest {
  from: string;
  to: string;
  /** Defaults to the configured SEGMENT_TABLES. */
  tables?: string[];
  dryRun?: boolean;
  rate?: number;
  /** Windows at once (default 1). */
  parallel?: number;
  options?: BackfillOptions;
  taskQueue?: string;
}

export function parseTables(value: string | string[] | undefined, configured: string[]): string[] {
  const list = (Array.isArray(value) ? value : value === undefined ? configured : value.split(',')).map((t) => t.trim()).filter(Boolean);
  const known: readonly string[] = SEGMENT_BACKFILL_TABLES;
  const unknown = list.filter((t) => !known.includes(t));
  if (list.length === 0) throw new BackfillUsageError(`--tables is empty: give one or more of ${known.join(', ')}, comma-separated`);
  if (unknown.length) throw new BackfillUsageError(`unknown Segment table(s) ${unknown.join(', ')}: the backfill reads ${known.join(', ')} (e.g. --tables tracks,pages)`);
  // One canonical order, so that `--tables pages,tracks` and `--tables tracks,pages` are the same backfill.
  return known.filter((t) => list.includes(t));
}

export function parseRate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new BackfillUsageError(`--rate "${value}" is not valid: give a positive number of events per second, e.g. --rate 500`);
  return n;
}

export function parseParallel(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PARALLEL)
    throw new BackfillUsageError(`--parallel "${value}" is not valid: give a whole number of windows to read at once, from 1 to ${MAX_PARALLEL} (e.g. --parallel 4)`);
  return n;
}

export async function startBackfill(client: Client, config: AppConfig, req: StartBackfillRequest): Promise<{ workflowId: string; input: BackfillInput }> {
  const range = backfillRange(req.from, req.to);
  if (typeof range === 'string') throw new BackfillUsageError(range);
  const tables = parseTables(req.tables, config.bigquery.tables);
  const workflowId = backfillWorkflowId(req.from, req.to, tables);
  const parallel = req.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > MAX_PARALLEL) throw new BackfillUsageError(`parallel ${parallel} is not valid: from 1 to ${MAX_PARALLEL} windows at once`);
  const taskQueue = req.taskQueue ?? config.temporal.taskQueue;
  const input: BackfillInput = { from: req.from, to: req.to, tables, dryRun: req.dryRun === true, rate: req.rate ?? null, options: req.options };
  if (parallel > 1) {
    input.parallel = parallel;
    // DuckDB has one writer: the lanes read and send on every worker, and the owner writes (see docs/deployment.md).
    if (config.warehouse.kind === 'duckdb') input.ioTaskQueue = backfillIoTaskQueue(taskQueue);
  }
  try {
    await client.workflow.start(BACKFILL_WORKFLOW_TYPE, {
      taskQueue,
      workflowId,
      args: [input],
      // A finished backfill is not started again by mistake: Amplitude would only dedupe the last 7 days of it.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: `Segment backfill ${req.from} → ${req.to} (${tables.join(', ')})${parallel > 1 ? `, ${parallel} windows at once` : ''}${input.dryRun ? ', dry run' : ''}`,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new BackfillUsageError(await alreadyStartedMessage(client, workflowId));
    throw err;
  }
  return { workflowId, input };
}

async function alreadyStartedMessage(client: Client, workflowId: string): Promise<string> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    if (d.status.name === 'RUNNING')
      return `a backfill of this range and tables is already running (${workflowId}): see it with \`npx novade backfill status --id ${workflowId}\`, or pause/resume/cancel it.`;
    return `a backfill of this range and tables already ran (${workflowId}, ${d.status.name.toLowerCase()} ${d.closeTime?.toISOString() ?? ''}). It is not started twice: its events would be sent again and Amplitude only deduplicates the last 7 days. To re-run a part, start a different range.`;
  } catch {
    return `a backfill with id ${workflowId} already exists; it is not started twice.`;
  }
}

/** The backfill an operator means: by id, by range, or the only one running. */
export async function resolveBackfill(client: Client, config: AppConfig, sel: { id?: string; from?: string; to?: string; tables?: string }): Promise<WorkflowHandle> {
  if (sel.id) return client.workflow.getHandle(sel.id);
  if (sel.from || sel.to) {
    if (!sel.from || !sel.to) throw new BackfillUsageError('give both --from and --to (or --id) to name a backfill');
    return client.workflow.getHandle(backfillWorkflowId(sel.from, sel.to, parseTables(sel.tables, config.bigquery.tables)));
  }
  const running: string[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowType = '${BACKFILL_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'` })) running.push(w.workflowId);
  if (running.length === 1) return client.workflow.getHandle(running[0]);
  if (running.length === 0) throw new BackfillUsageError('no backfill is running: start one with `npx novade backfill start --from YYYY-MM-DD --to YYYY-MM-DD`, or name a finished one with --id');
  throw new BackfillUsageError(`${running.length} backfills are running; name one with --id: ${running.join(', ')}`);
}

/** The progress query brought up to date with the running step (heartbeat, retries): see lib/backfill-live.ts. */
export async function backfillProgress(handle: WorkflowHandle): Promise<BackfillProgress> {
  try {
    return await fetchLiveProgress(handle);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new BackfillUsageError(`no backfill with id ${handle.workflowId}: list them in the Web UI or start one with \`npx novade backfill start\``);
    throw err;
  }
}

export const pauseBackfill = (h: WorkflowHandle) => h.signal(BACKFILL_HANDLERS.pause);
export const resumeBackfill = (h: WorkflowHandle, args: ResumeArgs = {}) => h.signal(BACKFILL_HANDLERS.resume, args);
export const cancelBackfill = (h: WorkflowHandle) => h.signal(BACKFILL_HANDLERS.cancel);
export async function setBackfillRate(h: WorkflowHandle, rate: number | null): Promise<number | null> {
  try {
    return await h.executeUpdate<number | null, [number | null]>(BACKFILL_HANDLERS.setRate, { args: [rate] });
  } catch (err) {
    // The workflow's validator says what is wrong; the update failure itself only says that it failed.
    if (err instanceof WorkflowUpdateFailedError) throw new BackfillUsageError(err.cause?.message ?? err.message);
    throw err;
  }
}

function duration(seconds: number | null): string {
  if (seconds === null) return '-';
  const s = Math.round(seconds);
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60)];
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}

/** What `status` says about a retry: which attempt, what failed, when the next try is. */
export function retryLines(r: BackfillRetry): string[] {
  const next = r.nextTryAt ? `next try ${r.nextTryAt}${r.retryAfterSeconds !== null ? ` (Retry-After ${r.retryAfterSeconds} s)` : ''}` : 'trying again now';
  const how = r.progressing ? `${r.interruptedSteps} step(s) in a row ended early after progress` : 'no progress since the last step; waits grow';
  return [`retry     attempt ${r.attempt}, ${how}; ${next}`, `          last error (${r.errorKind}, ${r.failedAt}): ${r.lastError}`];
}

export function progressBar(fraction: number, width = 30): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)} %`;
}

/** The status block the CLI prints. */
export function formatProgress(p: BackfillProgress): string {
  const state = p.state === 'completed' ? `completed (${p.outcome ?? 'finished'})` : p.pauseRequested ? 'pausing (after the page in flight)' : p.state;
  const lines = [
    `Segment backfill ${p.from} → ${p.to} (${p.tables.join(', ')})${p.dryRun ? ' — DRY RUN, nothing sent or written' : ''}`,
    `state     ${state}`,
    `window    ${p.window ? `${p.window.start} → ${p.window.end} (${p.table})` : '-'}`,
    `progress  ${progressBar(p.fraction)}`,
    `rows      read ${p.rowsRead}, sent ${p.sent}, written ${p.written}, rejected ${p.rejected}`,
    `rate      ${p.ratePerSec} rows/s over wall-clock time, waits included (limit: ${p.rateLimit === null ? 'none' : `${p.rateLimit} events/s`}), ETA ${duration(p.etaSeconds)}`,
  ];
  if (p.lanes) {
    lines.push(`windows   ${p.windowsDone ?? 0} of ${p.windowsTotal ?? '?'} done, ${p.parallel ?? p.lanes.length} at once`);
    for (const l of p.lanes) {
      const where = l.window ? `${l.window.start.slice(0, 16)}Z ${l.table ?? ''}` : '-';
      const retry = l.retry ? `, retry ${l.retry.errorKind}` : '';
      lines.push(`  lane ${String(l.lane).padEnd(2)} ${l.state.padEnd(7)} ${where.padEnd(28)} read ${l.rowsRead}, sent ${l.sent}, written ${l.written}, rejected ${l.rejected}; ${l.windowsDone} window(s) done${l.lastWorker ? `; worker ${l.lastWorker}` : ''}${retry}`);
    }
  }
  if (p.step && p.state === 'running') lines.push(`step      read ${p.step.rowsRead} in ${p.step.pages} page(s) so far${p.step.lastHeartbeatAt ? ` (heartbeat ${p.step.lastHeartbeatAt})` : ''}`);
  if (p.retry && !p.lastError) lines.push(...retryLines(p.retry));
  if (p.lastError) lines.push(`error     ${p.lastError}`, '          fix the cause, then `npx novade backfill resume`');
  if (p.dryRun || Object.keys(p.perEventType).length > 0) {
    lines.push(p.dryRun ? 'would send' : 'sent per event type');
    for (const [t, n] of Object.entries(p.perEventType).sort((a, b) => b[1] - a[1])) lines.push(`  ${String(n).padStart(9)}  ${t}`);
  }
  if (Object.keys(p.rejectedByReason).length > 0) {
    lines.push('rejected rows by reason');
    for (const [r, n] of Object.entries(p.rejectedByReason).sort((a, b) => b[1] - a[1])) lines.push(`  ${String(n).padStart(9)}  ${r}`);
  }
  return lines.join('\n');
}
