import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Client } from '@temporalio/client';
import type { SyncSourceSummary } from '../workflows/sync-source';

/**
 * What the sync benches share: emulators in a child process (so the peak RSS reported is the
 * worker's, not the emulators' stores) and one timed run of a source through the real workflow.
 */

/**
 * Re-runs `file` with `--emulators`; that child starts its emulators, prints their URLs as one JSON
 * line and stops them when its stdin closes.
 */
export function startEmulatorChild<U>(file: string): Promise<{ urls: U; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', file, '--emulators'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'error' } });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) => resolve({ urls: JSON.parse(line) as U, child }));
    child.once('exit', (code) => reject(new Error(`emulator process exited with ${code}`)));
  });
}

export interface SyncRunFigures {
  seconds: number;
  read: number;
  sent: number;
  written: number;
  pages: number;
  apiCalls: number;
  /** Records read per stream. */
  byStream: Record<string, number>;
}

/** One run of every stream of `source`, timed from workflow start to result. */
export async function timedSourceSync(client: Client, taskQueue: string, source: string, workflowId: string): Promise<SyncRunFigures> {
  const t0 = performance.now();
  const summary: SyncSourceSummary = await client.workflow.execute('syncSourceWorkflow', { taskQueue, workflowId, args: [{ source }] });
  const seconds = (performance.now() - t0) / 1000;
  const sum = (k: 'read' | 'sent' | 'written' | 'pages' | 'apiCalls') => summary.streams.reduce((s, x) => s + x[k], 0);
  return { seconds, read: sum('read'), sent: sum('sent'), written: sum('written'), pages: sum('pages'), apiCalls: sum('apiCalls'), byStream: Object.fromEntries(summary.streams.map((s) => [s.stream, s.read])) };
}

export async function amplitudeEmulatorCount(url: string): Promise<number> {
  const res = await fetch(`${url}/__sandbox/events/count`);
  return ((await res.json()) as { count: number }).count;
}
