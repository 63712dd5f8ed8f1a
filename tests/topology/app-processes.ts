import { freePort } from '../helpers/ports';
import { ROOT } from '../helpers/paths';
import { commandLine, descendants, startProc, waitUntil, type Proc } from './processes';

/** Where the platform's processes find Temporal and the emulators, as a deployment's .env would say. */
export interface PlatformEnv {
  temporalAddress: string;
  taskQueue: string;
  dataDir: string;
  webhookSecret: string;
  /** Service variables pointing at the emulators (SALESFORCE_LOGIN_URL, DRIFT_BASE_URL, ...). */
  services: Record<string, string>;
}

function baseEnv(p: PlatformEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'production',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: p.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: p.taskQueue,
    TEMPORAL_DEV_SERVER: 'false',
    DATA_DIR: p.dataDir,
    WEBHOOK_SECRET: p.webhookSecret,
    // Every service is configured (the emulators stand in for them): nothing may fall back to the sandbox's fixed ports.
    SANDBOX: 'off',
    ...p.services,
  };
}

export interface WorkerProc {
  name: string;
  proc: Proc;
  /** APP_METRICS_BIND and WORKER_METRICS_BIND as host:port. */
  appMetrics: string;
  sdkMetrics: string;
  /** Whether this worker holds the warehouse and runs the flows (its novade_worker_warehouse_owner gauge). */
  owner(): Promise<boolean>;
  /** The worker process itself (`npm run worker` starts a relay that runs the worker under its heap cap). */
  workerPid(): number;
}

/** `npm run worker`, as docker-compose.yml's `worker` service runs it, metrics on free ports. */
export async function startWorkerProc(name: string, p: PlatformEnv, logDir: string): Promise<WorkerProc> {
  const appMetrics = `127.0.0.1:${await freePort()}`;
  const sdkMetrics = `127.0.0.1:${await freePort()}`;
  const proc = startProc({ name, command: 'npm', args: ['run', '--silent', 'worker'], cwd: ROOT, env: { ...baseEnv(p), APP_METRICS_BIND: appMetrics, WORKER_METRICS_BIND: sdkMetrics }, logDir });
  const w: WorkerProc = {
    name,
    proc,
    appMetrics,
    sdkMetrics,
    owner: async () => {
      const text = await (await fetch(`http://${appMetrics}/metrics`)).text();
      return /^novade_worker_warehouse_owner 1$/m.test(text);
    },
    workerPid: () => {
      // npm -> sh -> node (relay) -> node (worker, NOVADE_HEAP_CAPPED in its environment): the deepest node running worker-main.
      const nodes = descendants(proc.pid).filter((pid) => /node .*workers\/worker-main\.ts/.test(commandLine(pid)));
      if (nodes.length === 0) throw new Error(`${name}: no worker process under pid ${proc.pid}`);
      return nodes[nodes.length - 1];
    },
  };
  await waitUntil(
    `${name}'s metrics endpoints`,
    async () => {
      if (!proc.running()) throw new Error(`${name} exited. Log tail:\n${proc.tail()}`);
      const [a, b] = await Promise.all([fetch(`http://${appMetrics}/metrics`), fetch(`http://${sdkMetrics}/metrics`)]);
      return a.ok && b.ok;
    },
    (ok) => ok,
    120_000,
  );
  return w;
}

export interface WebhookProc {
  name: string;
  proc: Proc;
  url: string;
  /** host:port Prometheus scrapes (/metrics on the webhook's own port). */
  target: string;
}

/** `npm run webhook`, as docker-compose.yml's `webhook` service runs it, on a free port. */
export async function startWebhookProc(name: string, p: PlatformEnv, logDir: string, extraEnv: Record<string, string> = {}): Promise<WebhookProc> {
  const port = await freePort();
  const proc = startProc({ name, command: 'npm', args: ['run', '--silent', 'webhook'], cwd: ROOT, env: { ...baseEnv(p), WEBHOOK_HOST: '127.0.0.1', WEBHOOK_PORT: String(port), ...extraEnv }, logDir });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    `${name} to be ready`,
    async () => {
      if (!proc.running()) throw new Error(`${name} exited. Log tail:\n${proc.tail()}`);
      return (await fetch(`${url}/readyz`)).ok;
    },
    (ok) => ok,
    120_000,
  );
  return { name, proc, url, target: `127.0.0.1:${port}` };
}
