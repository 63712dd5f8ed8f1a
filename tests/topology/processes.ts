import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * A long-running child process of the topology tier, its output in a log file of its own. Each
 * runs in a process group of its own, so the tier can end it and everything it started (npm, the
 * worker relay and the worker) by that group's id, and nothing else.
 */
export interface Proc {
  name: string;
  pid: number;
  log: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** Sends `signal` to the process group and waits up to `ms` for the process to end. */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The log's last lines, for failure messages. */
  tail(lines?: number): string;
}

const all = new Set<Proc>();

export function startProc(opts: { name: string; command: string; args: string[]; env?: NodeJS.ProcessEnv; cwd?: string; logDir: string }): Proc {
  const log = path.join(opts.logDir, `${opts.name}.log`);
  const out = fs.openSync(log, 'a');
  const child: ChildProcess = spawn(opts.command, opts.args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once('error', () => {
      done = true;
      resolve({ code: -1, signal: null });
    });
  });
  if (child.pid === undefined) throw new Error(`${opts.name}: could not start ${opts.command}`);
  const pid = child.pid;
  const proc: Proc = {
    name: opts.name,
    pid,
    log,
    exited,
    running: () => !done,
    stop: async (signal = 'SIGTERM', ms = 30_000) => {
      if (!done) signalGroup(pid, signal);
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());
      if ((await Promise.race([exited, timer])) === 'timeout') {
        signalGroup(pid, 'SIGKILL');
        throw new Error(`${opts.name} did not stop within ${ms} ms of ${signal}; killed. Log tail:\n${proc.tail()}`);
      }
      return exited;
    },
    tail: (lines = 30) => {
      try {
        return fs.readFileSync(log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    },
  };
  all.add(proc);
  void exited.then(() => all.delete(proc));
  return proc;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/** Kills the groups of every process the tier started and that still runs (after a failure). */
export async function killAll(): Promise<void> {
  const left = [...all];
  for (const p of left) signalGroup(p.pid, 'SIGKILL');
  await Promise.all(left.map((p) => p.exited));
}

/** Runs a command to its end; its output goes to the log file, and into the error when it fails. */
export async function run(opts: { name: string; command: string; args: string[]; env?: NodeJS.ProcessEnv; cwd?: string; logDir: string; timeoutMs?: number }): Promise<void> {
  const p = startProc(opts);
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), opts.timeoutMs ?? 120_000).unref());
  const result = await Promise.race([p.exited, timer]);
  if (result === 'timeout') {
    await p.stop('SIGKILL', 5_000).catch(() => undefined);
    throw new Error(`${opts.name} did not finish within ${opts.timeoutMs ?? 120_000} ms. Log tail:\n${p.tail()}`);
  }
  if (result.code !== 0) throw new Error(`${opts.name} failed (exit ${result.code ?? result.signal}). Log tail:\n${p.tail()}`);
}

/** The pids of a process's children (Linux /proc). */
export function childPids(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Every descendant of a process, depth first. */
export function descendants(pid: number): number[] {
  return childPids(pid).flatMap((c) => [c, ...descendants(c)]);
}

/** The command line of a process (Linux /proc), '' once it is gone. */
export function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

export async function waitUntil<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      lastError = undefined;
      if (ok(last)) return last;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const detail = lastError !== undefined ? `last error: ${lastError instanceof Error ? lastError.message : String(lastError)}` : `last: ${JSON.stringify(last)?.slice(0, 500)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${detail}`);
}
