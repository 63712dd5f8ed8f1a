import fs from 'node:fs';

/**
 * DuckDB says nothing when it checkpoints, but its write-ahead log does: the WAL grows with each
 * commit and shrinks to nothing when a checkpoint has moved it into the database file. Watching its
 * size from outside the worker dates each checkpoint (its end, to the sampling period) without
 * touching the worker.
 */
export interface WalWatch {
  /** Epoch ms at which the WAL was seen shrinking, with its size just before (bytes). */
  checkpoints(): { at: number; walBytes: number }[];
  stop(): void;
}

export function watchWal(databaseFile: string, periodMs = 50): WalWatch {
  const wal = `${databaseFile}.wal`;
  const seen: { at: number; walBytes: number }[] = [];
  let last = 0;
  const timer = setInterval(() => {
    let size = 0;
    try {
      size = fs.statSync(wal).size;
    } catch {
      // no WAL: nothing written since the last checkpoint
    }
    if (size < last) seen.push({ at: Date.now(), walBytes: last });
    last = size;
  }, periodMs);
  timer.unref();
  return { checkpoints: () => [...seen], stop: () => clearInterval(timer) };
}
