import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { lintPlan, PlanLintError, renderLint } from '../tracking/lint';

/** `npx novade tracking ...`: the tracking plan, its violations and the dual-tracking parity report. */
export function registerTracking(program: Command, ctx: CliContext): void {
  const cmd = program.command('tracking').description('the website tracking plan, its violations and the Segment/Amplitude parity report');
  const planDir = (dir: string | undefined) => (dir ? path.resolve(dir) : ctx.config.tracking.planDir);

  const plan = cmd.command('plan').description('the tracking plan as code (tracking-plan/)');
  plan
    .command('lint')
    .description('check the plan files: YAML structure, JSON Schemas, duplicate names; one line per problem')
    .option('--dir <path>', 'the plan directory (default: TRACKING_PLAN_DIR)')
    .option('--json', 'print JSON')
    .action((opts: { dir?: string; json?: boolean }) => {
      const report = lintPlan(planDir(opts.dir));
      ctx.print(opts.json ? JSON.stringify(report, null, 2) : renderLint(report));
      if (report.problems.length > 0) throw new PlanLintError(report.problems.length);
    });
}
