import path from 'node:path';
import { loadConfigOrExit } from '../config/config';
import { createLogger } from '../config/logger';
import { defaultTemporalBinary, startDevServer } from '../lib/dev-server';
import { Stack } from '../lib/stack';
import { connectTemporal } from '../lib/temporal';
import { installRuntime } from '../workers/runtime';
import { createBackfillIoWorker, createWorker, openWorkerConnection } from '../workers/worker';
import { buildDeps } from '../workers/deps';
import { startAppMetrics } from '../workers/app-metrics';
import { startSandbox } from '../sandbox/start';
import { ensureSchedules } from './schedules';
import { readyMessage, sandboxBanner } from './banner';
import { startWebhookServer } from '../webhook/start-server';
import { pointSandboxStreamAt } from '../webhook/sandbox-stream';
import { SANDBOX } from '../config/sandbox-endpoints';
import { startConfiguredCodecServer } from './codec-server';

/**
 * `npm start`: the whole platform in the foreground. Starts the sandbox emulators for services
 * without credentials, the Temporal dev server (state in .data/temporal.db), the worker and the
 * schedules; Ctrl-C stops it all in reverse order.
 */
async function main(): Promise<void> {
  const config = await loadConfigOrExit();
  const log = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT });
  const stack = new Stack(log);
  const urls: Record<string, string> = {};
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await stack.stopAll();
    process.exit(code);
  };
  // Ctrl-C reaches every process of the terminal's group, often twice (tsx relays it): the first
  // one drains the worker and stops the rest in order; later ones must not cut that short.
  let worker: Awaited<ReturnType<typeof createWorker>> | undefined;
  let ioWorker: Awaited<ReturnType<typeof createWorker>> | undefined;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    log.info(`${signal}: stopping novade-sync...`);
    if (worker && worker.getState() === 'RUNNING') {
      worker.shutdown();
      if (ioWorker?.getState() === 'RUNNING') ioWorker.shutdown();
    } else void stop(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const banner = sandboxBanner(config);
    if (banner) process.stderr.write(`\n${banner}\n\n`);
    if (config.sandboxed.length > 0) {
      log.info('starting the sandbox emulators...');
      const sandbox = await startSandbox(config, log);
      stack.add({ name: 'sandbox', stop: sandbox.stop });
      Object.assign(urls, sandbox.urls);
    }

    // With payload encryption on, the Web UI shows payloads through the codec server (and the
    // local dev server's UI is pointed at it).
    let codecEndpoint: string | undefined;
    if (config.temporal.codec) {
      const codecServer = await startConfiguredCodecServer(config, log);
      stack.add({ name: 'codec server', stop: codecServer.close });
      codecEndpoint = codecServer.url;
      urls['codec server (Web UI)'] = codecServer.url;
    }

    if (config.temporal.devServer) {
      const port = Number(config.temporal.address.split(':')[1]);
      log.info(`starting the Temporal dev server on :${port} (state in ${path.relative(process.cwd(), config.dataDir)}/temporal.db)...`);
      const server = await startDevServer({
        binary: defaultTemporalBinary(),
        dbFile: path.join(config.dataDir, 'temporal.db'),
        port,
        uiPort: config.temporal.uiPort,
        namespace: config.temporal.namespace,
        uiCodecEndpoint: codecEndpoint,
        log,
      });
      stack.add({ name: 'Temporal dev server', stop: server.stop });
    }

    installRuntime({ log, metricsBind: config.temporal.metricsBind, shutdownSignals: [] });
    const temporal = await connectTemporal(config.temporal);
    stack.add({ name: 'Temporal client', stop: temporal.close });
    const schedules = await ensureSchedules(temporal.client, config);
    log.info(schedules, 'schedules ready');

    const deps = await buildDeps(config, log);
    stack.add({ name: 'warehouse', stop: () => deps.warehouse.close() });
    stack.add({ name: 'platform metrics', stop: await startAppMetrics(config, deps, log) });
    const connection = await openWorkerConnection(config);
    stack.add({ name: 'worker connection', stop: () => connection.close() });
    worker = await createWorker({ config, deps, connection });
    ioWorker = await createBackfillIoWorker({ config, log, connection });
    const webhook = await startWebhookServer({ config, log, client: temporal.client });
    stack.add({ name: 'webhook server', stop: webhook.close });
    urls['Amplitude webhook'] = webhook.amplitudeUrl;
    // analytics-node's `host` is the server's URL; analytics.js's apiHost is host and port plus /v1.
    const keys = config.env.SEGMENT_WRITE_KEYS ? 'keys from SEGMENT_WRITE_KEYS' : config.segment.writeKeys.length ? `sandbox write key ${config.segment.writeKeys[0]}` : 'no write key: every call refused';
    urls['Segment-compatible endpoint'] = `${webhook.segmentUrl} (${keys}; dual tracking ${config.segment.forward.enabled ? `on, to ${config.segment.forward.endpoint}` : 'off'})`;
    if (config.sandboxed.includes('amplitude'))
      await pointSandboxStreamAt({ emulatorUrl: SANDBOX.amplitude.url, webhookUrl: webhook.amplitudeUrl, secretHeader: config.webhook.secretHeader, secret: config.webhook.secret });
    process.stderr.write(`\n${readyMessage(config, urls)}\n\n`);
    // run() resolves once a signal has shut the worker down and it has drained.
    await Promise.all([worker.run(), ioWorker.run()]);
    await stop(0);
  } catch (err) {
    log.error({ err }, err instanceof Error ? err.message : String(err));
    await stop(1);
  }
}

void main();
