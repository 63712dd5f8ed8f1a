import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { Duration } from '@temporalio/common';
import type { AppConfig } from '../config/config';
import { connectionOptions } from '../lib/temporal';
import { dataConverterFor } from '../lib/codec/data-converter';
import { createActivities } from '../activities';
import { createBackfillIoActivities } from '../activities/backfill';
import { backfillIoTaskQueue } from '../ports/backfill';
import type { Logger } from '../config/logger';
import { WORKFLOWS_PATH } from './workflows-path';
import type { ActivityDeps } from '../activities/deps';

export interface WorkerOptions {
  config: AppConfig;
  deps: ActivityDeps;
  /** Opened by the caller (openWorkerConnection), which closes it once run() has resolved: an open native connection keeps the process alive. */
  connection: NativeConnection;
  /** A prebuilt bundle (tests bundle once per file); otherwise workflows/ is bundled at start. */
  workflowBundle?: WorkflowBundleOption;
  taskQueue?: string;
}

/** How stale the running step's progress in `backfill status` may be. */
export const HEARTBEAT_THROTTLE: Duration = '2 seconds';

/** The worker's connection to Temporal, from config. */
export function openWorkerConnection(config: AppConfig): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(config.temporal));
}

/** The one worker of the platform: every workflow and activity, one task queue. */
export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.config.temporal.namespace,
    taskQueue: opts.taskQueue ?? opts.config.temporal.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(opts.deps),
    // Encrypts payloads and encodes failures when keys are set; a prebuilt bundle must then come from bundlerOptionsFor(codec).
    dataConverter: dataConverterFor(opts.config.temporal.codec),
    // DuckDB has one writer; a handful of concurrent pages keeps it busy without contention.
    maxConcurrentActivityTaskExecutions: 8,
    shutdownGraceTime: '30 seconds' as Duration,
    // Heartbeat details reach the server at most this often (the SDK's default is up to 80 % of the
    // heartbeat timeout, 48 s for a backfill step): `backfill status` reads the running step from them.
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
  });
}

/**
 * The second worker of every process: the reading and sending steps of parallel backfills
 * (ports/backfill.ts backfillIoTaskQueue), which need no warehouse. A DuckDB standby runs it while it
 * waits for the file, so that a parallel backfill's lanes spread over every worker while the owner
 * alone writes the warehouse. No workflows: it only polls activities.
 */
export async function createBackfillIoWorker(opts: { config: AppConfig; log: Logger; connection: NativeConnection; taskQueue?: string }): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.config.temporal.namespace,
    taskQueue: backfillIoTaskQueue(opts.taskQueue ?? opts.config.temporal.taskQueue),
    activities: createBackfillIoActivities({ config: opts.config, log: opts.log }),
    dataConverter: dataConverterFor(opts.config.temporal.codec),
    // Each lane's step holds a page: the worker's heap bounds how many it runs (BACKFILL_LANES_PER_WORKER).
    maxConcurrentActivityTaskExecutions: opts.config.temporal.backfillLanesPerWorker,
    shutdownGraceTime: '30 seconds' as Duration,
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
  });
}
