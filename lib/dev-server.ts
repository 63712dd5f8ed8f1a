import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import type { Logger } from '../config/logger';

export interface DevServerOptions {
  /** Path of the `temporal` CLI built by scripts/setup.sh. */
  binary: string;
  /** SQLite file that persists workflows and schedules across restarts; omitted, the state lives in memory. */
  dbFile?: string;
  port: number;
  uiPort: number;
  namespace: string;
  headless?: boolean;
  /** The codec server the embedded Web UI calls to show encrypted payloads decoded. */
  uiCodecEndpoint?: string;
  /** Further `start-dev` flags, e.g. `--sqlite-pragma journal_mode=wal` or `--dynamic-config-value K=V`. */
  extraArgs?: string[];
  log: Logger;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function defaultTemporalBinary(root = path.resolve(__dirname, '..')): string {
  return path.join(root, '.tools/bin/temporal');
}

async function waitUntilServing(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the Temporal dev server exited with code ${child.exitCode} while starting`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: '1s' });
      await conn.healthService.check({});
      await conn.close();
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`the Temporal dev server did not answer on ${address} within ${timeoutMs / 1000}s: ${String(lastError)}`);
}

/** Runs `temporal server start-dev` with its state in a file, and waits until it serves. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  if (!fs.existsSync(opts.binary))
    throw new Error(`The Temporal CLI is not built at ${opts.binary}: run \`npm run setup\` (needs Go; the first build takes minutes).`);
  if (opts.dbFile) fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    ...(opts.dbFile ? ['--db-filename', opts.dbFile] : []),
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--namespace',
    opts.namespace,
    '--ip',
    '127.0.0.1',
    '--log-level',
    'warn',
  ];
  if (opts.headless) args.push('--headless');
  else if (opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  args.push(...(opts.extraArgs ?? []));
  const child = spawn(opts.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = opts.log.child({ component: 'temporal-dev-server' });
  const forward = (buf: Buffer) => {
    for (const line of buf.toString().split('\n')) if (line.trim()) log.debug(line.trim());
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const address = `127.0.0.1:${opts.port}`;
  try {
    await waitUntilServing(address, child, 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    address,
    uiUrl: `http://localhost:${opts.uiPort}`,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
