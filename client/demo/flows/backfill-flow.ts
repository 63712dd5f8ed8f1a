import type { WorkflowHandle } from '@temporalio/client';
import { startBackfill, backfillProgress } from '../../backfill';
import type { BackfillProgress } from '../../../ports/backfill';
import { amplitudeStats, judge, silverStats, type Reconciliation } from '../reconcile';
import type { DemoStack } from '../stack';
import { segmentSilverDef } from '../../../mappings/segment-warehouse';
import type { SegmentTable } from '../../../sandbox/seed/segment-columns';

/**
 * The Segment backfill over the demo's week of BigQuery history, started as an operator would
 * (`backfill start`), reconciled against what the generator put in BigQuery: distinct ids, since
 * Segment's own duplicates must collapse; tracks without an event name never reach silver.
 */
export async function runBackfillFlow(stack: DemoStack, range: { from: string; to: string }): Promise<Reconciliation> {
  const tables = stack.config.bigquery.tables as SegmentTable[];
  const { workflowId } = await startBackfill(stack.client, stack.config, { from: range.from, to: range.to, tables });
  const handle: WorkflowHandle = stack.client.workflow.getHandle(workflowId);
  await handle.result();
  const progress: BackfillProgress = await backfillProgress(handle);

  let source = 0;
  let silver = 0;
  let duplicates = 0;
  for (const table of tables) {
    const truth = stack.bq.expected.truth(table);
    source += truth.distinctIds - truth.nullEvent;
    const s = await silverStats(stack.deps.warehouse, segmentSilverDef(table));
    silver += s.rows;
    duplicates += s.duplicates;
  }
  const amp = amplitudeStats(stack.amp, 'seg:');
  const problems = progress.outcome === 'finished' ? [] : [`the backfill ended ${progress.outcome ?? progress.state}${progress.lastError ? `: ${progress.lastError}` : ''}`];
  return judge(
    {
      flow: 'segment backfill',
      source,
      silver,
      amplitude: amp.events,
      sent: progress.sent,
      deadLetters: await stack.deps.warehouse.countDeadLetters({ flow: 'segment' }),
      duplicates: duplicates + amp.duplicates,
    },
    problems,
  );
}
