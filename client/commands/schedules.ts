import type { Command } from 'commander';
import { SCHEDULE_NAMES, describeSchedules, ensureSchedules, pauseSchedule, resolveSchedule, resumeSchedule, scheduleDefs, triggerSchedule } from '../schedules';
import { formatTable, type CliContext } from '../cli-context';

export function registerSchedules(program: Command, ctx: CliContext): void {
  const cmd = program.command('schedules').description('list, pause, resume or trigger the Temporal schedules');

  cmd
    .command('list')
    .description('show every schedule, its interval, whether it is paused, and its last and next run')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const rows = await describeSchedules(await ctx.client(), scheduleDefs(ctx.config));
      if (opts.json) return ctx.print(JSON.stringify(rows, null, 2));
      ctx.print(
        formatTable(
          ['name', 'schedule id', 'every', 'state', 'runs', 'last run', 'next run'],
          rows.map((r) => [
            r.name,
            r.scheduleId,
            r.every,
            r.missing ? 'not created (run npm start)' : r.paused ? 'paused' : 'active',
            String(r.recentActions),
            r.lastRunAt?.toISOString() ?? '-',
            r.nextRunAt?.toISOString() ?? '-',
          ]),
        ),
      );
    });

  cmd
    .command('ensure')
    .description('create or update every schedule (npm start does this)')
    .action(async () => {
      const r = await ensureSchedules(await ctx.client(), ctx.config);
      ctx.print(`created: ${r.created.join(', ') || '-'}; updated: ${r.updated.join(', ') || '-'}; unchanged: ${r.unchanged.join(', ') || '-'}`);
    });

  for (const [verb, act, done] of [
    ['pause', pauseSchedule, 'paused'],
    ['resume', resumeSchedule, 'resumed'],
    ['trigger', triggerSchedule, 'triggered'],
  ] as const) {
    cmd
      .command(`${verb} <name>`)
      // Names only: the configuration (Key Vault references included) is read when a command runs, not to print help.
      .description(`${verb} a schedule by name (${SCHEDULE_NAMES.join(', ')})`)
      .action(async (name: string) => {
        const def = resolveSchedule(name, scheduleDefs(ctx.config));
        await act(await ctx.client(), def);
        ctx.print(`${def.scheduleId}: ${done}`);
      });
  }
}
