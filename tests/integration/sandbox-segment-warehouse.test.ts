import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SegmentReader } from '../../connectors/bigquery';
import { createBigQueryClient } from '../../connectors/bigquery/client';
import { startBigQueryEmulator, type BigQueryEmulator } from '../../sandbox/bigquery';
import { startSegmentEmulator, type SegmentEmulator } from '../../sandbox/segment';

/**
 * The Segment emulator's warehouse sync into the real BigQuery emulator: what @segment/analytics-node
 * sends lands in the seeded Segment dataset, after the configured delay, where the backfill's
 * connectors/bigquery reader finds it with the columns it reads for the seeded history.
 */

const KEY = 'sandbox-segment-write-key';
let bq: BigQueryEmulator;
let emu: SegmentEmulator;
let reader: SegmentReader;

beforeAll(async () => {
  bq = await startBigQueryEmulator({ rowsPerTable: { tracks: 30, identifies: 10, pages: 20 }, seed: 42, startTimeoutMs: 120_000 });
  emu = await startSegmentEmulator({ port: 0, writeKeys: [KEY], warehouse: { url: bq.url, projectId: bq.projectId, dataset: bq.dataset, delayMs: 60_000, intervalMs: 50 } });
  reader = new SegmentReader({ projectId: bq.projectId, apiEndpoint: bq.url, dataset: bq.dataset });
}, 180_000);
afterAll(async () => {
  await reader?.close();
  await emu?.close();
  await bq?.close();
});

function send(analytics: Analytics, call: 'track' | 'identify' | 'page' | 'group', params: Record<string, unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    type Callback = (err?: unknown, ctx?: { event: { messageId?: string } }) => void;
    const cb: Callback = (err, ctx) => (err ? reject(new Error(String(err))) : resolve(ctx!.event.messageId!));
    (analytics[call] as (p: Record<string, unknown>, cb: Callback) => void).call(analytics, params, cb);
  });
}

const window = () => ({ windowStart: new Date(Date.now() - 3_600_000).toISOString(), windowEnd: new Date(Date.now() + 3_600_000).toISOString() });

describe('Segment emulator → BigQuery emulator (warehouse sync)', () => {
  it('writes tracks, identifies and pages after the delay, readable by the backfill reader with the seed columns', async () => {
    const analytics = new Analytics({ writeKey: KEY, host: emu.url, flushAt: 10, flushInterval: 50 });
    const context = { ip: '203.0.113.7', locale: 'en-SG', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', page: { path: '/pricing', url: 'https://www.novade.com/pricing', title: 'Pricing | Novade' } };
    const [trackId, identifyId, pageId] = await Promise.all([
      send(analytics, 'track', { userId: 'ada@example.com', anonymousId: 'anon-00042', event: 'Form Submitted', properties: { formType: 'inspection', itemCount: 3, plan: 'enterprise' }, context }),
      send(analytics, 'identify', { userId: 'ada@example.com', traits: { email: 'ada@example.com', firstName: 'Ada', company: 'Acme', createdAt: '2021-06-01T08:00:00.000Z' }, context }),
      send(analytics, 'page', { anonymousId: 'anon-00042', name: 'Pricing', category: 'marketing', properties: { path: '/pricing', url: 'https://www.novade.com/pricing', title: 'Pricing | Novade' }, context }),
    ]);
    await analytics.closeAndFlush();

    // Still inside the delay: nothing in BigQuery yet.
    await new Promise((r) => setTimeout(r, 300));
    expect(emu.warehouse!.stats()).toMatchObject({ pending: 3, loaded: 0 });
    const before = await reader.readPage({ table: 'tracks', ...window(), limit: 100 });
    expect(before.rows.map((r) => r.id)).not.toContain(trackId);

    const stats = await emu.warehouse!.flush();
    expect(stats).toMatchObject({ pending: 0, loaded: 3, failedLoads: 0, rows: { tracks: 1, identifies: 1, pages: 1 } });

    const [tracks, identifies, pages] = await Promise.all(
      (['tracks', 'identifies', 'pages'] as const).map((table) => reader.readPage({ table, ...window(), limit: 100 })),
    );
    expect(tracks.rejected).toEqual([]);
    const track = tracks.rows.find((r) => r.id === trackId)!;
    expect(track).toMatchObject({
      user_id: 'ada@example.com',
      anonymous_id: 'anon-00042',
      event: 'form_submitted',
      event_text: 'Form Submitted',
      form_type: 'inspection',
      item_count: 3,
      plan: 'enterprise',
      context_library_name: '@segment/analytics-node',
      context_ip: '203.0.113.7',
      context_locale: 'en-SG',
      context_page_path: '/pricing',
    });
    const call = emu.store.byMessageId(trackId)!.call;
    expect(track.timestamp).toBe(call.timestamp.replace('Z', '000Z'));
    expect(track.received_at).toBe(call.receivedAt.replace('Z', '000Z'));
    expect(identifies.rows.find((r) => r.id === identifyId)).toMatchObject({ email: 'ada@example.com', first_name: 'Ada', company: 'Acme', created_at: '2021-06-01T08:00:00.000000Z' });
    expect(pages.rows.find((r) => r.id === pageId)).toMatchObject({ name: 'Pricing', category: 'marketing', path: '/pricing', title: 'Pricing | Novade', context_user_agent: 'Mozilla/5.0 (X11; Linux x86_64)' });
  });

  it('loads on its own every interval once the delay is over; lost calls and duplicates never reach BigQuery', async () => {
    emu.warehouse!.configure({ delayMs: 0 });
    emu.loss.set({ messageIds: ['wh-lost'] });
    const post = (body: unknown) =>
      fetch(`${emu.url}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}` }, body: JSON.stringify(body) });
    const batch = { batch: ['wh-1', 'wh-2', 'wh-lost'].map((messageId) => ({ type: 'track', userId: 'bob@example.com', event: 'Demo Requested', messageId })) };
    expect((await post(batch)).status).toBe(200);
    expect((await post(batch)).status).toBe(200);
    const deadline = Date.now() + 10_000;
    while (emu.warehouse!.stats().pending > 0 || emu.warehouse!.stats().loaded < 5) {
      if (Date.now() > deadline) throw new Error(`warehouse sync did not run: ${JSON.stringify(emu.warehouse!.stats())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const bqClient = createBigQueryClient({ projectId: bq.projectId, apiEndpoint: bq.url });
    const [rows] = await bqClient.query({ query: `SELECT id, COUNT(*) AS n FROM \`${bq.projectId}.${bq.dataset}.tracks\` WHERE user_id = 'bob@example.com' GROUP BY id ORDER BY id` });
    expect(rows).toEqual([
      { id: 'wh-1', n: 1 },
      { id: 'wh-2', n: 1 },
    ]);
  });

  it('creates the tables of the other call types, and lists the columns a seeded table lacks', async () => {
    const analytics = new Analytics({ writeKey: KEY, host: emu.url, flushAt: 10, flushInterval: 50 });
    const groupId = await send(analytics, 'group', { userId: 'ada@example.com', groupId: 'acme', traits: { name: 'Acme', employees: 420 } });
    await send(analytics, 'track', { userId: 'ada@example.com', event: 'Video Played', properties: { videoId: 'v1' } });
    await analytics.closeAndFlush();
    const stats = await emu.warehouse!.flush();
    expect(stats.missingColumns).toContain('tracks.video_id');
    expect(await reader.listTables()).toEqual(expect.arrayContaining(['groups', 'identifies', 'pages', 'tracks']));
    const bqClient = createBigQueryClient({ projectId: bq.projectId, apiEndpoint: bq.url });
    const [rows] = await bqClient.query({ query: `SELECT id, group_id, name, employees FROM \`${bq.projectId}.${bq.dataset}.groups\`` });
    expect(rows).toEqual([{ id: groupId, group_id: 'acme', name: 'Acme', employees: 420 }]);
  });
});
