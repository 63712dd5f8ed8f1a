import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServer } from '../helpers/temporal';
import { freePort } from '../helpers/ports';
import { ROOT } from '../helpers/paths';
import { gone } from '../helpers/process-alive';

/**
 * `npm run worker` and `npm run webhook` as an orchestrator stops them: one SIGTERM to the process it
 * started. Before, npm's shell swallowed it (the worker never heard of it), and once it did, the worker
 * still lingered: its native connection to Temporal, never closed, kept the process alive.
 */

interface Started {
  proc: ChildProcess;
  log: string[];
  until: (re: RegExp, ms?: number) => Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function npmRun(script: string, env: Record<string, string>): Started {
  const proc = spawn('npm', ['run', '--silent', script], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onData = (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
      log.push(line);
      for (const w of waiters.filter((w) => w.re.test(line))) w.resolve(line);
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  const until = (re: RegExp, ms = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const seen = log.find((l) => re.test(l));
      if (seen) return resolve(seen);
      const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms; output:\n${log.join('\n')}`)), ms);
      waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  return { proc, log, until, exit };
}

describe('entry points stop on one SIGTERM to npm run', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  beforeAll(async () => {
    env = await startDevServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-shutdown-'));
  });
  afterAll(async () => {
    await env?.teardown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('npm run worker: the worker (relaunched under its heap cap) drains, closes and exits 0; nothing is left behind', async () => {
    const w = npmRun('worker', {
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: `shutdown-${Date.now()}`,
      DATA_DIR: dir,
      WORKER_METRICS_BIND: `127.0.0.1:${await freePort()}`,
      APP_METRICS_BIND: `127.0.0.1:${await freePort()}`,
    });
    const started = JSON.parse(await w.until(/"worker started"/)) as { pid: number };
    // The heap cap's relaunch: the worker is a grandchild of npm, in its own process group.
    expect(started.pid).not.toBe(w.proc.pid);
    w.proc.kill('SIGTERM');
    expect(await w.exit).toEqual({ code: 0, signal: null });
    await w.until(/"worker stopped"/, 5_000);
    expect(await gone(started.pid, 10_000)).toBe(true);
  }, 120_000);

  it('npm run webhook: the server closes and exits 0', async () => {
    const port = await freePort();
    const h = npmRun('webhook', { TEMPORAL_ADDRESS: env.address, WEBHOOK_HOST: '127.0.0.1', WEBHOOK_PORT: String(port), DATA_DIR: dir });
    const listening = JSON.parse(await h.until(/"webhook server listening"/)) as { pid: number };
    h.proc.kill('SIGTERM');
    expect(await h.exit).toEqual({ code: 0, signal: null });
    expect(await gone(listening.pid, 10_000)).toBe(true);
  }, 120_000);
});
