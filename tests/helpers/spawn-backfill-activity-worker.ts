import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Worker, type NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ROOT } from './paths';

/** Where the child activity worker (tests/helpers/backfill-activity-worker.ts) finds Temporal and the emulators. */
export interface BackfillActivityWorkerTargets {
  temporalAddress: string;
  taskQueue: string;
  dataDir: string;
  bigquery: { url: string; projectId: string; dataset: string };
  amplitudeUrl: string;
}

/**
 * Starts the backfill's activities in a process of their own, so a test can SIGKILL it mid-step.
 * Resolves once the child says it is ready; `onCleanup` receives the kill to run after the test.
 */
export async function spawnBackfillActivityWorker(t: BackfillActivityWorkerTargets, onCleanup: (fn: () => Promise<void>) => void): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tests/helpers/backfill-activity-worker.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      BF_TEMPORAL: t.temporalAddress,
      BF_QUEUE: t.taskQueue,
      BF_DATA_DIR: t.dataDir,
      BF_BQ_URL: t.bigquery.url,
      BF_BQ_PROJECT: t.bigquery.projectId,
      BF_BQ_DATASET: t.bigquery.dataset,
      BF_AMP_URL: t.amplitudeUrl,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`activity worker exited (${code}): ${err}`)));
  });
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** Sends `signal` to the child and resolves once it has exited. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  child.kill(signal);
  await new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
}

/**
 * The backfill's workflows on an in-process worker and its activities in child processes that a test
 * can SIGKILL: starts the workflow worker and returns how to spawn an activity worker.
 */
export async function startSplitBackfillWorkers(
  opts: { connection: NativeConnection; bundle: WorkflowBundleWithSourceMap; targets: BackfillActivityWorkerTargets },
  onCleanup: (fn: () => Promise<void>) => void,
): Promise<() => Promise<ChildProcess>> {
  const workflowWorker = await Worker.create({ connection: opts.connection, taskQueue: opts.targets.taskQueue, workflowBundle: opts.bundle });
  const running = workflowWorker.run();
  onCleanup(async () => {
    workflowWorker.shutdown();
    await running;
  });
  return () => spawnBackfillActivityWorker(opts.targets, onCleanup);
}
