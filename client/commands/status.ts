import type { Command } from 'commander';
import { collectStatus, type StatusReport } from '../status/collect';
import { formatTable, type CliContext } from '../cli-context';

/** 95 -> `1m 35s`, 7_500 -> `2h 5m`, 200_000 -> `2d 7h`. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m ${seconds % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

const n = (v: number | undefined) => (v === undefined ? '-' : v.toLocaleString('en-US'));
const time = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

export function renderStatus(report: StatusReport): string {
  const lines: string[] = [];
  lines.push(
    formatTable(
      ['flow', 'stream', 'schedule', 'last run', 'result', 'read', 'written', 'sent', 'rejected', 'lag', 'dead letters', 'last success'],
      report.flows.flatMap((f) => {
        const sched = f.schedule ? (f.schedule.state === 'missing' ? 'not created' : `${f.schedule.state} (${f.schedule.every})`) : '-';
        if (f.streams.length === 0) return [[f.flow, '-', sched, '-', '-', '-', '-', '-', '-', '-', '-', '-']];
        return f.streams.map((s) => [
          f.flow,
          s.stream,
          sched,
          time(s.lastRun?.startedAt),
          s.lastRun ? s.lastRun.status : 'never run',
          n(s.lastRun?.read),
          n(s.lastRun?.written),
          n(s.lastRun?.sent),
          n(s.lastRun?.rejected),
          formatDuration(s.lagSeconds),
          n(s.deadLetters),
          time(s.lastSuccessAt),
        ]);
      }),
    ),
  );
  if (report.warehouse.error) lines.push('', `warehouse: ${report.warehouse.error}`);
  const failed = report.flows.flatMap((f) => f.streams).filter((s) => s.lastRun?.status === 'failed' && s.lastRun.error);
  for (const s of failed) lines.push(`${s.stream} last failed: ${s.lastRun?.error}`);
  lines.push('');
  if (report.backfills.length === 0) lines.push('backfills: none (start one with `npx novade backfill start`)');
  else
    lines.push(
      formatTable(
        ['backfill', 'status', 'state', 'from', 'to', 'read', 'sent', 'written', 'rejected', 'rows/s', 'eta', 'started'],
        report.backfills.map((b) => [
          b.workflowId,
          b.status,
          b.progress?.state ?? (b.progressError ? `? (${b.progressError})` : '-'),
          b.progress?.from ?? '-',
          b.progress?.to ?? '-',
          n(b.progress?.rowsRead),
          n(b.progress?.sent),
          n(b.progress?.written),
          n(b.progress?.rejected),
          b.progress?.ratePerSec === undefined ? '-' : b.progress.ratePerSec.toFixed(0),
          formatDuration(b.progress?.etaSeconds ?? undefined),
          time(b.startedAt),
        ]),
      ),
    );
  for (const b of report.backfills) {
    const r = b.progress?.retry;
    if (r && b.progress?.state === 'running')
      lines.push(`${b.workflowId} retrying: attempt ${r.attempt}, ${r.errorKind}: ${r.lastError}; ${r.nextTryAt ? `next try ${time(r.nextTryAt)}` : 'trying again now'}`);
  }
  return lines.join('\n');
}

export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('per flow: last run, result, counts, lag behind source, dead letters, schedule state; backfill progress')
    .option('--json', 'print JSON')
    .option('--timeout <seconds>', 'how long to wait for the worker to read the warehouse', '20')
    .action(async (opts: { json?: boolean; timeout: string }) => {
      const seconds = Number(opts.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--timeout expects a number of seconds, got "${opts.timeout}".`);
      const report = await collectStatus(await ctx.client(), ctx.config, { timeoutMs: seconds * 1000 });
      ctx.print(opts.json ? JSON.stringify(report, null, 2) : renderStatus(report));
    });
}
