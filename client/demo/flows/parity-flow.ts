import { SegmentReader } from '../../../connectors/bigquery';
import { addDays, type ParityReport } from '../../../tracking/parity';
import { bigQuerySide, paritySilverTables, readParity, warehouseSides } from '../../../tracking/parity-sources';
import type { Reconciliation } from '../reconcile';
import type { DemoStack } from '../stack';
import { launchChromium, visitWebsite, type PageCall } from '../website/browser';
import { waitForWebsiteCalls } from './website-flow';

/**
 * The dual-tracking parity report on the demo's website traffic. One more visit is made while the
 * Segment emulator loses every track call (it answers 200 and never loads them, as a real loss
 * would look); then, once Amplitude has streamed its events back to the webhook and Segment has
 * loaded its BigQuery tables, the report joins the three sides on messageId. It must reconcile
 * everything the website sent and name exactly the lost calls as missing in Segment's warehouse.
 */
export interface ParityFlowResult {
  row: Reconciliation;
  report: ParityReport;
  lost: string[];
}

/** Every website event is back from Amplitude's stream (identifies are not streamed). */
async function waitForStream(stack: DemoStack, calls: PageCall[], timeoutMs = 120_000): Promise<void> {
  await stack.amp.flushStream(timeoutMs);
  const events = calls.filter((c) => c.type !== 'identify').map((c) => `seg:${c.messageId}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await stack.deps.warehouse.query<{ insert_id: string }>("SELECT insert_id FROM silver.amplitude_events WHERE insert_id LIKE 'seg:%'").catch(() => []);
    const have = new Set(rows.map((r) => r.insert_id));
    if (events.every((id) => have.has(id)) || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function runParityFlow(stack: DemoStack): Promise<ParityFlowResult> {
  const browser = await launchChromium();
  let calls: PageCall[] = [];
  const problems: string[] = [];
  let lost: string[] = [];
  try {
    stack.segment.loss.set({ rate: 1, types: ['track'] });
    const visit = await visitWebsite({ browser, page: stack.website, collectorUrl: stack.webhook.url, strategy: 'standard', visitor: 'demo-parity-visitor' });
    if (visit.error) problems.push(`analytics.js failed: ${visit.error}`);
    calls = visit.calls;
    lost = calls.filter((c) => c.type === 'track').map((c) => c.messageId);
    // The forward is asynchronous: the loss stays on until the emulator has received (and dropped) them.
    const deadline = Date.now() + 120_000;
    const dropped = () => new Set(stack.segment.store.dropped().map((d) => d.call.messageId));
    while (!lost.every((id) => dropped().has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  } finally {
    stack.segment.loss.set(undefined);
    await browser.close();
  }
  await waitForWebsiteCalls(stack, calls.filter((c) => !lost.includes(c.messageId)));
  // The website flow's calls too: the report covers every call of the day.
  const website = (await stack.deps.warehouse.query<{ id: string; type: string }>(
    "SELECT id, 'track' AS type FROM silver.segment_live_tracks UNION ALL SELECT id, 'page' AS type FROM silver.segment_live_pages",
  )).map((r) => ({ messageId: r.id, type: r.type as PageCall['type'] }));
  await waitForStream(stack, [...website, ...calls]);
  await stack.segment.warehouse?.flush();

  const reader = new SegmentReader({ projectId: stack.bq.projectId, apiEndpoint: stack.bq.url, dataset: stack.bq.dataset });
  let report: ParityReport;
  try {
    await stack.deps.warehouse.ensureSchema({ silver: paritySilverTables() });
    const today = new Date().toISOString().slice(0, 10);
    report = await readParity({ segment: bigQuerySide(reader), ...warehouseSides(stack.deps.warehouse) }, { from: addDays(today, -1), to: today, tolerance: stack.config.tracking.parityTolerance });
  } finally {
    await reader.close();
  }

  const named = report.missing.segment.samples.map((s) => s.messageId).sort();
  if (named.join() !== [...lost].sort().join()) problems.push(`the report names ${named.join(', ') || 'nothing'} as missing in Segment, the emulator lost ${lost.join(', ')}`);
  for (const [side, m] of Object.entries(report.missing))
    if (side !== 'segment' && m.count > 0) problems.push(`${m.count} calls reported missing (${side}): ${m.samples.map((s) => s.messageId).slice(0, 3).join(', ')}`);
  const t = report.totals;
  // Amplitude's side: the event types its stream sends back (identifies are not), blocked calls left out.
  const streamed = report.rows.filter((r) => r.amplitudeCompared);
  const sum = (f: (r: (typeof streamed)[number]) => number) => streamed.reduce((n, r) => n + f(r), 0);
  return {
    lost,
    report,
    row: {
      flow: `dual-tracking parity (${lost.length} calls lost by Segment, found)`,
      source: t.collected,
      silver: t.collected - t.blocked,
      amplitude: sum((r) => r.amplitude),
      sent: sum((r) => r.collected - r.blocked),
      segment: t.segment,
      deadLetters: 0,
      duplicates: 0,
      problems,
    },
  };
}
