import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import type { BenchScenario } from '../scenario';
import { amplitudeEmulatorCount, startEmulatorChild, timedSourceSync, type SyncRunFigures } from '../sync-run';

/**
 * The Salesforce flow at full seeded size (37,000 contacts, 20,000 leads, 8,000 opportunities,
 * 3,000 accounts): Temporal dev server, the real workflow bundle and worker, DuckDB in a temp dir,
 * the Salesforce and Amplitude emulators. The emulators run in a child process so that the peak RSS
 * reported is the worker's (plus the Temporal client), not the emulators' stores.
 *
 * - salesforce-sync-initial: the first sync of every stream (Bulk API 2.0 above the default 10,000
 *   threshold, REST below), timed from workflow start to result.
 * - salesforce-sync-tick: after an (untimed) initial sync, a scheduled tick with nothing changed:
 *   the lookback window is re-read and nothing is written or sent. Reports the summed activity time.
 *
 * Run as a script with `--emulators` it is that child process.
 */

interface EmulatorUrls {
  salesforce: string;
  amplitude: string;
}

async function emulatorChild(): Promise<void> {
  const { startSalesforceEmulator } = await import('../../sandbox/salesforce');
  const { startAmplitudeEmulator } = await import('../../sandbox/amplitude');
  const sf = await startSalesforceEmulator({ port: 0, scale: 1 });
  const amp = await startAmplitudeEmulator({ port: 0 });
  process.stdout.write(`${JSON.stringify({ salesforce: sf.url, amplitude: amp.url })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void Promise.all([sf.close(), amp.close()]).then(() => process.exit(0)));
}

interface Harness {
  runSync(): Promise<SyncRunFigures & { activitySeconds: number }>;
  amplitudeCount(): Promise<number>;
  close(): Promise<void>;
}

async function harness(): Promise<Harness> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const { startDevServer } = await import('../../tests/helpers/temporal');
  const { WORKFLOWS_PATH } = await import('../../workers/workflows-path');
  const { buildConfig } = await import('../../config/config');
  const { createLogger } = await import('../../config/logger');
  const { buildDeps } = await import('../../workers/deps');
  const { createActivities } = await import('../../activities');
  const { Worker } = await import('@temporalio/worker');

  const [{ urls, child }, env, bundle] = await Promise.all([startEmulatorChild<EmulatorUrls>(__filename), startDevServer(), bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') })]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-bench-sf-'));
  const config = buildConfig({ TEMPORAL_ADDRESS: env.address, DATA_DIR: dir, LOG_LEVEL: 'error' }, dir);
  config.salesforce.loginUrl = urls.salesforce;
  config.amplitude.serverUrl = urls.amplitude;
  const deps = await buildDeps(config, createLogger({ level: 'error' }));

  // Activity time, measured around the real activities the worker registers.
  let activityMs = 0;
  const activities = createActivities(deps);
  const timed = Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      async (...args: unknown[]) => {
        const t = performance.now();
        try {
          return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
        } finally {
          activityMs += performance.now() - t;
        }
      },
    ]),
  );
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: config.temporal.taskQueue, workflowBundle: bundle, activities: timed, maxConcurrentActivityTaskExecutions: 8 });
  const running = worker.run();
  let n = 0;

  return {
    async runSync() {
      activityMs = 0;
      const figures = await timedSourceSync(env.client, config.temporal.taskQueue, 'salesforce', `bench-salesforce-${++n}`);
      return { ...figures, activitySeconds: activityMs / 1000 };
    },
    amplitudeCount: () => amplitudeEmulatorCount(urls.amplitude),
    async close() {
      worker.shutdown();
      await running;
      await deps.warehouse.close();
      await env.teardown();
      child.stdin?.end();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const scenarios: BenchScenario[] = [
  {
    name: 'salesforce-sync-initial',
    description: 'Salesforce initial sync of the seeded org (68k records) to DuckDB + Amplitude emulator through the real workflow',
    async run() {
      const h = await harness();
      try {
        const r = await h.runSync();
        return {
          records: r.read,
          seconds: r.seconds,
          extra: { written: r.written, events_sent: r.sent, amplitude_events: await h.amplitudeCount(), pages: r.pages, activity_s: r.activitySeconds.toFixed(1), target_s: 30 },
        };
      } finally {
        await h.close();
      }
    },
  },
  {
    name: 'salesforce-sync-tick',
    description: 'Salesforce 5-minute tick with nothing changed, after an initial sync (lookback re-read only)',
    async run() {
      const h = await harness();
      try {
        await h.runSync();
        const before = await h.amplitudeCount();
        const r = await h.runSync();
        return {
          records: r.read,
          seconds: r.seconds,
          extra: { activity_s: r.activitySeconds.toFixed(3), written: r.written, events_sent: r.sent, new_amplitude_events: (await h.amplitudeCount()) - before, target_activity_s: 1 },
        };
      } finally {
        await h.close();
      }
    },
  },
];

if (process.argv.includes('--emulators')) {
  emulatorChild().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}

export default scenarios;
