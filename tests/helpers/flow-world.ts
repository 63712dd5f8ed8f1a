import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { buildConfig, type AppConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { buildDeps } from '../../workers/deps';
import { createWorker } from '../../workers/worker';
import type { ActivityDeps } from '../../activities/deps';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';
import type { SyncSourceSummary } from '../../workflows/sync-source';
import { temporalSuite } from './temporal-suite';

/**
 * What every flow suite stands up per test: the Amplitude emulator, a temp data dir, the platform's
 * config and dependencies (DuckDB in that dir) on a task queue of its own. The suite adds its source
 * emulator and anything else, and registers how to close them.
 */
export interface FlowWorld {
  amp: AmplitudeEmulator;
  deps: ActivityDeps;
  config: AppConfig;
  taskQueue: string;
  dir: string;
  close(): Promise<void>;
}

export interface FlowWorldOptions {
  /** Prefix of the temp dir and task queue, so a leftover says which suite made it. */
  name: string;
  temporalAddress: string;
  /** Environment values beside the Temporal address, task queue and data dir. */
  env?: Record<string, string>;
  /** Points the config at the suite's emulators (after Amplitude's, before the deps are built). */
  configure?(config: AppConfig): void;
  /** Closed first, in order (workers, the source emulator, receivers), then the deps and Amplitude. */
  closeFirst?: (() => Promise<unknown> | unknown)[];
}

const silent = createLogger({ level: 'silent' });
let queues = 0;
const open = new Set<FlowWorld>();

/** Registers an afterEach that closes every world the test made: a failing test leaves nothing running. */
export function closeFlowWorldsAfterEach(): void {
  afterEach(async () => {
    const worlds = [...open];
    open.clear();
    for (const w of worlds) await w.close();
  });
}

/** A flow suite's shared part: temporalSuite() and the per-test closing of its worlds. */
export function flowSuite(): ReturnType<typeof temporalSuite> {
  const suite = temporalSuite();
  closeFlowWorldsAfterEach();
  return suite;
}

export async function startFlowWorld(opts: FlowWorldOptions): Promise<FlowWorld> {
  const amp = await startAmplitudeEmulator({ port: 0 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${opts.name}-`));
  const taskQueue = `${opts.name}-${process.pid}-${++queues}`;
  const config = buildConfig({ TEMPORAL_ADDRESS: opts.temporalAddress, TEMPORAL_TASK_QUEUE: taskQueue, DATA_DIR: dir, ...opts.env }, dir);
  config.amplitude.serverUrl = amp.url;
  opts.configure?.(config);
  const deps = await buildDeps(config, silent);
  let closed = false;
  const world: FlowWorld = {
    amp,
    deps,
    config,
    taskQueue,
    dir,
    close: async () => {
      if (closed) return;
      closed = true;
      open.delete(world);
      for (const close of opts.closeFirst ?? []) await close();
      await deps.warehouse.close();
      await amp.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  open.add(world);
  return world;
}

/** One run of `syncSourceWorkflow` on a worker that lives for that run only. */
export async function runSourceSync(
  env: TestWorkflowEnvironment,
  bundle: WorkflowBundleWithSourceMap,
  w: FlowWorld,
  input: { source: 'salesforce' | 'drift' } & Record<string, unknown>,
): Promise<SyncSourceSummary> {
  const worker = await createWorker({ config: w.config, deps: w.deps, connection: env.nativeConnection, workflowBundle: bundle, taskQueue: w.taskQueue });
  return worker.runUntil(
    env.client.workflow.execute('syncSourceWorkflow', {
      taskQueue: w.taskQueue,
      workflowId: `${input.source}-${w.taskQueue}-${Date.now()}`,
      args: [input],
    }) as Promise<SyncSourceSummary>,
  );
}
