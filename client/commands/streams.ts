import type { Command } from 'commander';
import { loadStreamsFile } from '../../streams/config/load';
import type { CliContext } from '../cli-context';
import { listStreams, renderStreams } from '../streams/list';

/** `npx novade streams ...`: what config/streams.yaml declares. */
export function registerStreams(program: Command, ctx: CliContext): void {
  // Shared with `streams discover` and `streams check` (commands/streams-describe.ts): whichever registers first creates it.
  const streams = program.commands.find((c) => c.name() === 'streams') ?? program.command('streams').description('the streams of config/streams.yaml: list, discover, check');
  streams
    .command('list')
    .description('declared streams with their fields, silver columns and events')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      const file = loadStreamsFile(ctx.config.streams.file);
      const listed = listStreams(file, { userIdField: ctx.config.salesforce.userIdFieldOverride });
      ctx.print(opts.json ? JSON.stringify(listed, null, 2) : renderStreams(listed, ctx.config.streams.file));
    });
}
