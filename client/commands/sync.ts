import type { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { STREAMS_BY_SOURCE, isSyncSource, type SyncSource } from '../../streams/names';
import { loadStreamsFile } from '../../streams/config/load';
import { defaultSalesforceStreamName } from '../../streams/config/schema';
import { syncStreamsOf } from '../../streams/sources';
import type { SyncSourceSummary } from '../../workflows/sync-source';
import { formatTable, type CliContext } from '../cli-context';

export function registerSync(program: Command, ctx: CliContext): void {
  program
    .command('sync <source>')
    .description(`run a sync now and wait for it (${Object.keys(STREAMS_BY_SOURCE).join(', ')})`)
    .option('--stream <name...>', 'only these streams (e.g. Contact or salesforce_contact)')
    .option('--full', 're-read everything, ignoring the stored cursor (idempotent)')
    .action(async (source: string, opts: { stream?: string[]; full?: boolean }) => {
      if (!isSyncSource(source)) throw new Error(`Unknown source "${source}". Known: ${Object.keys(STREAMS_BY_SOURCE).join(', ')}.`);
      const streams = opts.stream?.map((s) => streamNamed(ctx, source, s));
      const client = await ctx.client();
      const workflowId = `${source}-sync-manual-${Date.now()}`;
      ctx.print(`Started ${workflowId} (watch it in the Web UI: ${ctx.config.temporal.uiUrl}/namespaces/${ctx.config.temporal.namespace}/workflows/${workflowId})`);
      try {
        const summary: SyncSourceSummary = await client.workflow.execute('syncSourceWorkflow', {
          taskQueue: ctx.config.temporal.taskQueue,
          workflowId,
          args: [{ source, streams, full: opts.full }],
        });
        ctx.print(
          formatTable(
            ['stream', 'status', 'read', 'written', 'sent', 'rejected', 'api calls', 'pages'],
            summary.streams.map((s) => [s.stream, s.status, s.read, s.written, s.sent, s.rejected, s.apiCalls, s.pages].map(String)),
          ),
        );
      } catch (err) {
        if (err instanceof WorkflowFailedError) throw new Error(`Sync failed: ${err.cause?.message ?? err.message}`);
        throw err;
      }
    });
}

/** A stream by its name or its object's (`Contact`, `Project__c`), as the streams file declares it. */
function streamNamed(ctx: CliContext, source: SyncSource, given: string): string {
  const file = loadStreamsFile(ctx.config.streams.file);
  const known = syncStreamsOf(file, source);
  if (known.includes(given)) return given;
  const object = file.salesforce?.objects.find((o) => source === 'salesforce' && o.object.toLowerCase() === given.toLowerCase());
  if (object) return object.stream ?? defaultSalesforceStreamName(object.object);
  const prefixed = `${source}_${given.toLowerCase()}`;
  if (known.includes(prefixed)) return prefixed;
  throw new Error(`Unknown ${source} stream "${given}". Configured: ${known.join(', ')} (${ctx.config.streams.file}).`);
}
