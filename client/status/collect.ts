import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { AppConfig } from '../../config/config';
import type { StreamStatus, WarehouseStatus } from '../../activities/status-types';
import { describeSchedules, scheduleDefs, type ScheduleSummary } from '../schedules';
import { listBackfills, type BackfillStatus } from './backfills';

/** One stream as `npx novade status` shows it: the warehouse's facts plus lag and its flow's schedule. */
export interface StreamStatusRow extends StreamStatus {
  /** Seconds between now and the source time the cursor reached; undefined without a cursor. */
  lagSeconds?: number;
}

export interface FlowStatus {
  flow: string;
  schedule?: { scheduleId: string; state: 'active' | 'paused' | 'missing'; every: string; note?: string; lastRunAt?: string; nextRunAt?: string };
  streams: StreamStatusRow[];
}

export interface StatusReport {
  generatedAt: string;
  /** Where the per-stream facts came from, or why they are missing. */
  warehouse: { kind?: string; error?: string };
  flows: FlowStatus[];
  backfills: BackfillStatus[];
}

export interface CollectStatusOptions {
  /** How long the status workflow may take (no worker: it never starts). Default 20 s. */
  timeoutMs?: number;
  now?: () => Date;
}

/** Reads the warehouse through the worker (statusWorkflow), the schedules and the backfills from Temporal. */
export async function collectStatus(client: Client, config: AppConfig, opts: CollectStatusOptions = {}): Promise<StatusReport> {
  const now = (opts.now ?? (() => new Date()))();
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const [warehouse, schedules, backfills] = await Promise.all([
    readWarehouse(client, config, timeoutMs),
    describeSchedules(client, scheduleDefs(config)),
    listBackfills(client, { queryTimeoutMs: Math.min(timeoutMs, 5_000) }),
  ]);
  const streams = warehouse.status?.streams ?? [];
  const flowNames = [...new Set([...schedules.map((s) => s.name), ...streams.map((s) => s.flow)])];
  const flows: FlowStatus[] = flowNames.map((flow) => {
    const sched = schedules.find((s) => s.name === flow);
    return {
      flow,
      schedule: sched ? scheduleOf(sched) : undefined,
      streams: streams
        .filter((s) => s.flow === flow)
        .map((s) => ({ ...s, lagSeconds: s.cursorAt ? Math.max(0, Math.round((now.getTime() - Date.parse(s.cursorAt)) / 1000)) : undefined })),
    };
  });
  return { generatedAt: now.toISOString(), warehouse: { kind: warehouse.status?.warehouse, error: warehouse.error }, flows, backfills };
}

const scheduleOf = (s: ScheduleSummary): FlowStatus['schedule'] => ({
  scheduleId: s.scheduleId,
  state: s.missing ? 'missing' : s.paused ? 'paused' : 'active',
  every: s.every,
  note: s.note,
  lastRunAt: s.lastRunAt?.toISOString(),
  nextRunAt: s.nextRunAt?.toISOString(),
});

async function readWarehouse(client: Client, config: AppConfig, timeoutMs: number): Promise<{ status?: WarehouseStatus; error?: string }> {
  const workflowId = `status-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    const status = await client.workflow.execute<() => Promise<WarehouseStatus>>('statusWorkflow', {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      workflowExecutionTimeout: timeoutMs,
    });
    return { status };
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const why = err.cause?.message ?? err.message;
      return {
        error: /timed out|timeout/i.test(why)
          ? `no worker answered on task queue ${config.temporal.taskQueue} within ${Math.round(timeoutMs / 1000)} s: start it with \`npm start\` (run counts, lag and dead letters come from the warehouse through the worker)`
          : `reading the warehouse failed: ${why}`,
      };
    }
    throw err;
  }
}
