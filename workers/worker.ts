import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { Duration } from '@temporalio/common';
import type { AppConfig } from '../config/config';
import { connectionOptions } from '../lib/temporal';
import { createActivities } from '../activities';
import { WORKFLOWS_PATH } from './workflows-path';
import type { ActivityDeps } from '../activities/deps';

export interface WorkerOptions {
  config: AppConfig;
  deps: ActivityDeps;
  /** Reuse a connection (tests); otherwise one is opened from config. */
  connection?: NativeConnection;
  /** A prebuilt bundle (tests bundle once per file); otherwise workflows/ is bundled at start. */
  workflowBundle?: WorkflowBundleOption;
  taskQueue?: string;
}

/** The one worker of the platform: every workflow and activity, one task queue. */
export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  const connection = opts.connection ?? (await NativeConnection.connect(connectionOptions(opts.config.temporal)));
  return Worker.create({
    connection,
    namespace: opts.config.temporal.namespace,
    taskQueue: opts.taskQueue ?? opts.config.temporal.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(opts.deps),
    // DuckDB has one writer; a handful of concurrent pages keeps it busy without contention.
    maxConcurrentActivityTaskExecutions: 8,
    shutdownGraceTime: '30 seconds' as Duration,
  });
}
