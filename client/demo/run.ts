import type { Logger } from '../../config/logger';
import { OBJECT_NAMES } from '../../sandbox/salesforce';
import { freePort } from '../../lib/free-port';
import { installRuntime } from '../../workers/runtime';
import { startDemoStack, type DemoStack } from './stack';
import { runSyncFlow } from './flows/sync-flow';
import { runWebhookFlow } from './flows/webhook-flow';
import { runBackfillFlow } from './flows/backfill-flow';
import { runWebsiteFlow } from './flows/website-flow';
import { runParityFlow } from './flows/parity-flow';
import type { DemoReport, OrganizeReport, Reconciliation } from './reconcile';
import type { OrganizeSummary } from '../../workflows/organize';

export interface DemoOptions {
  log: Logger;
  /** Sandbox size (1 = the full seeded org); small by default so the demo takes about a minute. */
  scale?: number;
  /** Progress lines for a person watching (stderr); the report itself is returned. */
  say?: (line: string) => void;
  /** Settings beside the emulators' (default: TEMPORAL_CODEC_KEYS from the environment, so the demo can run encrypted). */
  env?: Record<string, string>;
  /** Called once the stack is up, before the flows (tests plant records here). */
  onStack?: (stack: DemoStack) => Promise<void>;
  /** Called after the flows, before the stack stops (tests read the histories here). */
  beforeStop?: (stack: DemoStack) => Promise<void>;
}

type Flow = (stack: DemoStack) => Promise<Reconciliation>;

/** Every flow once, in the order an operator would bring Novade's data in. */
const FLOWS: { name: string; run: Flow }[] = [
  {
    name: 'Salesforce sync',
    run: (s) => runSyncFlow(s, 'salesforce', { sourceCount: () => OBJECT_NAMES.reduce((n, o) => n + s.sf.store.count(o), 0), insertIdPrefix: 'sf:' }),
  },
  {
    name: 'Drift sync',
    run: (s) => runSyncFlow(s, 'drift', { sourceCount: () => driftRecords(s), insertIdPrefix: 'drift:' }),
  },
  { name: 'Segment backfill (a week of BigQuery history)', run: (s) => runBackfillFlow(s, { from: '2024-01-01', to: '2024-01-07' }) },
  // Before the webhook flow, so that the Amplitude stream it reconciles carries the website's events too.
  { name: 'Website (analytics.js in chromium → Segment-compatible endpoint → silver, Amplitude, Segment + BigQuery)', run: runWebsiteFlow },
  { name: 'Dual-tracking parity report (one more visit whose track calls Segment loses)', run: async (s) => (await runParityFlow(s)).row },
  { name: 'Amplitude webhook (a burst of website events, plus every event the syncs sent)', run: runWebhookFlow },
];

/**
 * What Drift's API can show: every conversation and message, the visitors of those conversations
 * (Drift cannot list contacts) and the meetings of the last 30 days or ahead.
 */
function driftRecords(s: DemoStack): number {
  const { store } = s.drift;
  const conversations = store.listConversations({ limit: Number.MAX_SAFE_INTEGER }).page;
  const visitors = new Set(conversations.map((c) => c.contactId)).size;
  const meetings = store.allMeetings().filter((m) => m.slotStart >= Date.now() - 30 * 86_400_000).length;
  return conversations.length + store.messageCount() + visitors + meetings;
}

export async function runDemo(opts: DemoOptions): Promise<DemoReport> {
  const say = opts.say ?? (() => undefined);
  const started = Date.now();
  installRuntime({ log: opts.log, metricsBind: `127.0.0.1:${await freePort()}`, shutdownSignals: [] });
  say('starting an ephemeral stack: emulators, Temporal dev server, worker...');
  const stack = await startDemoStack({
    log: opts.log,
    scale: opts.scale ?? 0.02,
    segmentRowsPerTable: 300,
    segmentFrom: '2024-01-01T00:00:00Z',
    segmentTo: '2024-01-08T00:00:00Z',
    env: opts.env ?? (process.env.TEMPORAL_CODEC_KEYS ? { TEMPORAL_CODEC_KEYS: process.env.TEMPORAL_CODEC_KEYS } : undefined),
  });
  try {
    await opts.onStack?.(stack);
    say(`Temporal Web UI of this run: ${stack.uiUrl} (gone when the demo exits)`);
    const flows: Reconciliation[] = [];
    for (const flow of FLOWS) {
      say(`${flow.name}...`);
      flows.push(await flow.run(stack));
    }
    say('organize: catch-up merges and data-quality checks...');
    const organize = await runOrganize(stack);
    await opts.beforeStop?.(stack);
    return { ok: flows.every((f) => f.problems.length === 0) && organize.failed.length === 0, organize, seconds: (Date.now() - started) / 1000, uiUrl: stack.uiUrl, flows };
  } finally {
    say('stopping the demo stack...');
    await stack.stop();
  }
}

async function runOrganize(stack: DemoStack): Promise<OrganizeReport> {
  const summary: OrganizeSummary = await stack.client.workflow.execute('organizeWorkflow', {
    taskQueue: stack.config.temporal.taskQueue,
    workflowId: 'demo-organize',
    args: [{}],
  });
  return {
    merged: summary.streams.reduce((n, s) => n + s.merged, 0),
    checks: summary.checks.results.length,
    failed: [
      ...summary.checks.failed.map((c) => `${c.check} on ${c.table}${c.detail ? `: ${c.detail}` : ''}`),
      ...summary.failedStreams.map((f) => `organize ${f.stream}: ${f.error}`),
      ...summary.failedSteps.map((f) => `${f.step}: ${f.error}`),
    ],
  };
}
