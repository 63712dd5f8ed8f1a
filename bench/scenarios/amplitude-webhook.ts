import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { BenchScenario } from '../scenario';
import { cpuSeconds, machineBusySeconds, delta, histogramQuantile, scrape, type Scrape } from '../process-probe';
import { runLoad, type Load } from '../webhook-load';
import { attribute, compareStalls, readIngestTimeline } from '../ingest-timeline';
import { watchWal } from '../tools/wal-watch';
import { benchClient } from '../temporal-client';

/**
 * The Amplitude webhook under open-loop load (bench/webhook-load.ts): the real `npm run webhook` and `npm run worker` entry points
 * as child processes (each with its own event loop, as deployed), the Temporal dev server, DuckDB in a
 * temp dir. One export event per request, each with its own uuid, like Amplitude's streaming.
 *
 * - Warm-up (not measured, but counted in the silver check): 3 s at 100/s, until the worker has flushed
 *   them, then BENCH_WEBHOOK_WARMUP_SECONDS (default 5, 0 for none) at the main rate.
 * - Main run: BENCH_WEBHOOK_RATE requests/s (default 1,000) for BENCH_WEBHOOK_SECONDS (default 60).
 * - Then the highest sustained rate (p99 under 100 ms, no error, at least 95 % of the asked rate
 *   answered), BENCH_WEBHOOK_STEP_SECONDS each (default 10): if the main rate held, up through
 *   BENCH_WEBHOOK_STEPS (default 1500,2000,3000,4000) to the first that does not; otherwise down through
 *   BENCH_WEBHOOK_STEPS_DOWN (default 750,500,250,100) to the first that does. `none` skips either.
 * - Afterwards, once the ingest workflows have flushed everything and the worker has stopped, the
 *   silver row count, which must equal the number of acknowledged requests.
 *
 * Each run prints a row (stderr): latency, throughput, errors, signals and their round trip, the time
 * requests waited for their shard, and CPU per request of each process (webhook, worker, Temporal dev
 * server, the load generator itself), the "workflow is closing" refusals (each rerouted to another shard),
 * plus the seconds whose slowest answer passed 100 ms with what
 * each process burnt in that second.
 *
 * The dev server keeps its state in memory unless BENCH_WEBHOOK_DB=file (SQLite file in the temp dir;
 * BENCH_WEBHOOK_SQLITE_PRAGMAS, e.g. `journal_mode=wal,synchronous=normal`, applies to it).
 * BENCH_WEBHOOK_DEV_SERVER_ARGS adds raw flags (e.g. `--dynamic-config-value K=V`).
 * BENCH_WEBHOOK_PROFILE_DIR writes V8 CPU profiles of the webhook and the worker there.
 * WEBHOOK_INGEST_*, WORKER_* and DUCKDB_* variables reach the children as they are.
 * BENCH_WEBHOOK_WORKER_NICE (e.g. 10) runs the worker at a lower CPU priority: a diagnosis of how much
 * of the latency is the worker's CPU competing with the acknowledgement path on shared cores.
 * BENCH_WEBHOOK_WORKER_OFF=1 stops the worker after the warm-up and starts it again after the timed
 * runs: they then measure the acknowledgement path alone (webhook, dev server, load generator), and the
 * restarted worker still has to bring every acknowledged event to silver (a diagnosis, not the figure).
 */

const SECRET = 'bench-webhook-secret';
const HEADER = 'x-novade-webhook-secret';
const num = (name: string, dflt: number) => (process.env[name] ? Number(process.env[name]) : dflt);

/** `nice` > 0 starts the process at a lower CPU priority (nice(1) execs it, so the pid is the process's own). */
function spawnEntry(file: string, env: Record<string, string>, nodeFlags: string[] = [], nice = 0): ChildProcess {
  const args = [...nodeFlags, '--import', 'tsx', path.join(__dirname, '../..', file)];
  const opts = { stdio: ['ignore', 'inherit', 'inherit'] as ('ignore' | 'inherit')[], env: { ...process.env, ...env } };
  return nice > 0 ? spawn('nice', ['-n', String(nice), process.execPath, ...args], opts) : spawn(process.execPath, args, opts);
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

/**
 * SIGTERM, then SIGKILL after `graceMs`: a worker whose graceful shutdown hung once held the shared
 * CPU lock for 20 minutes. Everything acknowledged is in silver before this is called.
 */
function stopChild(child: ChildProcess, graceMs = 30_000): Promise<void> {
  return new Promise((resolve) => {
    // A child ended by a signal keeps exitCode null: signalCode tells it is gone.
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      process.stderr.write(`  pid ${child.pid} still running ${graceMs} ms after SIGTERM: SIGKILL\n`);
      child.kill('SIGKILL');
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
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

type Proc = 'webhook' | 'worker' | 'server' | 'loadgen';
/** Per process, plus `others`: what the rest of the machine (other users' work) burnt meanwhile. */
type Cpu = Record<Proc | 'others', number>;

interface Row {
  load: Load;
  cpu: Cpu;
  webhook: { before: Scrape; after: Scrape };
  worker: { before: Scrape; after: Scrape };
  stalls: string[];
  /** The seconds of `stalls`, since the run's start. */
  stalledSeconds: Set<number>;
  loadAvg: string;
}

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

function rowCells(r: Row): string[] {
  const { load: l, cpu } = r;
  const w = (name: string) => delta(r.webhook.before, r.webhook.after, name);
  const signals = w('webhook_ingest_signal_seconds_count');
  const q = (name: string, p: number) => 1000 * histogramQuantile(r.webhook.before, r.webhook.after, name, p);
  const wfts = delta(r.worker.before, r.worker.after, 'temporal_workflow_task_execution_latency_count');
  const per = (p: Proc) => fmt((1000 * cpu[p]) / Math.max(l.ok, 1), 2);
  return [
    String(l.rate),
    String(Math.round(l.ok / l.seconds)),
    String(l.p50),
    String(l.p99),
    String(l.max),
    String(l.errors),
    String(l.sendLag.p99),
    String(Math.round(signals)),
    fmt(w('webhook_ingest_signal_events_sum') / signals),
    fmt(q('webhook_ingest_signal_seconds', 0.5)),
    fmt(q('webhook_ingest_signal_seconds', 0.99)),
    fmt(q('webhook_ingest_queue_seconds', 0.99)),
    fmt(q('webhook_request_duration_seconds', 0.99)),
    fmt(1000 * (w('webhook_request_duration_seconds_sum') / w('webhook_request_duration_seconds_count'))),
    String(Math.round(wfts)),
    String(Math.round(w('webhook_ingest_closing_refusals_total'))),
    per('webhook'),
    per('worker'),
    per('server'),
    per('loadgen'),
    fmt((cpu.webhook + cpu.worker + cpu.server + cpu.loadgen) / l.seconds, 2),
    fmt(cpu.others / l.seconds, 2),
    r.loadAvg,
  ];
}

const HEADERS = ['rate', 'rps', 'p50', 'p99', 'max', 'err', 'late p99', 'signals', 'ev/sig', 'sig p50', 'sig p99', 'queue p99', 'srv p99', 'srv mean', 'WFTs', 'closing', 'cpu webhook', 'cpu worker', 'cpu server', 'cpu loadgen', 'cores', 'others', 'load 1/5'];

function table(rows: Row[]): string {
  const body = rows.map(rowCells);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i])).join(' | ')} |`;
  return [line(HEADERS), `|${widths.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/**
 * The main run's seconds with what the worker's periodic work did in each (from the ingest histories
 * and the WAL): every stalled second in detail, then the means over stalled and other seconds.
 */
async function printAttribution(client: import('@temporalio/client').Client, main: Row, checkpoints: { at: number; walBytes: number }[]): Promise<void> {
  const { load } = main;
  const end = load.startedAt + 1000 * load.timeline.length;
  // The worker's own checkpoint at close (after the drain) is not part of the run.
  checkpoints = checkpoints.filter((c) => c.at >= load.startedAt && c.at < end);
  const timeline = await readIngestTimeline(client, load.startedAt);
  const seconds = attribute(timeline, checkpoints, load.startedAt, load.timeline.length);
  const stalled = main.stalledSeconds;
  const describe = (s: number) => {
    const a = seconds[s];
    return `s${s}: max ${load.timeline[s]?.maxMs ?? '-'} ms; flushes ${a.flushes} (busy ${a.flushBusyMs} ms, longest ${a.longestFlushMs} ms)${a.checkpoint ? '; CHECKPOINT' : ''}${a.continueAsNew.length ? `; continue-as-new shard ${a.continueAsNew.join(',')}` : ''}`;
  };
  const lines = [...stalled].sort((a, b) => a - b).filter((s) => s < seconds.length).map((s) => `    ${describe(s)}`);
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
  const cmp = (label: string, pick: (a: (typeof seconds)[number]) => number) => {
    const c = compareStalls(seconds, stalled, pick);
    return `${label} ${f(c.stalled)} vs ${f(c.other)}`;
  };
  const flushMs = timeline.flushes.filter((x) => x.start >= load.startedAt && x.start < end).map((x) => x.end - x.start).sort((a, b) => a - b);
  const q = (p: number) => flushMs[Math.min(flushMs.length - 1, Math.floor(p * flushMs.length))] ?? NaN;
  process.stderr.write(
    `  main run, per stalled second (> 100 ms): the flush activities running, DuckDB checkpoints (WAL shrank), continue-as-new\n${lines.join('\n')}\n` +
      `  stalled ${stalled.size} of ${seconds.length} s; stalled vs other seconds: ${cmp('flush busy ms', (a) => a.flushBusyMs)}, ${cmp('longest flush ms', (a) => a.longestFlushMs)}, ` +
      `${cmp('with checkpoint', (a) => (a.checkpoint ? 1 : 0))}, ${cmp('with continue-as-new', (a) => (a.continueAsNew.length ? 1 : 0))}\n` +
      `  flushes ${flushMs.length}, duration p50 ${f(q(0.5))} / p90 ${f(q(0.9))} / max ${f(flushMs.at(-1) ?? NaN)} ms; checkpoints ${checkpoints.length} (WAL before each: ${checkpoints.map((c) => `${(c.walBytes / 2 ** 20).toFixed(0)} MiB`).join(', ') || 'none'})\n`,
  );
}

const scenario: BenchScenario = {
  name: 'amplitude-webhook',
  description: 'Amplitude webhook at a fixed rate (one event per request), then a ramp; silver count afterwards',
  async run() {
    const { Connection } = await import('@temporalio/client');
    const { startBenchDevServer } = await import('../dev-server');
    const { freePort } = await import('../../lib/free-port');
    const { ingestStatus } = await import('../../tests/helpers/amplitude-webhook');
    const { openDuckDBWarehouse } = await import('../../connectors/warehouse');
    const { ingestWorkflowId } = await import('../../workflows/amplitude-ingest-names');

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-bench-webhook-'));
    const inFile = process.env.BENCH_WEBHOOK_DB === 'file';
    const pragmas = (process.env.BENCH_WEBHOOK_SQLITE_PRAGMAS ?? '').split(',').filter(Boolean);
    const server = await startBenchDevServer({
      dbFile: inFile ? path.join(dir, 'temporal.db') : undefined,
      extraArgs: [...pragmas.flatMap((p) => ['--sqlite-pragma', p]), ...(process.env.BENCH_WEBHOOK_DEV_SERVER_ARGS ?? '').split(' ').filter(Boolean)],
    });
    // The dev server's own log, to line its warnings up with stalls.
    if (process.env.BENCH_WEBHOOK_SERVER_LOG) {
      const out = fs.createWriteStream(process.env.BENCH_WEBHOOK_SERVER_LOG);
      server.process.stdout?.on('data', (d: Buffer) => out.write(d));
      server.process.stderr?.on('data', (d: Buffer) => out.write(d));
    }
    // The attribution reads whole ingest histories back, which outgrow gRPC's default 4 MB message at the ramp's higher rates.
    const connection = await Connection.connect({ address: server.address, channelArgs: { 'grpc.max_receive_message_length': 64 * 2 ** 20 } });
    const client = benchClient(connection, server.address);
    const [webhookPort, metricsPort, appMetricsPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const common = { TEMPORAL_ADDRESS: server.address, TEMPORAL_TASK_QUEUE: 'bench-webhook', DATA_DIR: dir, LOG_LEVEL: 'warn', WEBHOOK_SECRET: SECRET, WEBHOOK_SECRET_HEADER: HEADER };
    const profileDir = process.env.BENCH_WEBHOOK_PROFILE_DIR;
    const profile = (name: string) => (profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, name)}`] : []);
    const startWorker = () => spawnEntry('workers/worker-main.ts', { ...common, WORKER_METRICS_BIND: `127.0.0.1:${metricsPort}`, APP_METRICS_BIND: `127.0.0.1:${appMetricsPort}` }, profile('worker'), num('BENCH_WEBHOOK_WORKER_NICE', 0));
    let worker = startWorker();
    const workerOff = process.env.BENCH_WEBHOOK_WORKER_OFF === '1';
    const webhook = spawnEntry('webhook/server-main.ts', { ...common, WEBHOOK_HOST: '127.0.0.1', WEBHOOK_PORT: String(webhookPort) }, profile('webhook'));
    const base = `http://127.0.0.1:${webhookPort}`;
    const wal = watchWal(path.join(dir, 'warehouse.duckdb'));
    const target = { url: `${base}/amplitude`, headers: { 'content-type': 'application/json', [HEADER]: SECRET }, body: BODY };
    const procs: Proc[] = ['webhook', 'worker', 'server', 'loadgen'];
    const cpuNow = (): Cpu => {
      const own: Record<Proc, number> = { webhook: cpuSeconds(webhook.pid), worker: workerOff ? 0 : cpuSeconds(worker.pid), server: cpuSeconds(server.process.pid), loadgen: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 };
      return { ...own, others: machineBusySeconds() - procs.reduce((n, p) => n + own[p], 0) };
    };

    /** One load run, measured: CPU per process, the webhook's and worker's metrics before and after, stall seconds. */
    const measured = async (rate: number, seconds: number): Promise<Row> => {
      const appMetrics = `http://127.0.0.1:${appMetricsPort}/metrics`;
      const [wb, kb, ab] = await Promise.all([scrape(`${base}/metrics`), scrape(`http://127.0.0.1:${metricsPort}/metrics`), scrape(appMetrics)]);
      const samples: Cpu[] = [];
      const before = cpuNow();
      const l = await runLoad(target, rate, seconds, () => samples.push(cpuNow()));
      const after = cpuNow();
      const [wa, ka, aa] = await Promise.all([scrape(`${base}/metrics`), scrape(`http://127.0.0.1:${metricsPort}/metrics`), scrape(appMetrics)]);
      // Where the flush activities' time went, stage by stage (sum over the run, mean and p99 per flush).
      const stage = (name: string) => {
        const sel = (m: Scrape) => new Map([...m].filter(([k]) => k.includes(`stage="${name}"`)));
        const [b, a] = [sel(ab), sel(aa)];
        const n = delta(b, a, 'novade_amplitude_flush_stage_seconds_count');
        const sum = delta(b, a, 'novade_amplitude_flush_stage_seconds_sum');
        return `${name} ${n} x, ${fmt(sum, 1)} s, mean ${fmt((1000 * sum) / n, 0)} ms, p99 ${fmt(1000 * histogramQuantile(b, a, 'novade_amplitude_flush_stage_seconds', 0.99), 0)} ms`;
      };
      process.stderr.write(`  flush stages: ${['check', 'bronze', 'silver', 'dead_letters'].map(stage).join('; ')}\n`);
      if (process.env.BENCH_WEBHOOK_DUMP_METRICS)
        fs.writeFileSync(process.env.BENCH_WEBHOOK_DUMP_METRICS, [...procs.slice(0, 2)].map((p, i) => `# ${p}\n${[...(i === 0 ? wa : ka)].map(([k, v]) => `${k} ${v - ((i === 0 ? wb : kb).get(k) ?? 0)}`).join('\n')}`).join('\n'));
      const cpu = Object.fromEntries([...procs, 'others'].map((p) => [p, after[p as Proc] - before[p as Proc]])) as Cpu;
      const stalls: string[] = [];
      const stalledSeconds = new Set<number>();
      l.timeline.forEach((slot, s) => {
        if (!slot || slot.maxMs < 100) return;
        stalledSeconds.add(s);
        if (!samples[s + 1]) return;
        const burnt = [...procs, 'others' as const].map((p) => `${p} ${Math.round(100 * (samples[s + 1][p] - samples[s][p]))}%`).join(' ');
        stalls.push(`s${s}: ${slot.answers} answers, max ${slot.maxMs} ms; cpu ${burnt}`);
      });
      const row: Row = { load: l, cpu, webhook: { before: wb, after: wa }, worker: { before: kb, after: ka }, stalls, stalledSeconds, loadAvg: os.loadavg().slice(0, 2).map((x) => x.toFixed(1)).join('/') };
      process.stderr.write(`${table([row])}\n${stalls.map((s) => `    stall ${s}`).join('\n')}${stalls.length ? '\n' : ''}`);
      return row;
    };

    try {
      await waitFor(`${base}/readyz`, 60_000);
      // Warm-up, as a deployed webhook and worker would be before traffic arrives: start the ingest
      // workflows, wait until the worker (which bundles the workflows for seconds of CPU) has flushed
      // them, then a few seconds at the main rate so the JIT has compiled the request path. Without
      // it, the worker's start-up fell into the first seconds of the main run and set its p99.
      const ids = Array.from({ length: num('WEBHOOK_INGEST_SHARDS', 8) }, (_, i) => ingestWorkflowId('amplitude-ingest', i));
      const drained = async (timeoutMs: number) => {
        const start = performance.now();
        let status = await ingestStatus(client, ids);
        while (status.pending > 0 && performance.now() - start < timeoutMs) {
          await new Promise((r) => setTimeout(r, 500));
          status = await ingestStatus(client, ids);
        }
        return { status, seconds: (performance.now() - start) / 1000 };
      };
      const warm = await runLoad(target, 100, 3);
      await drained(120_000);
      if (workerOff) await stopChild(worker);
      const warmSeconds = num('BENCH_WEBHOOK_WARMUP_SECONDS', 5);
      const rate = num('BENCH_WEBHOOK_RATE', 1_000);
      const hot = warmSeconds > 0 ? await runLoad(target, rate, warmSeconds) : undefined;
      const mainStartedAt = Date.now();
      const main = await measured(rate, num('BENCH_WEBHOOK_SECONDS', 60));
      const rows = [main];
      // With a fixed amount of requests, a rate not kept shows as a longer run.
      const sustained = (l: Load) => l.p99 < 100 && l.errors === 0 && l.ok / l.seconds >= 0.95 * l.rate;
      const list = (name: string, dflt: string) => ((process.env[name] ?? dflt) === 'none' ? [] : (process.env[name] ?? dflt).split(',').map(Number));
      let maxRate = sustained(main.load) ? main.load.rate : 0;
      // Up from the main rate while it holds; if the main rate did not hold, down until one does.
      const goingUp = maxRate > 0;
      for (const rate of goingUp ? list('BENCH_WEBHOOK_STEPS', '1500,2000,3000,4000') : list('BENCH_WEBHOOK_STEPS_DOWN', '750,500,250,100')) {
        const step = await measured(rate, num('BENCH_WEBHOOK_STEP_SECONDS', 10));
        rows.push(step);
        const held = sustained(step.load);
        if (held) maxRate = Math.max(maxRate, rate);
        if (goingUp !== held) break;
      }
      const acked = warm.ok + (hot?.ok ?? 0) + rows.reduce((n, r) => n + r.load.ok, 0);
      // When each ingest run began (continue-as-new), in seconds since the main run's start, to line up with stalls.
      const runStarts: string[] = [];
      for await (const wf of client.workflow.list({ query: `WorkflowType = 'amplitudeIngestWorkflow'` }))
        runStarts.push(`${wf.workflowId.replace('amplitude-ingest-', 'shard ')} s${Math.floor((wf.startTime.getTime() - mainStartedAt) / 1000)}`);
      process.stderr.write(`  ingest runs started (continue-as-new): ${runStarts.reverse().join(', ')}\n`);
      // With the worker off, the histories hold every signal: nothing to line up.
      if (!workerOff) await printAttribution(client, main, wal.checkpoints());

      if (workerOff) worker = startWorker();
      // Everything acknowledged must reach silver: wait for the shards to drain, then stop the worker.
      const { status, seconds: drainSeconds } = await drained(300_000);
      await stopChild(webhook);
      await stopChild(worker);
      const wh = await openDuckDBWarehouse({ path: path.join(dir, 'warehouse.duckdb'), readOnly: true });
      const [counts] = await wh.query<{ n: bigint | number; u: bigint | number }>('SELECT COUNT(*) AS n, COUNT(DISTINCT uuid) AS u FROM silver.amplitude_events');
      await wh.close();
      // Every run's events (warm-up and ramp included) are in silver: compare with every acknowledgement.
      const silver = Number(counts.n);
      process.stderr.write(
        `\n  amplitude-webhook, dev server state in ${inFile ? `a SQLite file${pragmas.length ? ` (${pragmas.join(', ')})` : ''}` : 'memory'}; latencies in ms, cpu in ms per request\n${table(rows)}\n` +
          `  acknowledged ${acked}, received by Temporal ${status.received}, silver ${silver} rows (${Number(counts.u)} distinct uuids): ${silver === acked ? 'silver = acknowledged' : 'MISMATCH'}; ` +
          `highest rate with p99 < 100 ms: ${maxRate || 'none of those tried'}\n`,
      );
      const m = main.load;
      return {
        records: m.ok,
        seconds: m.seconds,
        extra: {
          rate_asked: m.rate,
          throughput_rps: Math.round(m.ok / m.seconds),
          p50_ms: m.p50,
          p99_ms: m.p99,
          errors: m.errors,
          acked_total: acked,
          received_by_temporal: status.received,
          silver_rows: silver,
          silver_distinct_uuid: Number(counts.u),
          silver_equals_acked: String(silver === acked),
          drain_s: drainSeconds.toFixed(1),
          max_rate_p99_under_100ms: maxRate,
          dev_server_db: inFile ? 'file' : 'memory',
          load_avg_1m: os.loadavg()[0].toFixed(1),
        },
      };
    } finally {
      wal.stop();
      await stopChild(webhook);
      await stopChild(worker);
      await connection.close();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default scenario;
