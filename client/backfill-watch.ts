import { formatProgress, progressBar } from './backfill';
import type { BackfillProgress } from '../ports/backfill';

/**
 * `backfill status --watch` (and `start --watch`): the progress bar, refreshed until the backfill
 * ends. On a terminal the bar is redrawn in place; elsewhere (a pipe, a log file) a line is printed
 * only when it changed, so a paused backfill does not fill a log with copies. It ends when the
 * workflow completes (then the full status is printed), and also when the workflow closed without
 * completing (terminated, failed, timed out): its last state would otherwise be queried forever.
 */
export interface WatchIo {
  /** The backfill's progress query. */
  progress(): Promise<BackfillProgress>;
  /** Temporal's status of the latest run: RUNNING, COMPLETED, TERMINATED, FAILED, ... */
  status(): Promise<string>;
  write(text: string): void;
  tty: boolean;
  sleep(ms: number): Promise<void>;
  intervalMs: number;
}

export interface WatchOutcome {
  /** How the watch ended: the backfill completed, or its workflow closed another way. */
  ended: 'completed' | 'closed';
  status: string;
  progress?: BackfillProgress;
}

/** One line: bar, state, counts, rate, current window and table. */
export function watchLine(p: BackfillProgress): string {
  const state = p.pauseRequested ? 'pausing' : p.lastError && p.state === 'paused' ? 'paused (error)' : p.state;
  const where = p.window ? `  ${p.window.start.slice(0, 10)} ${p.table ?? ''}` : '';
  const r = p.retry && p.state === 'running' ? p.retry : null;
  const retry = r ? `  retry attempt ${r.attempt} (${r.errorKind})${r.nextTryAt ? ` next ${r.nextTryAt.slice(11, 19)}Z` : ''}` : '';
  return `${progressBar(p.fraction)}  ${state}  read ${p.rowsRead} sent ${p.sent} written ${p.written} rejected ${p.rejected}  ${p.ratePerSec} rows/s${where}${retry}`.trimEnd();
}

export async function watchBackfill(io: WatchIo): Promise<WatchOutcome> {
  let last: string | undefined;
  let lastProgress: BackfillProgress | undefined;
  const show = (line: string) => {
    if (io.tty) io.write(`\r\x1b[2K${line}`);
    else if (line !== last) io.write(`${line}\n`);
    last = line;
  };
  const finish = (text: string) => io.write(`${io.tty && last !== undefined ? '\n' : ''}${text}\n`);
  for (;;) {
    let p: BackfillProgress;
    try {
      p = await io.progress();
    } catch (err) {
      // A closed workflow may no longer answer queries (no worker to replay it): say how it ended.
      const status = await io.status();
      if (status === 'RUNNING') throw err;
      finish(`backfill ${status.toLowerCase()}${lastProgress ? `; last progress:\n${formatProgress(lastProgress)}` : ''}`);
      return { ended: 'closed', status, progress: lastProgress };
    }
    lastProgress = p;
    show(watchLine(p));
    if (p.state === 'completed') {
      finish(formatProgress(p));
      return { ended: 'completed', status: 'COMPLETED', progress: p };
    }
    const status = await io.status();
    if (status !== 'RUNNING') {
      finish(`backfill ${status.toLowerCase()} before completing; last progress:\n${formatProgress(p)}`);
      return { ended: 'closed', status, progress: p };
    }
    await io.sleep(io.intervalMs);
  }
}
