import type { Command } from 'commander';
import { createLogger, setRootLogger } from '../../config/logger';
import { runDemo } from '../demo/run';
import { formatReport } from '../demo/reconcile';
import type { CliContext } from '../cli-context';

/** `npx novade demo`: the whole platform on the sandbox, every flow once, then the reconciliation. */
export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('run every flow once on an ephemeral sandbox stack and print the reconciliation (exit 0 only if it all reconciles)')
    .option('--json', 'print the report as JSON')
    .option('--scale <n>', 'sandbox size (1 = the full seeded org)', (v) => {
      const n = Number(v);
      if (!(n > 0 && n <= 10)) throw new Error(`--scale must be a number in (0, 10], got "${v}".`);
      return n;
    })
    .action(async (opts: { json?: boolean; scale?: number }) => {
      // Logs go to stderr so that stdout holds only the report (`--json` pipes into jq).
      const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', destination: 'stderr' });
      setRootLogger(log);
      const report = await runDemo({ log, scale: opts.scale, say: (line) => process.stderr.write(`demo: ${line}\n`) });
      ctx.print(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
      if (!report.ok) throw new Error('the demo did not reconcile: see the result column above.');
    });
}
