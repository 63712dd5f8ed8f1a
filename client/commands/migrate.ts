import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { loadStreamsFile, StreamsFileError } from '../../streams/config/load';
import type { StreamsFile } from '../../streams/config/schema';
import { buildCatalog } from '../../migrate/n8n/catalog';
import { analyze } from '../../migrate/n8n/inventory';
import { readExports } from '../../migrate/n8n/read-files';
import { renderInventoryText } from '../../migrate/n8n/render-text';
import { renderStreamsYaml } from '../../migrate/n8n/render-yaml';
import { suggestStreams } from '../../migrate/n8n/suggestions';

export class NothingReadError extends Error {
  constructor(target: string) {
    super(`no n8n workflow could be read from ${target} (see "Not read" above).`);
    this.name = 'NothingReadError';
  }
}

/** The streams file the inventory compares with; a checkout without one compares with today's objects. */
function readStreams(file: string): StreamsFile | undefined {
  try {
    return loadStreamsFile(file);
  } catch (err) {
    if (err instanceof StreamsFileError && err.problems.length === 1 && /no such file/.test(err.problems[0])) return undefined;
    throw err;
  }
}

/** `npx novade migrate ...`: what is left of the stack being replaced, and what novade-sync does instead. */
export function registerMigrate(program: Command, ctx: CliContext): void {
  const cmd = program.command('migrate').description('inventories of the tools novade-sync replaces');
  cmd
    .command('n8n')
    .description('per n8n workflow: its trigger, the systems it reads and writes, and the novade-sync flow or stream that covers it (or why none does)')
    .argument('<export>', 'an n8n workflow export (.json: one workflow or an array) or a folder of them')
    .option('--yaml', 'print config/streams.yaml entries for the Salesforce objects and fields the workflows read')
    .option('--json', 'print the inventory as JSON (with the suggested streams entries)')
    .option('--streams <file>', 'the streams file to compare with (default: STREAMS_FILE)')
    .action((target: string, opts: { yaml?: boolean; json?: boolean; streams?: string }) => {
      if (opts.yaml && opts.json) throw new Error('--yaml and --json print different things: pass one of them.');
      const file = opts.streams ? path.resolve(opts.streams) : ctx.config.streams.file;
      const rel = path.relative(process.cwd(), file);
      const streamsSource = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
      const catalog = buildCatalog({ streams: readStreams(file), streamsSource, segmentDataset: ctx.config.bigquery.dataset, segmentTables: ctx.config.bigquery.tables });
      const { workflows, problems } = readExports(target);
      const inventory = analyze(workflows, problems, catalog);
      const suggestions = suggestStreams(inventory, catalog);
      if (opts.json) ctx.print(JSON.stringify({ ...inventory, streams: suggestions }, null, 2));
      else if (opts.yaml) ctx.print(renderStreamsYaml(suggestions, catalog.salesforceSource).trimEnd());
      else ctx.print(renderInventoryText(inventory, target));
      if (workflows.length === 0) throw new NothingReadError(target);
    });
}
