import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import type { BenchScenario } from '../scenario';
import { amplitudeEmulatorCount, startEmulatorChild, timedSourceSync, type SyncRunFigures } from '../sync-run';

/**
 * The Drift flow at the bench size: the sandbox Drift account at SANDBOX_SCALE 10 (20,000
 * conversations, ~150,000 messages), Temporal dev server, the real workflow bundle and worker, DuckDB
 * in a temp dir, the Amplitude emulator. The emulators run in a child process so the peak RSS reported
 * is the worker's.
 *
 * - drift-sync-initial: the first sync of every Drift stream (contacts, conversations, messages,
 *   meetings), timed from workflow start to result; records = every record read.
 * - drift-sync-tick: after an (untimed) initial sync, a 5-minute tick with nothing changed.
 *
 * Run as a script with `--emulators` it is that child process.
 */

interface EmulatorUrls {
  drift: string;
  amplitude: string;
  messages: number;
  conversations: number;
}

async function emulatorChild(): Promise<void> {
  const { startDriftEmulator } = await import('../../sandbox/drift');
  const { startAmplitudeEmulator } = await import('../../sandbox/amplitude');
  const drift = await startDriftEmulator({ port: 0, scale: 10 });
  const amp = await startAmplitudeEmulator({ port: 0 });
  process.stdout.write(`${JSON.stringify({ drift: drift.url, amplitude: amp.url, messages: drift.store.messageCount(), conversations: drift.store.conversationCount() })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void Promise.all([drift.close(), amp.close()]).then(() => process.exit(0)));
}

interface Harness {
  urls: EmulatorUrls;
  runSync(): Promise<SyncRunFigures>;
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
  const { createWorker } = await import('../../workers/worker');

  const [{ urls, child }, env, bundle] = await Promise.all([startEmulatorChild<EmulatorUrls>(__filename), startDevServer(), bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') })]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-bench-drift-'));
  const config = buildConfig({ TEMPORAL_ADDRESS: env.address, DATA_DIR: dir, LOG_LEVEL: 'error' }, dir);
  config.drift = { ...config.drift, baseUrl: urls.drift };
  config.amplitude.serverUrl = urls.amplitude;
  const deps = await buildDeps(config, createLogger({ level: 'error' }));
  const worker = await createWorker({ config, deps, connection: env.nativeConnection, workflowBundle: bundle });
  const running = worker.run();
  let n = 0;

  return {
    urls,
    runSync: () => timedSourceSync(env.client, config.temporal.taskQueue, 'drift', `bench-drift-${++n}`),
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
    name: 'drift-sync-initial',
    description: 'Drift initial sync of the sandbox account at scale 10 (20k conversations, ~150k messages) to DuckDB + Amplitude emulator through the real workflow',
    async run() {
      const h = await harness();
      try {
        const r = await h.runSync();
        return {
          records: r.read,
          seconds: r.seconds,
          extra: {
            conversations: r.byStream.drift_conversations,
            messages: r.byStream.drift_messages,
            contacts: r.byStream.drift_contacts,
            meetings: r.byStream.drift_meetings,
            drift_api_calls: r.apiCalls,
            events_sent: r.sent,
            amplitude_events: await h.amplitudeCount(),
            pages: r.pages,
          },
        };
      } finally {
        await h.close();
      }
    },
  },
  {
    name: 'drift-sync-tick',
    description: 'Drift 5-minute tick with nothing changed, after an initial sync at scale 10',
    async run() {
      const h = await harness();
      try {
        await h.runSync();
        const before = await h.amplitudeCount();
        const r = await h.runSync();
        return { records: r.read, seconds: r.seconds, extra: { drift_api_calls: r.apiCalls, written: r.written, events_sent: r.sent, new_amplitude_events: (await h.amplitudeCount()) - before } };
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
