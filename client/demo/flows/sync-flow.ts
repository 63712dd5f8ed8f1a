import type { SyncSource } from '../../../streams/names';
import { syncStreamsOf } from '../../../streams/sources';
import type { SyncSourceSummary } from '../../../workflows/sync-source';
import { amplitudeStats, judge, silverStats, type Reconciliation } from '../reconcile';
import type { DemoStack } from '../stack';

/**
 * A polled source's run in the demo: one sync of every stream through the same workflow the
 * schedule starts, then its reconciliation against the emulator that plays the source.
 */
export async function runSyncFlow(stack: DemoStack, source: SyncSource, opts: { sourceCount: () => number; insertIdPrefix: string }): Promise<Reconciliation> {
  const summary: SyncSourceSummary = await stack.client.workflow.execute('syncSourceWorkflow', {
    taskQueue: stack.config.temporal.taskQueue,
    workflowId: `demo-${source}-sync`,
    args: [{ source }],
  });
  const failed = summary.streams.filter((s) => s.status !== 'succeeded').map((s) => `${s.stream} ${s.status}`);
  let silver = 0;
  let duplicates = 0;
  for (const name of syncStreamsOf(stack.deps.streamsFile, source)) {
    const decl = stack.deps.streams.get(name);
    if (!decl) throw new Error(`stream ${name} is not declared`);
    const s = await silverStats(stack.deps.warehouse, decl.silver);
    silver += s.rows;
    duplicates += s.duplicates;
  }
  const amp = amplitudeStats(stack.amp, opts.insertIdPrefix);
  return judge(
    {
      flow: source,
      source: opts.sourceCount(),
      silver,
      amplitude: amp.events,
      sent: summary.streams.reduce((n, s) => n + s.sent, 0),
      deadLetters: await stack.deps.warehouse.countDeadLetters({ flow: source }),
      duplicates: duplicates + amp.duplicates,
    },
    failed,
  );
}
