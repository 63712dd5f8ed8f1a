import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../workers/workflows-path';
import type { BenchScenario } from '../scenario';
import { buildConfig } from '../../config/config';
import { startBenchDevServer } from '../dev-server';
import { benchBundlerOptions, benchClient } from '../temporal-client';
import { startBigQueryEmulator } from '../../sandbox/bigquery';
import { startAmplitudeEmulator } from '../../sandbox/amplitude';
import { startBackfill } from '../../client/backfill';
import type { BackfillSummary } from '../../ports/backfill';
import { SEGMENT_TABLES } from '../../sandbox/seed/segment-columns';
import { MemoryPeaks, type MemorySample } from '../memory-sampler';

/**
 * The Segment backfill end to end: N physical Segment rows from the BigQuery emulator to the
 * Amplitude emulator (Batch API) and DuckDB, through the real Temporal dev server and a worker in
 * its own process, whose peak RSS is the figure that must stay flat as N grows (100k vs 1M).
 * The rows span one week with day windows. What a step holds is bounded by the page size, so the
 * comparison is like-for-like only when pages are equally full at both sizes: with the platform's
 * default page (5,000 rows) a 100k window (~4,700 rows per table and day) is one nearly full page
 * and a 1M window (~47,000) is nine full pages and a partial one. The 1M load
 * is cached under .data/.
 * BENCH_BACKFILL_PAGE sets the page size (default 5,000); BENCH_DUCKDB_MEMORY overrides the worker's
 * DUCKDB_MEMORY_LIMIT (default: the platform's, 256MB); WORKER_MAX_HEAP_MB the worker's heap cap (same
 * default and same relaunch as `npm run worker`); BENCH_BACKFILL_DAYS (1..7) backfills only the
 * first days of the same data; BENCH_MEMORY_TRACE=<file> appends every memory sample of the worker;
 * BENCH_ALLOCATION_PROFILE=<file> writes where the worker allocated (garbage included; slows it down:
 * for diagnosis, not figures), summarised by `npx tsx bench/tools/allocation-top.ts <file>`;
 * BENCH_WORKER_NODE_ARGS adds node flags NODE_OPTIONS refuses (e.g. `--trace-gc`) and BENCH_WORKER_LOG=<file>
 * keeps the worker's other output (those lines) with a timestamp.
 * BENCH_AMPLITUDE_FAULTS=<percent> makes the Amplitude emulator fail that share of its batch requests
 * (429 and 503 with a 1 s Retry-After, 500/502/504 and dropped connections without), to measure the
 * backfill under a flaky destination with the production retry policy.
 * BENCH_BACKFILL_PARALLEL=<n> (or `npm run bench segment-backfill-100k -- --parallel 1,2,4`, a row per value)
 * reads n windows at once; with DuckDB their reading and sending steps run on the worker's second
 * queue and its warehouse writes are replayed from journals, so `warehouse` includes both. The bench
 * worker runs every lane (BACKFILL_LANES_PER_WORKER defaults to n here); 4 lanes need
 * WORKER_MAX_HEAP_MB=512. The shares are of the time spent in steps, summed over the lanes.
 * The notes split the worker's memory: V8 heap, buffers outside it, and DuckDB (duckdb_memory()).
 */
const FROM = '2024-01-01T00:00:00Z';
const TO = '2024-01-08T00:00:00Z';
const DAY_MS = 86_400_000;

function backfillScenario(name: string, rows: number): BenchScenario {
  const per = Math.round(rows / 3);
  return {
    name,
    description: `backfill of ${rows.toLocaleString('en-US')} Segment rows: BigQuery emulator -> Amplitude emulator + DuckDB, worker in its own process`,
    async run() {
      // A shorter range of the same dataset (e.g. 1 day of the 1M rows) for quick memory experiments.
      const days = Number(process.env.BENCH_BACKFILL_DAYS ?? 7);
      if (!Number.isInteger(days) || days < 1 || days > 7) throw new Error('BENCH_BACKFILL_DAYS is a whole number of days from 1 to 7');
      const parallel = Number(process.env.BENCH_BACKFILL_PARALLEL ?? 1);
      if (!Number.isInteger(parallel) || parallel < 1) throw new Error('BENCH_BACKFILL_PARALLEL is a whole number of windows at once, e.g. 4');
      const faultPercent = Number(process.env.BENCH_AMPLITUDE_FAULTS ?? 0);
      if (!Number.isFinite(faultPercent) || faultPercent < 0 || faultPercent > 100) throw new Error('BENCH_AMPLITUDE_FAULTS is the percentage of Amplitude requests to fail, 0 to 100 (e.g. 16)');
      const root = path.resolve(__dirname, '../..');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-backfill-'));
      const bq = await startBigQueryEmulator({ rowsPerTable: { tracks: rows - 2 * per, identifies: per, pages: per }, from: FROM, to: TO, seed: 42, dataDir: path.join(root, '.data') });
      const amp = await startAmplitudeEmulator({ port: 0 });
      if (faultPercent > 0)
        amp.faults.set({ 'POST /batch': { errorRate: faultPercent / 100, statuses: [429, 500, 502, 503, 504, 'reset'], retryAfterSeconds: 1, retryAfterOn: [429, 503] } });
      const server = await startBenchDevServer({ dbFile: path.join(dir, 'temporal.db') });
      const taskQueue = `bench-backfill-${process.pid}`;
      const bundlePath = path.join(dir, 'workflows.js');
      fs.writeFileSync(bundlePath, (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, ...benchBundlerOptions() })).code);
      // BENCH_WORKER_NODE_ARGS: node flags for the worker that NODE_OPTIONS refuses (e.g. --trace-gc, with BENCH_WORKER_LOG).
      const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
      const worker = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(root, 'bench/backfill-worker.ts')], {
        cwd: root,
        env: { ...process.env, BF_TEMPORAL: server.address, BF_QUEUE: taskQueue, BF_DATA_DIR: dir, BF_BQ_URL: bq.url, BF_BQ_PROJECT: bq.projectId, BF_BQ_DATASET: bq.dataset, BF_AMP_URL: amp.url, BF_BUNDLE: bundlePath, BF_DUCKDB_MEMORY: process.env.BENCH_DUCKDB_MEMORY ?? '' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      // The worker samples its own memory (RSS included) and prints each sample: one sampler, not two.
      const mem = new MemoryPeaks();
      let pending = '';
      worker.stdout!.on('data', (d: Buffer) => {
        const lines = (pending + d.toString()).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          // BENCH_WORKER_LOG=<file>: the worker's other output, e.g. V8's --trace-gc lines (from NODE_OPTIONS), every isolate's heap.
          if (!line.startsWith('mem ')) {
            if (process.env.BENCH_WORKER_LOG) fs.appendFileSync(process.env.BENCH_WORKER_LOG, `${Date.now()} ${line}\n`);
            continue;
          }
          mem.add(JSON.parse(line.slice(4)) as MemorySample);
          // BENCH_MEMORY_TRACE=<file>: every sample, for a plot of memory over the run.
          if (process.env.BENCH_MEMORY_TRACE) fs.appendFileSync(process.env.BENCH_MEMORY_TRACE, `${Date.now()} ${line.slice(4)}\n`);
        }
      });
      try {
        await new Promise<void>((resolve, reject) => {
          worker.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
          worker.once('exit', (code) => reject(new Error(`bench worker exited (${code})`)));
        });
        const connection = await Connection.connect({ address: server.address });
        const client = benchClient(connection, server.address);
        const config = buildConfig({ TEMPORAL_ADDRESS: server.address, TEMPORAL_TASK_QUEUE: taskQueue, DATA_DIR: dir }, dir);
        const t0 = performance.now();
        const { workflowId } = await startBackfill(client, config, {
          from: FROM.slice(0, 10),
          to: new Date(Date.parse(FROM) + (days - 1) * DAY_MS).toISOString().slice(0, 10),
          tables: ['tracks', 'identifies', 'pages'],
          options: { pageSize: Number(process.env.BENCH_BACKFILL_PAGE ?? 5_000) },
          parallel,
        });
        // A worker that dies mid-run (e.g. its heap cap too low) fails the bench instead of leaving it waiting forever.
        const died = new Promise<never>((_, reject) => worker.once('exit', (code, signal) => reject(new Error(`bench worker exited mid-run (${signal ?? code}): see its stderr above`))));
        died.catch(() => undefined); // the normal SIGTERM at the end also ends up here
        const summary = (await Promise.race([client.workflow.getHandle(workflowId).result(), died])) as BackfillSummary;
        const seconds = (performance.now() - t0) / 1000;
        await connection.close();
        worker.kill('SIGTERM');
        await new Promise((r) => (worker.exitCode !== null ? r(undefined) : worker.once('exit', r)));
        const p = summary.progress;
        const rangeEnd = new Date(Date.parse(FROM) + days * DAY_MS).toISOString();
        const expected = days === 7 ? bq.expected.totalDistinct() : SEGMENT_TABLES.reduce((n, t) => n + bq.expected.distinctInWindow(t, FROM, rangeEnd), 0);
        if (p.rowsRead !== expected) throw new Error(`read ${p.rowsRead} distinct rows, expected ${expected}`);
        if (amp.store.count() !== p.sent) throw new Error(`Amplitude holds ${amp.store.count()} events, the backfill says it sent ${p.sent}`);
        const share = (ms: number) => `${Math.round((ms / Math.max(p.activeMs, 1)) * 100)}%`;
        return {
          records: p.rowsRead,
          seconds,
          peakRssMiB: mem.peak.rssMiB,
          extra: {
            parallel,
            physical_rows: rows,
            days,
            amplitude_faults: `${faultPercent}%`,
            faults_injected: amp.faults.injected.get('POST /batch') ?? 0,
            amplitude_requests: amp.faults.timeline().length || amp.store.requests().length,
            page: Number(process.env.BENCH_BACKFILL_PAGE ?? 5_000),
            sent: p.sent,
            written: p.written,
            rejected: p.rejected,
            pages: p.pages,
            bigquery: share(p.bigqueryMs),
            amplitude: share(p.amplitudeMs),
            warehouse: share(p.warehouseMs),
            own_work: share(p.activeMs - p.bigqueryMs - p.amplitudeMs - p.warehouseMs - p.pacedMs),
            heap_used_peak_mib: mem.peak.heapUsedMiB,
            heap_total_peak_mib: mem.peak.heapTotalMiB,
            external_peak_mib: mem.peak.externalMiB,
            duckdb_peak_mib: mem.peak.duckdbMiB,
            at_rss_peak: mem.atRssPeak ? `rss${mem.atRssPeak.rssMiB}/heap${mem.atRssPeak.heapTotalMiB}/ext${mem.atRssPeak.externalMiB}/duckdb${mem.atRssPeak.duckdbMiB}` : '?',
            duckdb_tags_at_rss_peak: Object.entries(mem.atRssPeak?.duckdbTags ?? {}).map(([tag, m]) => `${tag}:${m}`).join(',') || '-',
            duckdb_memory_limit: process.env.BENCH_DUCKDB_MEMORY || 'default (DUCKDB_MEMORY_LIMIT)',
            load: bq.fromCache ? 'cached' : `${bq.loadSeconds.toFixed(0)}s`,
          },
        };
      } finally {
        if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGTERM');
        await new Promise((r) => (worker.exitCode !== null || worker.signalCode !== null ? r(undefined) : worker.once('exit', r)));
        await server.stop();
        await amp.close();
        await bq.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export default [backfillScenario('segment-backfill-100k', 100_000), backfillScenario('segment-backfill-1m', 1_000_000)];
