import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { isDeepStrictEqual } from 'node:util';
import type { AppConfig } from '../config/config';

/**
 * The platform's Temporal schedules, declared once. `ensureSchedules` creates or updates them so that
 * `npm start` can run any number of times; a schedule an operator paused stays paused.
 */
export interface ScheduleDef {
  /** Short name used by the CLI: `npx novade schedules pause salesforce`. */
  name: string;
  scheduleId: string;
  description: string;
  workflowType: string;
  args: unknown[];
  every: string;
}

/** The names scheduleDefs declares, in its order. */
export const SCHEDULE_NAMES = ['salesforce', 'drift', 'organize', 'retention'] as const;

export function scheduleDefs(config: AppConfig): ScheduleDef[] {
  return [
    {
      name: 'salesforce',
      scheduleId: 'salesforce-sync',
      description: 'Salesforce Contact, Lead, Opportunity, Account -> Amplitude + warehouse',
      workflowType: 'syncSourceWorkflow',
      args: [{ source: 'salesforce' }],
      every: config.schedules.syncInterval,
    },
    {
      name: 'drift',
      scheduleId: 'drift-sync',
      description: 'Drift conversations, messages, contacts, meetings -> Amplitude + warehouse',
      workflowType: 'syncSourceWorkflow',
      args: [{ source: 'drift' }],
      every: config.schedules.syncInterval,
    },
    {
      name: 'organize',
      scheduleId: 'organize',
      description: 'Bronze -> silver catch-up, data-quality checks, dead-letter and backfill watch, alerts, compaction',
      workflowType: 'organizeWorkflow',
      args: [{}],
      every: config.schedules.organizeInterval,
    },
    {
      name: 'retention',
      scheduleId: 'bronze-retention',
      description: 'Deletes bronze rows older than BRONZE_RETENTION (empty: keeps everything)',
      workflowType: 'retentionWorkflow',
      args: [{}],
      every: config.ops.retentionInterval,
    },
  ];
}

function scheduleOptions(def: ScheduleDef, config: AppConfig) {
  return {
    spec: { intervals: [{ every: def.every as Duration }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: def.workflowType,
      args: def.args,
      taskQueue: config.temporal.taskQueue,
      workflowId: def.scheduleId,
    },
    policies: {
      // A run still going when the next tick comes is left alone: the next tick picks up the rest.
      overlap: ScheduleOverlapPolicy.SKIP,
      // After an outage only the latest missed tick matters; older ones would redo the same work.
      catchupWindow: '10 minutes' as Duration,
      pauseOnFailure: false,
    },
  };
}

export interface EnsureResult {
  created: string[];
  updated: string[];
  /** Already as declared: left untouched. */
  unchanged: string[];
}

/** Whether a described schedule already holds what `scheduleOptions` declares. */
function matches(desc: ScheduleDescription, opts: ReturnType<typeof scheduleOptions>): boolean {
  const { action, spec, policies } = desc;
  return (
    action.type === 'startWorkflow' &&
    action.workflowType === opts.action.workflowType &&
    action.taskQueue === opts.action.taskQueue &&
    action.workflowId === opts.action.workflowId &&
    isDeepStrictEqual(action.args, opts.action.args) &&
    spec.intervals?.length === 1 &&
    spec.intervals[0].every === msToNumber(opts.spec.intervals[0].every) &&
    !spec.intervals[0].offset &&
    !spec.calendars?.length &&
    policies.overlap === opts.policies.overlap &&
    policies.catchupWindow === msToNumber(opts.policies.catchupWindow) &&
    policies.pauseOnFailure === opts.policies.pauseOnFailure
  );
}

export async function ensureSchedules(client: Client, config: AppConfig, defs = scheduleDefs(config)): Promise<EnsureResult> {
  const result: EnsureResult = { created: [], updated: [], unchanged: [] };
  for (const def of defs) {
    const opts = scheduleOptions(def, config);
    try {
      await client.schedule.create({ scheduleId: def.scheduleId, ...opts, state: { note: def.description } });
      result.created.push(def.scheduleId);
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      const handle = client.schedule.getHandle(def.scheduleId);
      // An update rewrites the schedule's state as it read it, and the server applies a pending update
      // after a pending pause or resume: an operator's `schedules resume` right after a start could be
      // undone. So a schedule already as declared (every restart) is not updated at all.
      if (matches(await handle.describe(), opts)) {
        result.unchanged.push(def.scheduleId);
        continue;
      }
      await handle.update((prev) => ({ ...prev, ...opts, state: prev.state }));
      result.updated.push(def.scheduleId);
    }
  }
  return result;
}

export class UnknownScheduleError extends Error {
  constructor(name: string, known: string[]) {
    super(`Unknown schedule "${name}". Known schedules: ${known.join(', ')}.`);
    this.name = 'UnknownScheduleError';
  }
}

export function resolveSchedule(name: string, defs: ScheduleDef[]): ScheduleDef {
  const def = defs.find((d) => d.name === name || d.scheduleId === name);
  if (!def) throw new UnknownScheduleError(name, defs.map((d) => d.name));
  return def;
}

export interface ScheduleSummary {
  name: string;
  scheduleId: string;
  every: string;
  paused: boolean;
  note?: string;
  recentActions: number;
  lastRunAt?: Date;
  nextRunAt?: Date;
  missing: boolean;
}

function summarize(def: ScheduleDef, d: ScheduleDescription): ScheduleSummary {
  const last = d.info.recentActions.at(-1);
  return {
    name: def.name,
    scheduleId: def.scheduleId,
    every: def.every,
    paused: d.state.paused,
    note: d.state.note,
    recentActions: d.info.numActionsTaken,
    lastRunAt: last?.takenAt,
    nextRunAt: d.info.nextActionTimes[0],
    missing: false,
  };
}

export async function describeSchedules(client: Client, defs: ScheduleDef[]): Promise<ScheduleSummary[]> {
  const out: ScheduleSummary[] = [];
  for (const def of defs) {
    try {
      out.push(summarize(def, await client.schedule.getHandle(def.scheduleId).describe()));
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      out.push({ name: def.name, scheduleId: def.scheduleId, every: def.every, paused: false, recentActions: 0, missing: true });
    }
  }
  return out;
}

export async function pauseSchedule(client: Client, def: ScheduleDef, note = 'paused with npx novade schedules pause'): Promise<void> {
  await client.schedule.getHandle(def.scheduleId).pause(note);
}

export async function resumeSchedule(client: Client, def: ScheduleDef, note = 'resumed with npx novade schedules resume'): Promise<void> {
  await client.schedule.getHandle(def.scheduleId).unpause(note);
}

export async function triggerSchedule(client: Client, def: ScheduleDef): Promise<void> {
  // The SDK ignores trigger's overlap argument (sdk-typescript #1594), so a manual trigger may run beside a
  // scheduled run; that is safe because every page a sync writes is idempotent.
  await client.schedule.getHandle(def.scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
}
