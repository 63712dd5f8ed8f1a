import { describe, expect, it } from 'vitest';
import { watchBackfill, watchLine, type WatchIo } from '../../client/backfill-watch';
import type { BackfillProgress } from '../../ports/backfill';

function progress(over: Partial<BackfillProgress> = {}): BackfillProgress {
  return {
    rowsRead: 0, sent: 0, written: 0, rejected: 0, pages: 0, activeMs: 0, bigqueryMs: 0, amplitudeMs: 0, warehouseMs: 0, pacedMs: 0,
    state: 'running', window: { start: '2024-01-01T00:00:00.000Z', end: '2024-01-02T00:00:00.000Z' }, table: 'tracks',
    from: '2024-01-01', to: '2024-01-10', tables: ['tracks'], dryRun: false, ratePerSec: 0, rateLimit: null, etaSeconds: null,
    fraction: 0, pauseRequested: false, lastError: null, cursor: { windowStart: '2024-01-01T00:00:00.000Z', table: 0 },
    perEventType: {}, rejectedByReason: {}, rejectedSamples: [], generation: 0,
    ...over,
  };
}

/** A scripted backfill: each refresh answers the next progress and status; what the watch wrote, and how long it slept. */
function scripted(steps: { p?: BackfillProgress | Error; status?: string }[], tty: boolean) {
  let i = 0;
  const out: string[] = [];
  const slept: number[] = [];
  const io: WatchIo = {
    progress: async () => {
      const p = steps[Math.min(i, steps.length - 1)].p;
      if (p instanceof Error) throw p;
      return p!;
    },
    status: async () => {
      return steps[Math.min(i, steps.length - 1)].status ?? 'RUNNING';
    },
    write: (t) => out.push(t),
    tty,
    sleep: async (ms) => {
      slept.push(ms);
      i++;
      if (i > 100) throw new Error('the watch did not end');
    },
    intervalMs: 2_000,
  };
  return { io, out, slept };
}

describe('backfill status --watch', () => {
  it('renders the bar, state, counts, rate and window on one line', () => {
    expect(watchLine(progress({ fraction: 0.5, rowsRead: 1200, sent: 1100, written: 1190, rejected: 10, ratePerSec: 350.5 }))).toBe(
      '[###############...............]  50.0 %  running  read 1200 sent 1100 written 1190 rejected 10  350.5 rows/s  2024-01-01 tracks',
    );
    expect(watchLine(progress({ state: 'paused', lastError: 'bad key' }))).toContain('paused (error)');
    expect(watchLine(progress({ pauseRequested: true }))).toContain('  pausing  ');
    expect(watchLine(progress({ state: 'completed', window: null, table: null, fraction: 1 }))).toMatch(/\[#{30}\] 100\.0 %  completed  read 0 .* rows\/s$/);
  });

  it('without a terminal prints a line only when it changed, refreshes every interval, and ends with the full status when the backfill completes', async () => {
    const a = progress({ fraction: 0.1, rowsRead: 100 });
    const paused = progress({ fraction: 0.2, rowsRead: 200, state: 'paused' });
    const done = progress({ fraction: 1, rowsRead: 1000, sent: 990, state: 'completed', outcome: 'finished', window: null, table: null });
    const s = scripted([{ p: a }, { p: paused }, { p: paused }, { p: paused }, { p: done }], false);
    const outcome = await watchBackfill(s.io);
    expect(outcome).toMatchObject({ ended: 'completed', status: 'COMPLETED', progress: done });
    expect(s.slept).toEqual([2_000, 2_000, 2_000, 2_000]);
    // Three distinct lines (the paused one once), then the status block; no carriage returns or escapes.
    expect(s.out).toHaveLength(4);
    expect(s.out.slice(0, 3).map((l) => l.match(/ (running|paused|completed) /)?.[1])).toEqual(['running', 'paused', 'completed']);
    expect(s.out.join('')).not.toMatch(/[\r\x1b]/);
    expect(s.out[3]).toMatch(/state\s+completed \(finished\)/);
    expect(s.out[3]).toMatch(/read 1000, sent 990/);
  });

  it('on a terminal redraws the bar in place at every refresh, then moves to a new line for the status block', async () => {
    const a = progress({ fraction: 0.1 });
    const done = progress({ fraction: 1, state: 'completed', outcome: 'cancelled' });
    const s = scripted([{ p: a }, { p: a }, { p: done }], true);
    await watchBackfill(s.io);
    expect(s.out.slice(0, 3).every((l) => l.startsWith('\r\x1b[2K') && !l.includes('\n'))).toBe(true);
    expect(s.out[3].startsWith('\n')).toBe(true);
    expect(s.out[3]).toMatch(/completed \(cancelled\)/);
  });

  it('ends when the workflow closed without completing (terminated), although its last state still reads running', async () => {
    const a = progress({ fraction: 0.3, rowsRead: 300 });
    const s = scripted([{ p: a }, { p: a, status: 'TERMINATED' }], false);
    const outcome = await watchBackfill(s.io);
    expect(outcome).toMatchObject({ ended: 'closed', status: 'TERMINATED' });
    expect(s.slept).toHaveLength(1);
    expect(s.out.at(-1)).toMatch(/^backfill terminated before completing; last progress:\n.*\nstate\s+running/s);
  });

  it('ends when a closed workflow no longer answers the query, and rethrows a query error while it runs', async () => {
    const a = progress({ rowsRead: 42 });
    const closed = scripted([{ p: a }, { p: new Error('no worker'), status: 'FAILED' }], false);
    expect(await watchBackfill(closed.io)).toMatchObject({ ended: 'closed', status: 'FAILED', progress: a });
    expect(closed.out.at(-1)).toMatch(/^backfill failed; last progress:\n.*read 42/s);

    const running = scripted([{ p: new Error('query timed out') }], false);
    await expect(watchBackfill(running.io)).rejects.toThrow('query timed out');
  });
});
