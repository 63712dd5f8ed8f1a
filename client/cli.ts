import { Command } from 'commander';
import { CliContext } from './cli-context';
import { registerSchedules } from './commands/schedules';
import { registerSync } from './commands/sync';
import { registerDemo } from './commands/demo';
import { registerDoctor } from './commands/doctor';
import { registerStatus } from './commands/status';
import { registerBackfill } from './commands/backfill';
import { registerCodecServer } from './commands/codec-server';
import { registerTracking } from './commands/tracking';
import { registerStreams } from './commands/streams';
import { registerMigrate } from './commands/migrate';
import { registerStreamsDescribe } from './commands/streams-describe';

/** `npx novade <command>`: the operator's handle on the platform, through Temporal. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('novade').description('novade-sync: operate the data platform').showHelpAfterError();
  // Key Vault references are resolved (asynchronously) once, before any command runs; help alone reads nothing.
  program.hook('preAction', async () => {
    await ctx.load();
  });
  registerSchedules(program, ctx);
  registerSync(program, ctx);
  registerDemo(program, ctx);
  registerDoctor(program, ctx);
  registerStatus(program, ctx);
  registerBackfill(program, ctx);
  registerCodecServer(program, ctx);
  registerTracking(program, ctx);
  registerStreams(program, ctx);
  registerMigrate(program, ctx);
  registerStreamsDescribe(program, ctx);
  return program;
}

export async function runCli(argv: string[], ctx = new CliContext()): Promise<number> {
  const program = buildProgram(ctx).exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return 0;
    if (code?.startsWith('commander.')) return 2;
    process.stderr.write(`novade: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await ctx.close();
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
