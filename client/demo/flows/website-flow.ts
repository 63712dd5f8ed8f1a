import { SegmentReader } from '../../../connectors/bigquery';
import { segmentLiveSilverDef } from '../../../mappings/segment-live';
import { judge, type Reconciliation } from '../reconcile';
import type { DemoStack } from '../stack';
import { launchChromium, trackingRequests, visitWebsite, type PageCall, type Visit } from '../website/browser';
import type { DeliveryStrategy } from '../website/page-server';

/**
 * Website tracking with dual tracking on: a real browser (Debian's chromium) visits the demo website,
 * whose analytics.js sends page, identify and track calls to the webhook's Segment-compatible
 * endpoint, once with each delivery strategy. Every call must then be in three places under its
 * messageId: silver (`silver.segment_live_*`), Amplitude (insert_id `seg:<messageId>`), and Segment
 * (the forward's destination, and the BigQuery warehouse Segment's sync fills).
 */

const SILVER_TABLES = { page: 'pages', identify: 'identifies', track: 'tracks' } as const;
const BIGQUERY_TABLES = ['tracks', 'identifies', 'pages'] as const;

export interface WebsiteArrival {
  silver: Set<string>;
  /** insert_id `seg:<messageId>` in the Amplitude emulator, with how many events carry it. */
  amplitude: Map<string, number>;
  /** Kept by the Segment emulator's API, with how many times it arrived (replays included). */
  segment: Map<string, number>;
  bigquery: Map<string, number>;
}

/** Where each of these calls is now. */
export async function whereCallsArrived(stack: DemoStack, calls: PageCall[], opts: { bigquery?: boolean } = {}): Promise<WebsiteArrival> {
  const ids = new Set(calls.map((c) => c.messageId));
  const silver = new Set<string>();
  for (const type of new Set(calls.map((c) => c.type))) {
    const table = segmentLiveSilverDef(SILVER_TABLES[type]).name;
    const exists = await stack.deps.warehouse.query<{ n: number | bigint }>(`SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'silver' AND table_name = '${table}'`);
    if (Number(exists[0]?.n ?? 0) === 0) continue;
    for (const r of await stack.deps.warehouse.query<{ id: string }>(`SELECT id FROM silver."${table}" WHERE NOT _deleted`)) if (ids.has(r.id)) silver.add(r.id);
  }
  const amplitude = new Map<string, number>();
  const segment = new Map<string, number>();
  for (const id of ids) {
    const held = stack.amp.store.list({ insertId: `seg:${id}` }).length;
    if (held > 0) amplitude.set(id, held);
    const kept = stack.segment.store.byMessageId(id);
    if (kept) segment.set(id, kept.times);
  }
  const bigquery = new Map<string, number>();
  if (opts.bigquery !== false) {
    await stack.segment.warehouse?.flush();
    const reader = new SegmentReader({ projectId: stack.bq.projectId, apiEndpoint: stack.bq.url, dataset: stack.bq.dataset });
    try {
      // The demo's BigQuery history is from 2024; the live calls are from today.
      const windowStart = new Date(Date.now() - 2 * 86_400_000).toISOString();
      const windowEnd = new Date(Date.now() + 86_400_000).toISOString();
      for (const table of BIGQUERY_TABLES) {
        const { rows } = await reader.readPage({ table, windowStart, windowEnd, limit: 10_000 });
        for (const r of rows) if (ids.has(r.id)) bigquery.set(r.id, (bigquery.get(r.id) ?? 0) + 1);
      }
    } finally {
      await reader.close();
    }
  }
  return { silver, amplitude, segment, bigquery };
}

/** Waits until every call is in silver, Amplitude and Segment's API (the warehouse is checked after), or the deadline passes. */
export async function waitForWebsiteCalls(stack: DemoStack, calls: PageCall[], timeoutMs = 120_000): Promise<WebsiteArrival> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = await whereCallsArrived(stack, calls, { bigquery: false });
    const complete = a.silver.size === calls.length && a.amplitude.size === calls.length && a.segment.size === calls.length;
    if (complete || Date.now() > deadline) return whereCallsArrived(stack, calls);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function runWebsiteFlow(stack: DemoStack): Promise<Reconciliation> {
  const browser = await launchChromium();
  const visits: Visit[] = [];
  try {
    for (const strategy of ['standard', 'batching'] as DeliveryStrategy[])
      visits.push(await visitWebsite({ browser, page: stack.website, collectorUrl: stack.webhook.url, strategy, visitor: `demo-${strategy}-visitor` }));
  } finally {
    await browser.close();
  }
  const problems: string[] = [];
  for (const v of visits) {
    if (v.error) problems.push(`analytics.js (${v.strategy}) failed: ${v.error}`);
    const refused = trackingRequests(v).filter((r) => r.status !== 200);
    if (refused.length) problems.push(`${refused.length} ${v.strategy} requests were not answered 200 (${refused.map((r) => `${r.path}: ${r.status || r.failure}`).join(', ')})`);
  }
  const calls = visits.flatMap((v) => v.calls);
  const arrival = await waitForWebsiteCalls(stack, calls);
  const missing = (where: string, has: { has(id: string): boolean }) => {
    const lost = calls.filter((c) => !has.has(c.messageId));
    if (lost.length) problems.push(`${lost.length} calls missing from ${where}: ${lost.map((c) => c.messageId).slice(0, 3).join(', ')}`);
  };
  missing("Segment's API (the forward)", arrival.segment);
  missing("Segment's BigQuery warehouse", arrival.bigquery);
  const inSegment = calls.filter((c) => arrival.segment.has(c.messageId) && arrival.bigquery.has(c.messageId)).length;
  const twice = (m: Map<string, number>) => [...m.values()].reduce((n, k) => n + k - 1, 0);
  const [letters] = await stack.deps.warehouse.query<{ n: number | bigint }>("SELECT count(*) AS n FROM ops.dead_letters WHERE stream LIKE 'segment_live%'");
  return judge(
    {
      flow: 'website (analytics.js)',
      source: calls.length,
      silver: arrival.silver.size,
      amplitude: [...arrival.amplitude.values()].reduce((a, b) => a + b, 0),
      // Page, identify and track calls each become one Amplitude event.
      sent: calls.length,
      segment: inSegment,
      deadLetters: Number(letters?.n ?? 0),
      duplicates: twice(arrival.amplitude) + twice(arrival.bigquery),
    },
    problems,
  );
}
