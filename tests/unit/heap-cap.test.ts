import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DUCKDB_ALLOCATOR_DEFAULT, DUCKDB_ALLOCATOR_ENV, cappedArgs, hasHeapCapFlag, workerEnv } from '../../workers/heap-cap';
import { ROOT } from '../helpers/paths';
import { gone } from '../helpers/process-alive';

const ENTRY = path.join(ROOT, 'tests/helpers/heap-cap-entry.ts');

function start(env: Record<string, string>): { proc: ChildProcess; lines: string[]; next: (re: RegExp) => Promise<string>; exit: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', ENTRY], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  proc.stdout!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
      lines.push(line);
      for (const w of waiters.filter((w) => w.re.test(line))) w.resolve(line);
    }
  });
  const next = (re: RegExp) => new Promise<string>((resolve) => (lines.find((l) => re.test(l)) ? resolve(lines.find((l) => re.test(l))!) : waiters.push({ re, resolve })));
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, lines, next, exit };
}

const parse = (line: string) => {
  const m = /^limit (\d+) pid (\d+)$/.exec(line)!;
  return { limitMiB: Number(m[1]), pid: Number(m[2]) };
};

describe('worker heap cap (WORKER_MAX_HEAP_MB)', () => {
  it('recognises a cap given on the command line or in NODE_OPTIONS', () => {
    expect(hasHeapCapFlag(['--max-old-space-size=300'], '')).toBe(true);
    expect(hasHeapCapFlag([], '--enable-source-maps --max_old_space_size=300')).toBe(true);
    expect(hasHeapCapFlag(['--import', 'tsx'], '--max-semi-space-size=32')).toBe(false);
  });

  it('relaunches the same entry point, node flags kept, with the cap added', () => {
    expect(cappedArgs(384, ['--import', 'tsx'], ['/usr/bin/node', 'workers/worker-main.ts', '--x'])).toEqual(['--import', 'tsx', '--max-old-space-size=384', 'workers/worker-main.ts', '--x']);
  });

  it("gives the worker DuckDB's and glibc's allocator settings, keeping an operator's own", () => {
    expect(workerEnv(256, { PATH: '/bin' })).toMatchObject({ PATH: '/bin', DUCKDB_JE_MALLOC_CONF: DUCKDB_ALLOCATOR_DEFAULT, MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(workerEnv(256, { DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:500', MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: '65536' })).toMatchObject({
      DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:500',
      MALLOC_ARENA_MAX: '4',
      MALLOC_MMAP_THRESHOLD_: '65536',
    });
  });

  it('names the variable the bundled DuckDB library reads (its jemalloc reports an option it does not know)', async () => {
    const probe = spawn(process.execPath, ['-e', "require('@duckdb/node-api').DuckDBInstance.create(':memory:').then((i) => i.connect()).then((c) => c.run('SELECT 1'))"], {
      cwd: ROOT,
      env: { ...process.env, [DUCKDB_ALLOCATOR_ENV]: 'novade_probe:1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    probe.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise((r) => probe.once('exit', r));
    expect(stderr).toContain('Invalid conf pair: novade_probe:1');
  });

  it('runs the entry point again under the cap, in a child, and exits with its code', async () => {
    const w = start({ CAP_MB: '200' });
    expect(await w.next(/^allocator/)).toBe(`allocator ${DUCKDB_ALLOCATOR_DEFAULT}`);
    const { limitMiB, pid } = parse(await w.next(/^limit/));
    expect(await w.exit).toBe(0);
    expect(pid).not.toBe(w.proc.pid);
    // heap_size_limit is the old space cap plus the young generation.
    expect(limitMiB).toBeGreaterThanOrEqual(200);
    expect(limitMiB).toBeLessThan(300);
    expect(w.lines.filter((l) => l.startsWith('limit'))).toHaveLength(1);
  });

  it('stays in the same process when the cap is 0 or node already has one', async () => {
    const off = start({ CAP_MB: '0' });
    expect(parse(await off.next(/^limit/)).pid).toBe(off.proc.pid);
    expect(await off.exit).toBe(0);

    const own = start({ CAP_MB: '200', NODE_OPTIONS: '--max-old-space-size=150' });
    const seen = parse(await own.next(/^limit/));
    expect(seen.pid).toBe(own.proc.pid);
    expect(seen.limitMiB).toBeLessThan(200);
    expect(await own.exit).toBe(0);
  });

  it('passes SIGTERM on once: the worker drains and the relay exits with its code', async () => {
    const w = start({ CAP_MB: '200', WAIT: '1' });
    await w.next(/^limit/);
    w.proc.kill('SIGTERM');
    expect(await w.exit).toBe(3);
    expect(w.lines.filter((l) => l === 'drained')).toHaveLength(1);
  });

  it('a relay killed outright takes the worker down with a SIGTERM, not leaving it behind', async () => {
    const w = start({ CAP_MB: '200', WAIT: '1' });
    const { pid } = parse(await w.next(/^limit/));
    w.proc.kill('SIGKILL');
    await w.exit;
    await w.next(/^drained$/);
    expect(await gone(pid, 5_000)).toBe(true);
  });
});
