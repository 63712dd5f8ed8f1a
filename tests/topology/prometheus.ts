import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { freePort } from '../helpers/ports';
import { ROOT } from '../helpers/paths';
import { startProc, waitUntil, type Proc } from './processes';

const exec = promisify(execFile);
export const PROMETHEUS_DIR = path.join(ROOT, 'deploy/prometheus');
/** Debian's prometheus package (scripts/setup.sh --for-topology installs it). */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const PROMTOOL_BIN = '/usr/bin/promtool';

const configSchema = z
  .object({
    global: z.object({ scrape_interval: z.string(), evaluation_interval: z.string() }).passthrough(),
    rule_files: z.array(z.string()),
    scrape_configs: z.array(z.object({ job_name: z.string(), static_configs: z.array(z.object({ targets: z.array(z.string()), labels: z.record(z.string(), z.string()).optional() }).passthrough()) }).passthrough()),
  })
  .passthrough();

/**
 * deploy/prometheus/prometheus.yml with this run's targets: each job keeps its name, labels and
 * paths, its compose hosts replaced by the instances the tier started; rule files point back at
 * deploy/prometheus/. The intervals shrink so that a test sees scrapes within seconds.
 */
export function renderPrometheusConfig(targets: Record<string, string[]>, scrapeInterval = '2s'): string {
  const config = configSchema.parse(parse(fs.readFileSync(path.join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')));
  const missing = config.scrape_configs.map((c) => c.job_name).filter((job) => !targets[job]?.length);
  if (missing.length) throw new Error(`no targets for job(s) ${missing.join(', ')} of deploy/prometheus/prometheus.yml`);
  const extra = Object.keys(targets).filter((job) => !config.scrape_configs.some((c) => c.job_name === job));
  if (extra.length) throw new Error(`deploy/prometheus/prometheus.yml has no job ${extra.join(', ')}`);
  config.global.scrape_interval = scrapeInterval;
  config.global.evaluation_interval = scrapeInterval;
  config.rule_files = config.rule_files.map((f) => path.resolve(PROMETHEUS_DIR, f));
  for (const job of config.scrape_configs) job.static_configs = [{ ...job.static_configs[0], targets: targets[job.job_name] }];
  return stringify(config);
}

export interface Prometheus {
  url: string;
  proc: Proc;
  configFile: string;
  targets(): Promise<{ job: string; instance: string; health: string; lastError: string }[]>;
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
}

const targetsSchema = z.object({ data: z.object({ activeTargets: z.array(z.object({ labels: z.record(z.string(), z.string()), health: z.string(), lastError: z.string() })) }) });
const querySchema = z.object({ data: z.object({ result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })) }) });

export async function startPrometheus(dir: string, targets: Record<string, string[]>, logDir: string): Promise<Prometheus> {
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, renderPrometheusConfig(targets));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = startProc({
    name: 'prometheus',
    command: PROMETHEUS_BIN,
    args: [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'prometheus-data')}`, `--web.listen-address=127.0.0.1:${port}`],
    logDir,
  });
  const prom: Prometheus = {
    url,
    proc,
    configFile,
    targets: async () =>
      targetsSchema.parse(await (await fetch(`${url}/api/v1/targets?state=active`)).json()).data.activeTargets.map((t) => ({ job: t.labels.job, instance: t.labels.instance, health: t.health, lastError: t.lastError })),
    query: async (expr) => querySchema.parse(await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()).data.result,
  };
  await waitUntil(
    'Prometheus to be ready',
    async () => {
      if (!proc.running()) throw new Error(`prometheus exited. Log tail:\n${proc.tail()}`);
      return (await fetch(`${url}/-/ready`)).ok;
    },
    (ok) => ok,
    60_000,
  );
  return prom;
}

/** Runs promtool; answers its output (it fails the test with that output on a non-zero exit). */
export async function promtool(args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await exec(PROMTOOL_BIN, args, { cwd: PROMETHEUS_DIR, timeout: 60_000 });
    return `${stdout}${stderr}`;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}
