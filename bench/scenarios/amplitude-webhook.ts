import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import type { BenchScenario } from '../scenario';

/**
 * The Amplitude webhook under autocannon: the real `npm run webhook` and `npm run worker` entry points
 * as child processes (each with its own event loop, as deployed), the Temporal dev server, DuckDB in a
 * temp dir. One export event per request, each with its own uuid, like Amplitude's streaming.
 *
 * - Main run: BENCH_WEBHOOK_RATE requests/s (default 1,000) for BENCH_WEBHOOK_SECONDS (default 60):
 *   p50/p99 acknowledgement latency, throughput, errors.
 * - Then the highest sustained rate (p99 under 100 ms, no error, at least 95 % of the asked rate
 *   answered), BENCH_WEBHOOK_STEP_SECONDS each (default 10): if the main rate held, up through
 *   BENCH_WEBHOOK_STEPS (default 1500,2000,3000,4000) to the first that does not; otherwise down through
 *   BENCH_WEBHOOK_STEPS_DOWN (default 750,500,250,100) to the first that does. `none` skips either.
 * - Afterwards, once the ingest workflows have flushed everything and the worker has stopped, the
 *   silver row count, which must equal the number of acknowledged requests.
 */

const SECRET = 'bench-webhook-secret';
const HEADER = 'x-novade-webhook-secret';
const num = (name: string, dflt: number) => (process.env[name] ? Number(process.env[name]) : dflt);

function spawnEntry(file: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../..', file)], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
}

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** CPU seconds a child has used so far (Linux /proc), to tell where the machine's time went. */
function cpuSeconds(child: ChildProcess): number {
  try {
    const fields = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const BODY = JSON.stringify({
  uuid: '[<id>]',
  $insert_id: 'bench-[<id>]',
  event_type: 'Form Submitted',
  user_id: 'inspector@novade.net',
  device_id: 'device-0001',
  amplitude_id: 123456789,
  session_id: 1700000000000,
  event_time: '2026-11-01 12:00:00.000',
  server_upload_time: '2026-11-01 12:00:01.000',
  event_properties: { form: 'Daily Site Diary', project_id: 42 },
  user_properties: { plan: 'enterprise' },
  platform: 'iOS',
  country: 'Singapore',
});

interface Load {
  rate: number;
  seconds: number;
  ok: number;
  errors: number;
  p50: number;
  p99: number;
}

async function load(url: string, rate: number, seconds: number): Promise<Load> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', [HEADER]: SECRET },
    body: BODY,
    idReplacement: true,
    // Enough connections that a slow answer never caps the asked rate.
    connections: Math.max(20, Math.ceil(rate / 10)),
    overallRate: rate,
    // A fixed amount rather than a duration: every request sent gets its answer, so the acknowledged
    // count is exact (a duration cuts requests off mid-flight, durable but never counted).
    amount: Math.round(rate * seconds),
    timeout: 10,
  });
  return { rate, seconds: result.duration, ok: result['2xx'], errors: result.non2xx + result.errors + result.timeouts, p50: result.latency.p50, p99: result.latency.p99 };
}

const scenario: BenchScenario = {
  name: 'amplitude-webhook',
  description: 'Amplitude webhook at a fixed rate (one event per request), then a ramp; silver count afterwards',
  async run() {
    const { DefaultLogger, Runtime } = await import('@temporalio/worker');
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    const { startDevServer } = await import('../../tests/helpers/temporal');
    const { freePort } = await import('../../tests/helpers/ports');
    const { ingestStatus } = await import('../../tests/helpers/amplitude-webhook');
    const { openDuckDBWarehouse } = await import('../../connectors/warehouse');
    const { ingestWorkflowId } = await import('../../workflows/amplitude-ingest-names');

    const env = await startDevServer();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-bench-webhook-'));
    const [webhookPort, metricsPort] = await Promise.all([freePort(), freePort()]);
    const common = { TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: 'bench-webhook', DATA_DIR: dir, LOG_LEVEL: 'warn', WEBHOOK_SECRET: SECRET, WEBHOOK_SECRET_HEADER: HEADER };
    const worker = spawnEntry('workers/worker-main.ts', { ...common, WORKER_METRICS_BIND: `127.0.0.1:${metricsPort}` });
    const webhook = spawnEntry('webhook/server-main.ts', { ...common, WEBHOOK_HOST: '127.0.0.1', WEBHOOK_PORT: String(webhookPort) });
    const base = `http://127.0.0.1:${webhookPort}`;
    try {
      await waitFor(`${base}/readyz`, 60_000);
      // Warm-up: start the ingest workflows and let the worker bundle and open DuckDB.
      const warm = await load(`${base}/amplitude`, 100, 3);

      const cpuBefore = { worker: cpuSeconds(worker), webhook: cpuSeconds(webhook) };
      const main = await load(`${base}/amplitude`, num('BENCH_WEBHOOK_RATE', 1_000), num('BENCH_WEBHOOK_SECONDS', 60));
      const cpuMain = { worker: cpuSeconds(worker) - cpuBefore.worker, webhook: cpuSeconds(webhook) - cpuBefore.webhook };
      process.stderr.write(`  main: ${JSON.stringify({ ...main, cpuMain })}\n`);
      // With a fixed amount of requests, a rate not kept shows as a longer run.
      const sustained = (l: Load) => l.p99 < 100 && l.errors === 0 && l.ok / l.seconds >= 0.95 * l.rate;
      const list = (name: string, dflt: string) => ((process.env[name] ?? dflt) === 'none' ? [] : (process.env[name] ?? dflt).split(',').map(Number));
      let acked = warm.ok + main.ok;
      let maxRate = sustained(main) ? main.rate : 0;
      // Up from the main rate while it holds; if the main rate did not hold, down until one does.
      const goingUp = maxRate > 0;
      for (const rate of goingUp ? list('BENCH_WEBHOOK_STEPS', '1500,2000,3000,4000') : list('BENCH_WEBHOOK_STEPS_DOWN', '750,500,250,100')) {
        const step = await load(`${base}/amplitude`, rate, num('BENCH_WEBHOOK_STEP_SECONDS', 10));
        acked += step.ok;
        process.stderr.write(`  step: ${JSON.stringify(step)}\n`);
        const held = sustained(step);
        if (held) maxRate = Math.max(maxRate, rate);
        if (goingUp !== held) break;
      }

      // Everything acknowledged must reach silver: wait for the shards to drain, then stop the worker.
      const ids = Array.from({ length: num('WEBHOOK_INGEST_SHARDS', 4) }, (_, i) => ingestWorkflowId('amplitude-ingest', i));
      const drainStart = performance.now();
      let status = await ingestStatus(env.client, ids);
      while (status.pending > 0 && performance.now() - drainStart < 300_000) {
        await new Promise((r) => setTimeout(r, 500));
        status = await ingestStatus(env.client, ids);
      }
      const drainSeconds = (performance.now() - drainStart) / 1000;
      const scraped = await (await fetch(`${base}/metrics`)).text();
      const metric = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(scraped)?.[1] ?? NaN);
      const signals = metric('webhook_ingest_signal_seconds_count');
      await stopChild(webhook);
      await stopChild(worker);
      const wh = await openDuckDBWarehouse({ path: path.join(dir, 'warehouse.duckdb'), readOnly: true });
      const [counts] = await wh.query<{ n: bigint | number; u: bigint | number }>('SELECT COUNT(*) AS n, COUNT(DISTINCT uuid) AS u FROM silver.amplitude_events');
      await wh.close();
      // Every run's events (warm-up and ramp included) are in silver: compare with every acknowledgement.
      const silver = Number(counts.n);
      return {
        records: main.ok,
        seconds: main.seconds,
        extra: {
          rate_asked: main.rate,
          throughput_rps: Math.round(main.ok / main.seconds),
          p50_ms: main.p50,
          p99_ms: main.p99,
          errors: main.errors,
          acked_total: acked,
          received_by_temporal: status.received,
          silver_rows: silver,
          silver_distinct_uuid: Number(counts.u),
          silver_equals_acked: String(silver === acked),
          drain_s: drainSeconds.toFixed(1),
          signals,
          events_per_signal: (metric('webhook_ingest_signal_events_sum') / signals).toFixed(1),
          signal_ms_mean: ((1000 * metric('webhook_ingest_signal_seconds_sum')) / signals).toFixed(1),
          max_rate_p99_under_100ms: maxRate,
          webhook_cpu_ms_per_req: ((1000 * cpuMain.webhook) / main.ok).toFixed(2),
          worker_cpu_ms_per_event: ((1000 * cpuMain.worker) / main.ok).toFixed(2),
          load_avg_1m: os.loadavg()[0].toFixed(1),
        },
      };
    } finally {
      await stopChild(webhook);
      await stopChild(worker);
      await env.teardown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default scenario;
