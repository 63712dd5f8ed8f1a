import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { logger, type Logger } from '../../config/logger';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { SEGMENT_SEED_DEFAULTS, segmentTableSizes, type SegmentSeedOptions } from '../seed/segment';
import type { SegmentTable } from '../seed/segment-columns';
import { segmentExpectations, type SegmentExpectations } from './expectations';
import { loadSegmentTables } from './loader';

/**
 * goccy/bigquery-emulator as a child process holding a generated Segment warehouse dataset
 * (tracks, identifies, pages). Point @google-cloud/bigquery at `url` with `apiEndpoint`.
 *
 * Loading runs at ~4,800 rows/s (the emulator inserts row by row), so with `dataDir` the loaded
 * SQLite database is cached per (seed, sizes, range, emulator binary) and later starts copy it in
 * seconds. Each run works on its own copy: the emulator writes every query's result into its
 * database, and a shared cache would grow and drift with each run.
 */
export interface StartBigQueryEmulatorOptions {
  /** REST port; 0 (default) lets the emulator pick a free one. */
  port?: number;
  /** gRPC (Storage Read API) port; 0 (default) picks a free one. */
  grpcPort?: number;
  projectId?: string;
  dataset?: string;
  /** Physical rows per table, duplicates included; default 2,000. */
  rowsPerTable?: number | Partial<Record<SegmentTable, number>>;
  seed?: number;
  /** Event time range of the generated rows, ISO-8601; default 2022-01-01 .. 2025-01-01. */
  from?: string;
  to?: string;
  /** Directory for the loaded-database cache (e.g. `.data`); unset loads every time. */
  dataDir?: string;
  /** The emulator binary; default $BIGQUERY_EMULATOR_BIN or .tools/bin/bigquery-emulator. */
  binary?: string;
  startTimeoutMs?: number;
  log?: Logger;
}

export interface BigQueryEmulator {
  /** Base URL for `new BigQuery({ apiEndpoint: url })`. */
  url: string;
  port: number;
  grpcPort: number;
  projectId: string;
  dataset: string;
  pid: number;
  seed: SegmentSeedOptions;
  /** Physical rows per table as loaded. */
  sizes: Record<SegmentTable, number>;
  /** Seconds spent loading rows (0 when the database came from the cache). */
  loadSeconds: number;
  fromCache: boolean;
  /** What a correct reader must find, recomputed from the generator. */
  expected: SegmentExpectations;
  /** Resident memory of the emulator process in MiB (Linux; undefined elsewhere). */
  rssMiB(): number | undefined;
  close(): Promise<void>;
}

/** Bump when the generator's output changes, so stale cached databases are not reused. */
const GENERATOR_VERSION = 1;
const DEFAULT_ROWS_PER_TABLE = 2_000;

export function emulatorBinary(explicit?: string): string {
  const bin = explicit ?? process.env.BIGQUERY_EMULATOR_BIN ?? path.resolve(__dirname, '../../.tools/bin/bigquery-emulator');
  if (!fs.existsSync(bin)) throw new Error(`The BigQuery emulator is not built at ${bin}: run \`npm run setup\` (or set BIGQUERY_EMULATOR_BIN).`);
  return bin;
}

function cacheKey(bin: string, projectId: string, dataset: string, seed: SegmentSeedOptions): string {
  const real = fs.realpathSync(bin);
  const st = fs.statSync(real);
  const sizes = segmentTableSizes(seed);
  const material = JSON.stringify([GENERATOR_VERSION, real, st.size, st.mtimeMs, projectId, dataset, seed.seed, sizes, seed.from, seed.to]);
  return crypto.createHash('sha256').update(material).digest('hex').slice(0, 16);
}

function copyDatabase(from: string, to: string): void {
  // A clone where the filesystem can (btrfs, xfs, APFS), a plain copy elsewhere.
  fs.copyFileSync(from, to, fs.constants.COPYFILE_FICLONE);
}

function rssMiB(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

interface Spawned {
  child: ChildProcess;
  port: number;
  grpcPort: number;
  output: () => string;
}

function spawnEmulator(bin: string, args: string[], timeoutMs: number): Promise<Spawned> {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-8_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`The BigQuery emulator did not start within ${timeoutMs} ms. Its output:\n${out}`));
    }, timeoutMs);
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      const busy = /address already in use/i.test(out) ? ' (the port is in use: stop whatever listens there or pass port: 0)' : '';
      reject(new Error(`The BigQuery emulator exited at start (code ${code ?? signal})${busy}. Its output:\n${out}`));
    };
    child.once('exit', onExit);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`Could not run the BigQuery emulator ${bin}: ${err.message}`));
    });
    const onData = () => {
      const rest = /REST server listening at \S*:(\d+)/.exec(out);
      const grpc = /gRPC server listening at \S*:(\d+)/.exec(out);
      if (!rest || !grpc) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout!.off('data', onData);
      resolve({ child, port: Number(rest[1]), grpcPort: Number(grpc[1]), output: () => out });
    };
    child.stdout!.on('data', onData);
  });
}

async function waitUntilAnswering(url: string, projectId: string, dataset: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/bigquery/v2/projects/${projectId}/datasets/${dataset}`);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`The BigQuery emulator at ${url} did not answer within ${timeoutMs} ms (${last}).`);
}

function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startBigQueryEmulator(opts: StartBigQueryEmulatorOptions = {}): Promise<BigQueryEmulator> {
  const log = (opts.log ?? logger()).child({ component: 'bigquery-emulator' });
  const bin = emulatorBinary(opts.binary);
  const projectId = opts.projectId ?? SANDBOX.bigquery.projectId;
  const dataset = opts.dataset ?? 'segment';
  const seed: SegmentSeedOptions = {
    seed: opts.seed ?? SEGMENT_SEED_DEFAULTS.seed,
    rowsPerTable: opts.rowsPerTable ?? DEFAULT_ROWS_PER_TABLE,
    from: opts.from ?? SEGMENT_SEED_DEFAULTS.from,
    to: opts.to ?? SEGMENT_SEED_DEFAULTS.to,
  };
  const sizes = segmentTableSizes(seed);
  const timeoutMs = opts.startTimeoutMs ?? 30_000;

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-bigquery-'));
  const database = path.join(workDir, 'emulator.sqlite');
  const cacheFile = opts.dataDir ? path.join(path.resolve(opts.dataDir), 'bigquery-emulator', `segment-${cacheKey(bin, projectId, dataset, seed)}.sqlite`) : undefined;
  const fromCache = cacheFile !== undefined && fs.existsSync(cacheFile);
  if (fromCache) copyDatabase(cacheFile, database);

  let child: ChildProcess | undefined;
  const killOnExit = () => {
    child?.kill('SIGKILL');
    fs.rmSync(workDir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  const cleanup = async () => {
    process.off('exit', killOnExit);
    if (child) await stopChild(child);
    fs.rmSync(workDir, { recursive: true, force: true });
  };

  try {
    const args = [
      `--project=${projectId}`,
      `--dataset=${dataset}`,
      '--host=127.0.0.1',
      `--port=${opts.port ?? 0}`,
      `--grpc-port=${opts.grpcPort ?? 0}`,
      `--database=${database}`,
      '--log-level=error',
    ];
    const spawned = await spawnEmulator(bin, args, timeoutMs);
    child = spawned.child;
    const url = `http://127.0.0.1:${spawned.port}`;
    await waitUntilAnswering(url, projectId, dataset, timeoutMs);

    let loadSeconds = 0;
    if (!fromCache) {
      const total = Object.values(sizes).reduce((a, b) => a + b, 0);
      if (total > 50_000) log.info({ rows: total }, 'loading the generated Segment dataset into the BigQuery emulator (cached afterwards when dataDir is set)');
      loadSeconds = (await loadSegmentTables({ url, projectId, dataset, seed, log: total > 50_000 ? log : undefined })).seconds;
      if (cacheFile) {
        // Every load transaction has committed and nothing else writes yet: the file is consistent.
        fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        copyDatabase(database, tmp);
        fs.renameSync(tmp, cacheFile);
      }
    }
    log.debug({ url, sizes, fromCache, loadSeconds }, 'BigQuery emulator ready');

    const pid = child.pid!;
    let closing: Promise<void> | undefined;
    return {
      url,
      port: spawned.port,
      grpcPort: spawned.grpcPort,
      projectId,
      dataset,
      pid,
      seed,
      sizes,
      loadSeconds,
      fromCache,
      expected: segmentExpectations(seed),
      rssMiB: () => rssMiB(pid),
      close: () => (closing ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
