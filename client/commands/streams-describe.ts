import type { Command } from 'commander';
import { createSalesforceDescriber, type SalesforceDescriber } from '../../connectors/salesforce/describe';
import { loadStreamsFile } from '../../streams/config/load';
import { checkObject, discoverFields, yamlSnippet, type CheckProblem } from '../../streams/describe-report';
import { formatTable, type CliContext } from '../cli-context';

/**
 * `npx novade streams discover salesforce [--object X]` and `npx novade streams check`: what
 * Salesforce's describe offers the integration user, and the streams file against it. Both call
 * Salesforce directly (describe is read-only), not through Temporal.
 */

export class StreamsCheckFailedError extends Error {
  constructor(count: number) {
    super(`${count} problem${count === 1 ? '' : 's'} in the streams file against Salesforce: see above.`);
    this.name = 'StreamsCheckFailedError';
  }
}

/** The `streams` command, shared with `streams list`: whichever registers first creates it. */
export function streamsCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'streams') ?? program.command('streams').description('the streams of config/streams.yaml: list, discover, check');
}

export function registerStreamsDescribe(program: Command, ctx: CliContext, describer: (ctx: CliContext) => SalesforceDescriber = (c) => createSalesforceDescriber(c.config.salesforce)): void {
  const streams = streamsCommand(program);

  streams
    .command('discover')
    .description('what Salesforce describe offers: objects, or one object\'s fields with their columns, and a YAML entry to paste')
    .argument('<source>', 'salesforce')
    .option('--object <name>', 'an object\'s fields (API name, e.g. Contact or Project__c)')
    .option('--json', 'print JSON')
    .action(async (source: string, opts: { object?: string; json?: boolean }) => {
      if (source !== 'salesforce') throw new Error(`streams discover knows salesforce only (got "${source}"): Drift's streams are fixed, list them with \`npx novade streams list\`.`);
      const d = describer(ctx);
      if (!opts.object) {
        const objects = await d.objects();
        if (opts.json) return ctx.print(JSON.stringify(objects, null, 2));
        ctx.print(formatTable(['object', 'label', 'custom'], objects.map((o) => [o.name, o.label, o.custom ? 'custom' : ''])));
        ctx.print();
        ctx.print(`${objects.length} queryable objects (${objects.filter((o) => o.custom).length} custom). Fields of one: npx novade streams discover salesforce --object <name>`);
        return;
      }
      const describe = await d.describe(opts.object);
      const fields = discoverFields(describe);
      if (opts.json) return ctx.print(JSON.stringify({ object: describe.name, custom: describe.custom === true, fields, yaml: yamlSnippet(describe) }, null, 2));
      ctx.print(`${describe.name}${describe.custom ? ' (custom object)' : ''}: ${fields.length} fields, ${fields.filter((f) => f.custom).length} custom`);
      ctx.print();
      ctx.print(formatTable(['field', 'type', 'column', 'DuckDB', 'Databricks', 'notes'], fields.map((f) => [f.field, f.type, f.column ?? '-', f.duckdb ?? '-', f.databricks ?? '-', f.notes.join('; ')])));
      ctx.print();
      ctx.print(yamlSnippet(describe));
    });

  streams
    .command('check')
    .description('the streams file against the live describe: unreadable and retyped fields (exit code 1 on problems)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const file = loadStreamsFile(ctx.config.streams.file);
      const d = describer(ctx);
      const problems: CheckProblem[] = [];
      const notes: string[] = [];
      for (const config of file.salesforce?.objects ?? []) {
        let describe;
        try {
          describe = await d.describe(config.object);
        } catch (err) {
          problems.push({ object: config.object, problem: 'object_unreadable', detail: err instanceof Error ? err.message : String(err) });
          continue;
        }
        const r = checkObject(config, describe, ctx.config.salesforce.userIdFieldOverride);
        problems.push(...r.problems);
        notes.push(...r.notes);
      }
      if (opts.json) ctx.print(JSON.stringify({ file: ctx.config.streams.file, problems, notes }, null, 2));
      else {
        const objects = file.salesforce?.objects.length ?? 0;
        if (problems.length > 0) ctx.print(formatTable(['object', 'field', 'problem', 'detail'], problems.map((p) => [p.object, p.field ?? '', p.problem, p.detail])));
        else ctx.print(`${ctx.config.streams.file}: ${objects} Salesforce object${objects === 1 ? '' : 's'}, every field readable with the type novade-sync expects`);
        if (notes.length > 0) {
          ctx.print();
          for (const n of notes) ctx.print(`note: ${n}`);
        }
      }
      if (problems.length > 0) throw new StreamsCheckFailedError(problems.length);
    });
}
