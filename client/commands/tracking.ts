import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { lintPlan, PlanLintError, renderLint } from '../tracking/lint';
import { parseSince, parseTolerance } from '../tracking/read';
import { draftFromWarehouse, parityFromWorker, readViolations, renderViolations, writeDraft } from '../tracking/reports';
import { renderParityHtml, renderParityText } from '../../tracking/parity-render';

export class ParityOutOfToleranceError extends Error {
  constructor(rows: number) {
    super(`${rows} row${rows === 1 ? ' is' : 's are'} out of tolerance (see above)`);
    this.name = 'ParityOutOfToleranceError';
  }
}

const seconds = (text: string) => {
  const s = Number(text);
  if (!Number.isFinite(s) || s <= 0) throw new Error(`--timeout expects a number of seconds, got "${text}".`);
  return s * 1000;
};

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

  plan
    .command('draft')
    .description('write a first plan from the Segment history in the warehouse (every event seen, property types, presence, values when few)')
    .requiredOption('--from <day>', 'first day, YYYY-MM-DD')
    .requiredOption('--to <day>', 'last day, YYYY-MM-DD (included)')
    .option('--out <dir>', 'where to write the plan files (must be new or empty)', 'tracking-plan-draft')
    .option('--force', 'write into a directory that already has files')
    .option('--per-event <n>', 'calls whose properties are read per event and per page', '5000')
    .option('--timeout <seconds>', 'how long to wait for the worker', '600')
    .action(async (opts: { from: string; to: string; out: string; force?: boolean; perEvent: string; timeout: string }) => {
      const perSubject = Number(opts.perEvent);
      if (!Number.isInteger(perSubject) || perSubject < 1) throw new Error(`--per-event expects a whole number, got "${opts.perEvent}".`);
      const out = path.resolve(opts.out);
      if (fs.existsSync(out) && fs.readdirSync(out).length > 0 && !opts.force) throw new Error(`${out} is not empty: pass --out <new dir>, or --force to overwrite the files the draft writes there.`);
      const stats = await draftFromWarehouse(await ctx.client(), ctx.config, { from: opts.from, to: opts.to, perSubject }, seconds(opts.timeout));
      const written = writeDraft(stats, out, opts.force === true);
      ctx.print(`Wrote ${written.files.length} files to ${written.dir}: ${written.events} events, ${written.pages} page names, identify traits, settings.`);
      if (written.events === 0 && written.pages === 0) ctx.print(`The warehouse holds no Segment history from ${opts.from} to ${opts.to}: run \`npx novade backfill start\` for that range first.`);
      ctx.print('Review it (descriptions and owners are TODO), then check it with `npx novade tracking plan lint --dir ' + opts.out + '`.');
    });

  cmd
    .command('violations')
    .description('calls off the tracking plan, per event, violation type and JSON path (from ops.tracking_violations)')
    .option('--since <duration>', 'violations of calls received within this long, e.g. 30m, 24h, 7d', '24h')
    .option('--json', 'print JSON')
    .option('--timeout <seconds>', 'how long to wait for the worker', '30')
    .action(async (opts: { since: string; json?: boolean; timeout: string }) => {
      const report = await readViolations(await ctx.client(), ctx.config, parseSince(opts.since), seconds(opts.timeout));
      ctx.print(opts.json ? JSON.stringify(report, null, 2) : renderViolations(report));
    });

  cmd
    .command('parity')
    .description("per day and event type: calls in Segment's warehouse, collected by novade-sync, held by Amplitude; exits 1 when a row is out of tolerance")
    .requiredOption('--from <day>', 'first day, YYYY-MM-DD (UTC)')
    .requiredOption('--to <day>', 'last day, YYYY-MM-DD (included)')
    .option('--tolerance <percent>', 'largest share of calls missing on a side that is still ok (default: TRACKING_PARITY_TOLERANCE)')
    .option('--json', 'print the report as JSON')
    .option('--html <file>', 'also write the report as a static HTML page (chart and table)')
    .option('--timeout <seconds>', 'how long to wait for the worker, per month of the range', '600')
    .action(async (opts: { from: string; to: string; tolerance?: string; json?: boolean; html?: string; timeout: string }) => {
      const tolerance = opts.tolerance === undefined ? ctx.config.tracking.parityTolerance : parseTolerance(opts.tolerance);
      const report = await parityFromWorker(await ctx.client(), ctx.config, { from: opts.from, to: opts.to, tolerance }, seconds(opts.timeout));
      ctx.print(opts.json ? JSON.stringify(report, null, 2) : renderParityText(report));
      if (opts.html) {
        const file = path.resolve(opts.html);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, renderParityHtml(report));
        if (!opts.json) ctx.print(`HTML report: ${file}`);
      }
      if (report.totals.rowsOutOfTolerance > 0) throw new ParityOutOfToleranceError(report.totals.rowsOutOfTolerance);
    });
}
