import type { Command } from 'commander';
import {
  BackfillUsageError,
  backfillProgress,
  cancelBackfill,
  formatProgress,
  parseParallel,
  parseRate,
  pauseBackfill,
  resolveBackfill,
  resumeBackfill,
  setBackfillRate,
  startBackfill,
} from '../backfill';
import type { CliContext } from '../cli-context';
import { watchBackfill } from '../backfill-watch';

interface Selector {
  id?: string;
  from?: string;
  to?: string;
  tables?: string;
}

const select = (c: Command) =>
  c
    .option('--id <workflowId>', 'the backfill workflow id (default: the only running backfill)')
    .option('--from <day>', 'first day of the backfill to address (with --to)')
    .option('--to <day>', 'last day of the backfill to address (with --from)')
    .option('--tables <list>', 'tables of the backfill to address (default: SEGMENT_TABLES)');

/** `npx novade backfill start|status|pause|resume|cancel|rate`: the Segment history backfill. */
export function registerBackfill(program: Command, ctx: CliContext): void {
  const cmd = program.command('backfill').description('move the Segment history from BigQuery into Amplitude and the warehouse');
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  const watch = async (sel: Selector, intervalMs: number) => {
    const handle = await resolveBackfill(await ctx.client(), ctx.config, sel);
    await watchBackfill({
      progress: () => backfillProgress(handle),
      status: async () => (await handle.describe()).status.name,
      write: (text) => ctx.write(text),
      tty: ctx.isTTY,
      sleep,
      intervalMs,
    });
  };

  cmd
    .command('start')
    .description('start a backfill of a day range (both days included, UTC)')
    .requiredOption('--from <day>', 'first day, YYYY-MM-DD')
    .requiredOption('--to <day>', 'last day, YYYY-MM-DD')
    .option('--tables <list>', 'comma-separated Segment tables (default: SEGMENT_TABLES)')
    .option('--dry-run', 'read and map without sending or writing; report what would be sent')
    .option('--rate <events/s>', 'at most this many events per second to Amplitude (change it later with `backfill rate`)')
    .option('--parallel <windows>', 'read this many windows at once, on any worker, sharing --rate (default 1)')
    .option('--watch', 'show a live progress bar until it ends')
    .action(async (opts: { from: string; to: string; tables?: string; dryRun?: boolean; rate?: string; parallel?: string; watch?: boolean }) => {
      const parallel = parseParallel(opts.parallel);
      const { workflowId } = await startBackfill(await ctx.client(), ctx.config, { from: opts.from, to: opts.to, tables: opts.tables?.split(','), dryRun: opts.dryRun, rate: parseRate(opts.rate), parallel });
      ctx.print(`Started ${workflowId}${parallel && parallel > 1 ? ` (${parallel} windows at once)` : ''}${opts.dryRun ? ' (dry run)' : ''}`);
      ctx.print(`Web UI: ${ctx.config.temporal.uiUrl}/namespaces/${ctx.config.temporal.namespace}/workflows/${workflowId}`);
      if (opts.watch) await watch({ id: workflowId }, 2_000);
    });

  select(cmd.command('status'))
    .description('window, rows read / sent / written / rejected, rate, ETA, running or paused')
    .option('--watch', 'refresh every 2 s with a progress bar until it ends')
    .option('--json', 'print the progress as JSON')
    .action(async (opts: Selector & { watch?: boolean; json?: boolean }) => {
      if (opts.watch) return watch(opts, 2_000);
      const p = await backfillProgress(await resolveBackfill(await ctx.client(), ctx.config, opts));
      ctx.print(opts.json ? JSON.stringify(p, null, 2) : formatProgress(p));
    });

  select(cmd.command('pause'))
    .description('pause after the page in flight; a paused backfill holds no worker')
    .action(async (opts: Selector) => {
      const h = await resolveBackfill(await ctx.client(), ctx.config, opts);
      await pauseBackfill(h);
      ctx.print(`${h.workflowId}: pause requested (takes effect after the page in flight)`);
    });

  select(cmd.command('resume'))
    .description('resume from the cursor (also after a step failed and paused it)')
    .option('--allow-late-resend', 'resend a page first attempted more than 6 days ago (may duplicate events Amplitude no longer deduplicates)')
    .action(async (opts: Selector & { allowLateResend?: boolean }) => {
      const h = await resolveBackfill(await ctx.client(), ctx.config, opts);
      await resumeBackfill(h, { allowLateResend: opts.allowLateResend === true });
      ctx.print(`${h.workflowId}: resumed`);
    });

  select(cmd.command('cancel'))
    .description('stop cleanly after the page in flight; what was acknowledged stays')
    .action(async (opts: Selector) => {
      const h = await resolveBackfill(await ctx.client(), ctx.config, opts);
      await cancelBackfill(h);
      ctx.print(`${h.workflowId}: cancel requested (stops after the page in flight)`);
    });

  select(cmd.command('rate <eventsPerSecond>'))
    .description('change the rate limit while it runs (`none` removes it)')
    .action(async (value: string, opts: Selector) => {
      const rate = value === 'none' ? null : parseRate(value);
      if (rate === undefined) throw new BackfillUsageError('give a rate in events per second, or `none`');
      const h = await resolveBackfill(await ctx.client(), ctx.config, opts);
      const now = await setBackfillRate(h, rate);
      ctx.print(`${h.workflowId}: rate limit ${now === null ? 'removed' : `${now} events/s`}`);
    });
}
