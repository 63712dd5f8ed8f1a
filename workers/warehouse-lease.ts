import type { WarehouseConfig } from '../config/config';
import type { Logger } from '../config/logger';
import { createWarehouse, WarehouseInUseError, type Warehouse } from '../connectors/warehouse';

export interface WarehouseWaitOptions {
  /** A shutdown signal while waiting: the wait ends with undefined. */
  signal?: AbortSignal;
  /** How often the file is tried again (default 2 s: how long a takeover can lag the owner's end). */
  retryMs?: number;
  /** How often a waiting worker says so again in its log (default 5 min). */
  logEveryMs?: number;
  open?: (config: WarehouseConfig) => Promise<Warehouse>;
}

/**
 * Opens the warehouse this worker writes. DuckDB allows one writing process, and every flow writes
 * the warehouse (the ingest flush as a local activity, in the workflow's own worker), so with DuckDB
 * one worker runs the flows and any other waits as a standby: it polls no task of the flows (only the
 * reading and sending steps of parallel backfills, workers/worker.ts), and opens the file
 * as soon as the owner is gone. The owner's end, even a SIGKILL, releases the file's lock (the
 * operating system drops it with the process) and DuckDB replays its write-ahead log on open, so
 * the standby takes over within `retryMs`; Temporal hands it the dead worker's tasks once their
 * timeouts pass. Databricks has no such limit: every worker opens it at once.
 */
export async function openWarehouseWhenFree(config: WarehouseConfig, log: Logger, opts: WarehouseWaitOptions = {}): Promise<Warehouse | undefined> {
  const open = opts.open ?? ((c: WarehouseConfig) => createWarehouse(c));
  const retryMs = opts.retryMs ?? 2_000;
  const logEveryMs = opts.logEveryMs ?? 5 * 60_000;
  let waitingSince: number | undefined;
  let loggedAt = 0;
  while (!opts.signal?.aborted) {
    try {
      const warehouse = await open(config);
      if (waitingSince !== undefined) log.info({ waitedSeconds: Math.round((Date.now() - waitingSince) / 1000) }, 'the warehouse is free: this worker takes over the flows');
      return warehouse;
    } catch (err) {
      if (!(err instanceof WarehouseInUseError)) throw err;
      const now = Date.now();
      waitingSince ??= now;
      if (now - loggedAt >= logEveryMs) {
        loggedAt = now;
        log.warn(
          { path: err.file, waitingSeconds: Math.round((now - waitingSince) / 1000) },
          'standby: another worker holds the DuckDB warehouse (one writer at a time); this one runs no flow until the file is free (only the reading and sending steps of parallel backfills), then takes over',
        );
      }
      await pause(retryMs, opts.signal);
    }
  }
  return undefined;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
