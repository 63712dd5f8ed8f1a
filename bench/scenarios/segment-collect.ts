import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { BenchScenario } from '../scenario';
import { ApartLoadGenerator, type Load, type LoadTarget } from '../webhook-load';
import { delta, parsePrometheus } from '../process-probe';

/**
 * Website tracking under load: the real `npm run webhook` and `npm run worker` entry points as child
 * processes, the Temporal dev server, DuckDB in a temp dir, the Amplitude emulator and the Segment
 * emulator (dual tracking on) in a third child process (bench/segment-emulators.ts), so that only the
 * load generator runs here.
 *
 * - Warm-up (counted in the checks, not measured): BENCH_SEGMENT_WARMUP_SECONDS (default 5) at the
 *   main rate on /v1/t, drained. Calls follow the tracking plan. The load is open-loop
 *   (bench/webhook-load.ts): each request leaves when due, its latency counted from then. The
 *   generator runs in a process of its own at real-time priority where the machine allows it
 *   (ApartLoadGenerator, one process for the warm-up and the runs; BENCH_GENERATOR_PRIORITY=normal
 *   keeps it at normal priority).
 * - `/v1/t` (one call each, analytics.js's short route) at BENCH_SEGMENT_RATE requests/s (default
 *   1,000) for BENCH_SEGMENT_SECONDS (default 60); then `/v1/batch`, 10 calls each, at
 *   BENCH_SEGMENT_BATCH_RATE requests/s (default 100: the same 1,000 calls/s) for the same length
 *   (BENCH_SEGMENT_ROUTES=t or batch runs one of them). Every call has its own messageId and anonymousId.
 * - After each run: how long until silver, Amplitude and the Segment forward hold every call
 *   acknowledged so far (measured from the end of the run), so that a run starts on a drained system;
 *   at the end, whether each side holds exactly the acknowledged calls.
 * WEBHOOK_INGEST_*, WORKER_* and DUCKDB_* variables reach the children as they are. BENCH_WORKER_NICE=<n>
 * starts the worker at a lower CPU priority (the webhook and Temporal first on a shared host);
 * BENCH_WORKER_SCHED=idle starts it and the emulators under SCHED_IDLE (`chrt --idle`: they run only on
 * a core nothing else wants), =batch under SCHED_BATCH (their wake-ups never preempt another task), a
 * diagnosis of how much of the tail is their CPU;
 * BENCH_CPU_PROF=<dir> writes V8 CPU profiles of the webhook and the worker. At the end the webhook's
 * own histograms say where an acknowledgement's time went (queue wait, signal round trip, the share of
 * requests over 25/50/100 ms as the webhook saw them, its event-loop delay), and each second whose
 * slowest answer passed 50 ms is listed with the shards that continued as new in it.
 * BENCH_TEMPORAL_ARGS adds `start-dev` flags (e.g. `--metrics-port 9099` for the server's own latencies).
 */

const WRITE_KEY = 'bench-site-write-key';
const FORWARD_KEY = 'bench-forward-write-key';
const num = (name: string, dflt: number) => (process.env[name] ? Number(process.env[name]) : dflt);

/**
 * BENCH_CPU_PROF=<dir>: the webhook and the worker write V8 CPU profiles there when they exit.
 * `nice` > 0 starts the process (every thread of it) at that lower CPU priority.
 */
function spawnEntry(file: string, env: Record<string, string>, opts: { profile?: boolean; nice?: number; sched?: 'idle' | 'batch' } = {}): ChildProcess {
  const prof = opts.profile && process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const args = [...prof, '--import', 'tsx', path.join(__dirname, '../..', file)];
  let [cmd, argv]: [string, string[]] = [process.execPath, args];
  if (opts.nice) [cmd, argv] = ['nice', ['-n', String(opts.nice), cmd, ...argv]];
  if (opts.sched) [cmd, argv] = ['chrt', [`--${opts.sched}`, '0', cmd, ...argv]];
  return spawn(cmd, argv, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
}

function stopChild(child: ChildProcess, graceMs = 30_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
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

/** BENCH_WORKER_SCHED: the scheduling policy of the worker and the emulators (unset: the default one). */
function workerSched(): 'idle' | 'batch' | undefined {
  const sched = process.env.BENCH_WORKER_SCHED || undefined;
  if (sched === undefined || sched === 'idle' || sched === 'batch') return sched;
  throw new Error(`BENCH_WORKER_SCHED is "${sched}": use idle, batch, or leave it unset`);
}

/** A call as analytics.js sends it; the load generator replaces [<id>] per request. */
const call = (suffix: string) => ({
  type: 'track',
  event: 'Demo Requested',
  messageId: `ajs-next-[<id>]${suffix}`,
  anonymousId: `anon-[<id>]${suffix}`,
  timestamp: '2026-11-01T12:00:00.000Z',
  sentAt: '2026-11-01T12:00:00.200Z',
  // As the tracking plan has it (tracking-plan/events/demo-requested.yaml): a site that follows its plan. What off-plan calls cost is the tracking-enforce scenario's.
  properties: { company_size: '51-200', country: 'Vietnam' },
  context: { library: { name: 'analytics.js', version: 'npm:next-1.84.1' }, page: { path: '/demo', url: 'https://www.novade.com/demo', title: 'Book a demo' }, userAgent: 'Mozilla/5.0 (bench)' },
});
const BATCH_CALLS = 10;

/** Count and approximate p50/p99 (the upper bound of the bucket they fall in) of a Prometheus histogram. */
function histogramSummary(exposition: string, name: string, label: string, scale = 1000): string {
  const buckets: { le: number; n: number }[] = [];
  for (const m of exposition.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, 'gm'))) buckets.push({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), n: Number(m[2]) });
  const total = buckets.at(-1)?.n ?? 0;
  const at = (q: number) => buckets.find((b) => b.n >= q * total)?.le ?? NaN;
  const unit = scale === 1000 ? ' ms' : '';
  return `${label} n=${total} p50<=${at(0.5) * scale}${unit} p99<=${at(0.99) * scale}${unit}`;
}

const scenario: BenchScenario = {
  name: 'segment-collect',
  description: 'Segment-compatible endpoint: /v1/batch (10 calls each) and /v1/t at a fixed rate; silver, Amplitude and Segment forward caught up',
  async run() {
    const { Client, Connection } = await import('@temporalio/client');
    const { startBenchDevServer } = await import('../dev-server');
    const { freePort } = await import('../../lib/free-port');
    const { openDuckDBWarehouse } = await import('../../connectors/warehouse');
    const { SANDBOX } = await import('../../config/sandbox-endpoints');
    const { ingestWorkflowId, INGEST_STATUS_QUERY } = await import('../../workflows/push-ingest-names');
    const { deliveryWorkflowId, SEGMENT_DELIVERY_STATUS_QUERY } = await import('../../workflows/segment-delivery-names');
    type IngestStatus = import('../../workflows/push-ingest').IngestStatus;
    type DeliveryStatus = import('../../workflows/segment-delivery').DeliveryStatus;

    // Refused before anything starts, so that a bad value leaves no server behind.
    const sched = workerSched();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-bench-segment-'));
    const server = await startBenchDevServer();
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const [webhookPort, metricsPort, appMetricsPort, amplitudePort, segmentPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    // Every call has its own anonymousId, and the emulator's per-id limit is lifted: Amplitude's throttling is not what this measures.
    const emulators = spawnEntry('bench/segment-emulators.ts', { BENCH_AMPLITUDE_PORT: String(amplitudePort), BENCH_SEGMENT_PORT: String(segmentPort), BENCH_FORWARD_KEY: FORWARD_KEY, LOG_LEVEL: 'warn' }, { sched });
    const amplitude = { url: `http://127.0.0.1:${amplitudePort}` };
    const segment = { url: `http://127.0.0.1:${segmentPort}` };
    const count = async (url: string) => ((await (await fetch(url)).json()) as { count: number }).count;
    await Promise.all([waitFor(`${amplitude.url}/__sandbox/events/count`, 60_000), waitFor(`${segment.url}/__sandbox/messages/count`, 60_000)]);
    const common = {
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_TASK_QUEUE: 'bench-segment',
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
      AMPLITUDE_API_KEY: SANDBOX.amplitude.apiKey,
      AMPLITUDE_SERVER_URL: amplitude.url,
      SEGMENT_WRITE_KEYS: WRITE_KEY,
      SEGMENT_FORWARD: 'on',
      SEGMENT_FORWARD_WRITE_KEY: FORWARD_KEY,
      SEGMENT_FORWARD_ENDPOINT: segment.url,
    };
    const worker = spawnEntry('workers/worker-main.ts', { ...common, WORKER_METRICS_BIND: `127.0.0.1:${metricsPort}`, APP_METRICS_BIND: `127.0.0.1:${appMetricsPort}` }, { profile: true, nice: num('BENCH_WORKER_NICE', 0), sched });
    const webhook = spawnEntry('webhook/server-main.ts', { ...common, WEBHOOK_HOST: '127.0.0.1', WEBHOOK_PORT: String(webhookPort) }, { profile: true });
    const base = `http://127.0.0.1:${webhookPort}`;
    const headers = { 'content-type': 'text/plain', authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` };
    const single: LoadTarget = { url: `${base}/v1/t`, headers, body: JSON.stringify(call('')) };
    const batch: LoadTarget = {
      url: `${base}/v1/batch`,
      headers,
      body: JSON.stringify({ batch: Array.from({ length: BATCH_CALLS }, (_, i) => call(`-${i}`)), sentAt: '2026-11-01T12:00:00.300Z' }),
    };
    const shards = Array.from({ length: num('WEBHOOK_INGEST_SHARDS', 8) }, (_, i) => ingestWorkflowId('segment-ingest', i));
    const query = async <T>(id: string, name: string): Promise<T | undefined> => {
      try {
        return await client.workflow.getHandle(id).query<T>(name);
      } catch {
        return undefined;
      }
    };
    const state = async () => {
      const ingest = { received: 0, pending: 0 };
      for (const id of shards) {
        const s = await query<IngestStatus>(id, INGEST_STATUS_QUERY);
        ingest.received += s?.received ?? 0;
        ingest.pending += s?.pending ?? 0;
      }
      const [amp, fwd] = await Promise.all((['amplitude', 'segment'] as const).map((d) => query<DeliveryStatus>(deliveryWorkflowId('segment-ingest', d), SEGMENT_DELIVERY_STATUS_QUERY)));
      return { ingest, amplitude: amp, segment: fwd };
    };
    /** Until silver has everything acknowledged and both destinations hold every call: seconds taken (each side). */
    const caughtUp = async (acked: number, timeoutMs: number) => {
      const start = performance.now();
      const at: Record<'warehouse' | 'amplitude' | 'segment', number | undefined> = { warehouse: undefined, amplitude: undefined, segment: undefined };
      let shown = 0;
      while (performance.now() - start < timeoutMs) {
        const s = await state();
        const t = (performance.now() - start) / 1000;
        // A slow catch-up shows where it stands every 15 s: shards' pending calls, destinations' pending batches.
        if (t - shown >= 15) {
          shown = t;
          process.stderr.write(
            `  catching up, ${t.toFixed(0)} s: ingest received ${s.ingest.received} of ${acked}, pending ${s.ingest.pending}; Amplitude ${s.amplitude?.calls ?? 0} calls delivered, ${s.amplitude?.pending ?? '-'} batches pending; Segment ${s.segment?.calls ?? 0}, ${s.segment?.pending ?? '-'}\n`,
          );
        }
        if (at.warehouse === undefined && s.ingest.received >= acked && s.ingest.pending === 0) at.warehouse = t;
        // A query can run before a signal already accepted is applied: pending 0 alone could be a batch id still on its way.
        // Every acknowledged call read by a delivery is what says a destination has them all.
        if (at.amplitude === undefined && at.warehouse !== undefined && s.amplitude?.pending === 0 && s.amplitude.calls >= acked) at.amplitude = t;
        if (at.segment === undefined && at.warehouse !== undefined && s.segment?.pending === 0 && s.segment.calls >= acked) at.segment = t;
        if (at.warehouse !== undefined && at.amplitude !== undefined && at.segment !== undefined) break;
        // Each poll queries six workflows; a query on a run out of the worker's cache replays its whole history.
        await new Promise((r) => setTimeout(r, 1_000));
      }
      return at;
    };

    const generator = new ApartLoadGenerator();
    try {
      await waitFor(`${base}/readyz`, 120_000);
      const rate = num('BENCH_SEGMENT_RATE', 1_000);
      // Every process's hot path compiled (V8 optimises a function after thousands of calls) before anything is measured.
      const warm = await generator.run(single, rate, num('BENCH_SEGMENT_WARMUP_SECONDS', 5));
      await caughtUp(warm.ok, 180_000);
      const batchRate = num('BENCH_SEGMENT_BATCH_RATE', 100);
      const seconds = num('BENCH_SEGMENT_SECONDS', 60);
      const routes = (process.env.BENCH_SEGMENT_ROUTES ?? 't,batch').split(',');
      const runs: { route: string; load: Load; calls: number; caughtUp: Awaited<ReturnType<typeof caughtUp>> }[] = [];
      let acked = warm.ok;
      for (const route of routes) {
        const load = await generator.run(route === 'batch' ? batch : single, route === 'batch' ? batchRate : rate, seconds);
        // Epoch seconds of the run, to line it up with per-process CPU samples taken beside the bench.
        process.stderr.write(`  ${route} load from ${(load.startedAt / 1000).toFixed(0)} to ${(Date.now() / 1000).toFixed(0)}\n`);
        const calls = route === 'batch' ? load.ok * BATCH_CALLS : load.ok;
        acked += calls;
        runs.push({ route: route === 'batch' ? '/v1/batch (10 calls)' : '/v1/t', load, calls, caughtUp: await caughtUp(acked, 600_000) });
      }
      const none: Load = { rate, seconds: 0, ok: 0, errors: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, startedAt: 0, timeline: [], sendLag: { p99: NaN, max: NaN } };
      const t = runs.find((r) => r.route === '/v1/t')?.load ?? none;
      const b = runs.find((r) => r.route !== '/v1/t')?.load ?? none;
      // Seconds whose slowest answer passed 50 ms, with the shards that continued as new in them.
      const { readIngestTimeline, attribute } = await import('../ingest-timeline');
      for (const r of runs) {
        const timeline = await readIngestTimeline(client, r.load.startedAt, 'segment');
        const seconds = attribute(timeline, [], r.load.startedAt, r.load.timeline.length);
        const slow = r.load.timeline.flatMap((slot, s) => (slot.maxMs > 50 ? [`s${s} ${slot.maxMs} ms${seconds[s]?.continueAsNew.length ? ` (continue-as-new ${seconds[s].continueAsNew.join(',')})` : ''}`] : []));
        process.stderr.write(`  ${r.route}: ${timeline.runStarts.length} continue-as-new; seconds over 50 ms: ${slow.join('; ') || 'none'}\n`);
      }
      const final = await state();
      // Where an acknowledgement's time went, from the webhook's own histograms (all runs together).
      const exposition = await (await fetch(`${base}/metrics`)).text();
      const scraped = parsePrometheus(exposition);
      const counters = ['closing_refusals', 'admission_waits', 'admission_refusals'].map((c) => `${c} ${delta(new Map(), scraped, `webhook_ingest_${c}_total`)}`);
      process.stderr.write(`  webhook: ${histogramSummary(exposition, 'webhook_ingest_queue_seconds', 'queue wait')}; ${histogramSummary(exposition, 'webhook_ingest_signal_seconds', 'signal round trip')}; ${histogramSummary(exposition, 'webhook_ingest_signal_events', 'calls per signal', 1)}; ${counters.join(', ')}\n`);
      const ms = (seconds: number | undefined) => (seconds === undefined ? '-' : (seconds * 1000).toFixed(1));
      const gc = [...scraped].flatMap(([key, v]) => (key.startsWith('nodejs_gc_duration_seconds_sum{') ? [`${/kind="(\w+)"/.exec(key)?.[1]} ${(v * 1000).toFixed(0)} ms`] : []));
      process.stderr.write(`  webhook event loop: delay p99 ${ms(scraped.get('nodejs_eventloop_lag_p99_seconds'))} ms, max ${ms(scraped.get('nodejs_eventloop_lag_max_seconds'))} ms; GC ${gc.join(', ')}\n`);
      // The webhook's own view of each request (parsed to answered), beside the load generator's.
      const within = (le: string) =>
        [...scraped].reduce((n, [key, v]) => (key.startsWith('webhook_request_duration_seconds_bucket{') && key.includes(`le="${le}"`) && key.includes('route="/v1/') ? n + v : n), 0);
      const served = within('+Inf');
      const over = (le: string) => `${(100 * (1 - within(le) / served)).toFixed(2)} %`;
      process.stderr.write(`  webhook request duration (/v1 routes): ${served} requests, over 25 ms ${over('0.025')}, over 50 ms ${over('0.05')}, over 100 ms ${over('0.1')}\n`);
      await stopChild(webhook);
      await stopChild(worker);

      const wh = await openDuckDBWarehouse({ path: path.join(dir, 'warehouse.duckdb'), readOnly: true });
      const [silver] = await wh.query<{ n: bigint | number; u: bigint | number }>('SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS u FROM silver.segment_live_tracks');
      await wh.close();
      const silverRows = Number(silver.n);
      // Both emulators keep one copy per insert_id / messageId (resends are counted as duplicates, not kept).
      const amplitudeEvents = await count(`${amplitude.url}/__sandbox/events/count`);
      const segmentCalls = await count(`${segment.url}/__sandbox/messages/count`);
      const f = (x: number | undefined) => (x === undefined ? 'not within 600 s' : `${x.toFixed(1)} s`);
      const lines = runs.map(
        (r) =>
          `  ${r.route.padEnd(22)} rate ${r.load.rate}/s for ${r.load.seconds.toFixed(1)} s: ${r.load.ok} answered 200 (${r.calls} calls), p50 ${r.load.p50} ms, p99 ${r.load.p99} ms, max ${r.load.max} ms, errors ${r.load.errors}, generator late p99 ${r.load.sendLag.p99} ms; ` +
          `caught up: warehouse ${f(r.caughtUp.warehouse)}, Amplitude ${f(r.caughtUp.amplitude)}, Segment ${f(r.caughtUp.segment)}`,
      );
      process.stderr.write(
        `\n  segment-collect (load avg ${os.loadavg().slice(0, 2).map((x) => x.toFixed(1)).join('/')})\n${lines.join('\n')}\n` +
          `  load generator: ${generator.description}\n` +
          `  acknowledged ${acked} calls; silver ${silverRows} rows (${Number(silver.u)} distinct ids), Amplitude ${amplitudeEvents} events, Segment forward ${segmentCalls} calls kept\n` +
          `  deliveries ${final.amplitude?.deliveries ?? 0} (Amplitude) / ${final.segment?.deliveries ?? 0} (Segment); calls read ${final.amplitude?.calls ?? 0} / ${final.segment?.calls ?? 0}, missing batches ${final.amplitude?.missing ?? 0} / ${final.segment?.missing ?? 0}, rejected ${final.amplitude?.rejected ?? 0} / ${final.segment?.rejected ?? 0}\n`,
      );
      return {
        records: acked,
        extra: {
          batch_p50_ms: b.p50,
          batch_p99_ms: b.p99,
          batch_errors: b.errors,
          t_p50_ms: t.p50,
          t_p99_ms: t.p99,
          t_errors: t.errors,
          t_generator_late_p99_ms: t.sendLag.p99,
          batch_generator_late_p99_ms: b.sendLag.p99,
          acked_calls: acked,
          silver_rows: silverRows,
          silver_equals_acked: String(silverRows === acked),
          amplitude_events: amplitudeEvents,
          segment_forwarded: segmentCalls,
          ...Object.fromEntries(
            runs.flatMap((r) => {
              const k = r.route === '/v1/t' ? 't' : 'batch';
              return (['warehouse', 'amplitude', 'segment'] as const).map((side) => [`${k}_caught_up_${side}_s`, r.caughtUp[side]?.toFixed(1) ?? 'no']);
            }),
          ),
          load_avg_1m: os.loadavg()[0].toFixed(1),
        },
      };
    } finally {
      await stopChild(webhook);
      await stopChild(worker);
      await stopChild(emulators);
      generator.close();
      await connection.close();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default scenario;
