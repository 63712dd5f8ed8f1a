import type { Command } from 'commander';
import { runDoctor, DOCTOR_SERVICES, type DoctorService } from '../doctor/run';
import { formatTable, type CliContext } from '../cli-context';

export class DoctorFailedError extends Error {
  constructor(count: number) {
    super(`${count} required check${count === 1 ? '' : 's'} failed: see "how to fix" above.`);
    this.name = 'DoctorFailedError';
  }
}

export function registerDoctor(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('check every configured connection and permission, with how to fix what fails')
    .option('--json', 'print JSON')
    .option('--only <service...>', `only these services (${Object.keys(DOCTOR_SERVICES).join(', ')})`)
    .option('--timeout <seconds>', 'give up on a call after this long', '10')
    .action(async (opts: { json?: boolean; only?: string[]; timeout: string }) => {
      const unknown = (opts.only ?? []).filter((s) => !(s in DOCTOR_SERVICES));
      if (unknown.length) throw new Error(`Unknown service ${unknown.join(', ')}. Known: ${Object.keys(DOCTOR_SERVICES).join(', ')}.`);
      const seconds = Number(opts.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--timeout expects a number of seconds, got "${opts.timeout}".`);
      const report = await runDoctor(ctx.config, { timeoutMs: seconds * 1000, only: opts.only as DoctorService[] | undefined });
      if (opts.json) ctx.print(JSON.stringify(report.checks, null, 2));
      else {
        ctx.print(
          formatTable(
            ['service', 'check', 'result', 'detail', 'how to fix'],
            report.checks.map((c) => [c.service, c.check, c.ok ? 'ok' : c.required ? 'FAIL' : 'warn', c.detail, c.fix]),
          ),
        );
        ctx.print();
        ctx.print(`${report.checks.length - report.failed.length - report.warnings.length} ok, ${report.warnings.length} warning(s), ${report.failed.length} failed`);
      }
      if (report.failed.length > 0) throw new DoctorFailedError(report.failed.length);
    });
}
