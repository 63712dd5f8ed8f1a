import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import { freePort } from '../helpers/ports';
import { ROOT, TEMPORAL_CLI, TOOLS_BIN } from '../helpers/paths';
import { run, startProc, waitUntil, type Proc } from './processes';
import type { Postgres } from './postgres';

const exec = promisify(execFile);

export const TEMPORAL_SERVER = path.join(TOOLS_BIN, 'temporal-server');
export const TEMPORAL_SQL_TOOL = path.join(TOOLS_BIN, 'temporal-sql-tool');
export const TEMPORAL_UI_SERVER = path.join(TOOLS_BIN, 'temporal-ui-server');
/** The server module's schema/ directory and the UI server's config/, kept by scripts/setup.sh. */
export const TEMPORAL_SCHEMA_DIR = path.join(ROOT, '.tools/temporal-schema');
export const TEMPORAL_UI_CONFIG_DIR = path.join(ROOT, '.tools/temporal-ui-config');
const DEPLOY = path.join(ROOT, 'deploy/temporal');

/** The environment deploy/temporal/ reads: the names docker-compose.yml gives, with this machine's addresses. */
function dbEnv(pg: Postgres): NodeJS.ProcessEnv {
  return { DB: 'postgres12', POSTGRES_SEEDS: '127.0.0.1', DB_PORT: String(pg.port), POSTGRES_USER: pg.user, POSTGRES_PWD: pg.password, SQL_PASSWORD: pg.password };
}

/** Creates both databases and their schemas with deploy/temporal/scripts/setup-postgres.sh, as compose's admin-tools does. */
export async function setupSchema(pg: Postgres, logDir: string): Promise<void> {
  await run({
    name: 'temporal-setup-postgres',
    command: 'sh',
    args: [path.join(DEPLOY, 'scripts/setup-postgres.sh')],
    env: { ...process.env, ...dbEnv(pg), TEMPORAL_SQL_TOOL: TEMPORAL_SQL_TOOL, SCHEMA_DIR: TEMPORAL_SCHEMA_DIR },
    logDir,
    timeoutMs: 180_000,
  });
}

export interface TemporalServer {
  address: string;
  metricsAddress: string;
  proc: Proc;
  /** Stops the server (SIGTERM) and starts it again on the same ports and databases. */
  restart(): Promise<{ downMs: number }>;
  stop(): Promise<void>;
}

/** The Temporal server from deploy/temporal/scripts/start-server.sh and config/production.yaml, every port free. */
export async function startTemporalServer(pg: Postgres, logDir: string): Promise<TemporalServer> {
  const names = ['FRONTEND_GRPC_PORT', 'FRONTEND_HTTP_PORT', 'FRONTEND_MEMBERSHIP_PORT', 'HISTORY_GRPC_PORT', 'HISTORY_MEMBERSHIP_PORT', 'MATCHING_GRPC_PORT', 'MATCHING_MEMBERSHIP_PORT', 'WORKER_GRPC_PORT', 'WORKER_MEMBERSHIP_PORT', 'METRICS_PORT'];
  const ports: Record<string, string> = {};
  // The server records membership ports in a PostgreSQL smallint: they must be below 32768, where
  // the kernel's ephemeral ports (freePort) never are.
  for (const n of names) ports[n] = String(n.endsWith('_MEMBERSHIP_PORT') ? await freePortBelow(32_768) : await freePort());
  const address = `127.0.0.1:${ports.FRONTEND_GRPC_PORT}`;
  const metricsAddress = `127.0.0.1:${ports.METRICS_PORT}`;
  const env: NodeJS.ProcessEnv = { ...process.env, ...dbEnv(pg), ...ports, BIND_ON_IP: '127.0.0.1', PROMETHEUS_ENDPOINT: metricsAddress, LOG_LEVEL: 'warn', TEMPORAL_SERVER_BIN: TEMPORAL_SERVER };
  let starts = 0;
  const start = async () => {
    const proc = startProc({ name: `temporal-server-${++starts}`, command: 'sh', args: [path.join(DEPLOY, 'scripts/start-server.sh')], env, logDir });
    await waitHealthy(address, proc);
    return proc;
  };
  const server: TemporalServer = {
    address,
    metricsAddress,
    proc: await start(),
    restart: async () => {
      const t0 = Date.now();
      await server.proc.stop('SIGTERM', 60_000);
      server.proc = await start();
      return { downMs: Date.now() - t0 };
    },
    stop: async () => void (await server.proc.stop('SIGTERM', 60_000)),
  };
  return server;
}

/** A loopback port below `limit` free right now (random tries: no fixed port another test could hold). */
async function freePortBelow(limit: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = 20_000 + Math.floor(Math.random() * (limit - 20_000));
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port below ${limit} after 100 tries`);
}

async function waitHealthy(address: string, proc: Proc): Promise<void> {
  await waitUntil(
    `the Temporal server on ${address} to be healthy`,
    async () => {
      if (!proc.running()) throw new Error(`the Temporal server exited. Log tail:\n${proc.tail()}`);
      await exec(TEMPORAL_CLI, ['operator', 'cluster', 'health', '--address', address], { timeout: 10_000 });
      return true;
    },
    (ok) => ok,
    120_000,
    500,
  );
}

/** Registers the `default` namespace with deploy/temporal/scripts/create-namespace.sh, as compose does. */
export async function createNamespace(address: string, logDir: string): Promise<void> {
  await run({
    name: 'temporal-create-namespace',
    command: 'sh',
    args: [path.join(DEPLOY, 'scripts/create-namespace.sh')],
    env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_CLI, DEFAULT_NAMESPACE: 'default' },
    logDir,
    timeoutMs: 180_000,
  });
}

export interface UiServer {
  url: string;
  proc: Proc;
}

/**
 * The Temporal UI server with its own config/docker.yaml (the file the temporalio/ui image renders)
 * and the variables docker-compose.yml's `temporal-ui` service sets.
 */
export async function startUiServer(opts: { temporalAddress: string; port: number; codecEndpoint?: string; logDir: string }): Promise<UiServer> {
  const { port, logDir } = opts;
  const configDir = fs.realpathSync(TEMPORAL_UI_CONFIG_DIR);
  const proc = startProc({
    name: 'temporal-ui-server',
    command: TEMPORAL_UI_SERVER,
    args: ['--root', path.dirname(configDir), '--config', path.basename(configDir), '--env', 'docker', 'start'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: opts.temporalAddress,
      TEMPORAL_UI_PORT: String(port),
      TEMPORAL_CORS_ORIGINS: 'http://localhost:3000',
      TEMPORAL_DEFAULT_NAMESPACE: 'default',
      TEMPORAL_CODEC_ENDPOINT: opts.codecEndpoint ?? '',
    },
    logDir,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    'the Temporal UI server',
    async () => {
      if (!proc.running()) throw new Error(`the UI server exited. Log tail:\n${proc.tail()}`);
      return (await fetch(`${url}/api/v1/settings`)).ok;
    },
    (ok) => ok,
    60_000,
  );
  return { url, proc };
}

/**
 * `npx novade codec-server` on loopback, the keys of the workers and webhooks, open to the Web UI's
 * origin: the UI's browser side decodes payloads through it.
 */
export async function startCodecServer(opts: { codecKeys: string; uiOrigin: string; logDir: string }): Promise<{ url: string; proc: Proc }> {
  const port = await freePort();
  const proc = startProc({
    name: 'codec-server',
    command: process.execPath,
    args: [path.join(ROOT, 'bin/novade.js'), 'codec-server', '--host', '127.0.0.1', '--port', String(port)],
    cwd: ROOT,
    env: { ...process.env, TEMPORAL_CODEC_KEYS: opts.codecKeys, CODEC_SERVER_ORIGINS: opts.uiOrigin, TEMPORAL_NAMESPACE: 'default', LOG_FORMAT: 'json' },
    logDir: opts.logDir,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    'the codec server',
    async () => {
      if (!proc.running()) throw new Error(`the codec server exited. Log tail:\n${proc.tail()}`);
      return (await fetch(`${url}/health`)).ok;
    },
    (ok) => ok,
    60_000,
  );
  return { url, proc };
}
