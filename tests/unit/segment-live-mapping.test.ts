import { describe, expect, it } from 'vitest';
import { checkSegmentCall, enrichCall, type EnrichedCall } from '../../mappings/segment-calls';
import { columnName, liveAmplitudeEvent, liveSilverRow, liveWarehouseRow, segmentLiveSilverDef, SEGMENT_LIVE_TABLES } from '../../mappings/segment-live';
import { mapSegmentRow } from '../../mappings/segment';
import { segmentSilverDef } from '../../mappings/segment-warehouse';

/** Live calls in Segment's warehouse row shape, and through the backfill's mappings from there. */

const RECEIVED = Date.parse('2026-03-01T12:00:10.000Z');

function enriched(raw: Record<string, unknown>): EnrichedCall {
  const checked = checkSegmentCall(raw);
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  return enrichCall(raw, checked.call, { receivedAt: RECEIVED, ip: '203.0.113.7', newMessageId: () => 'generated' });
}

/** What analytics.js 2.0 sends for `analytics.track('Form Submitted', {...})` on novade.com. */
const browserTrack = {
  type: 'track',
  event: 'Form Submitted',
  messageId: 'ajs-next-1709294408000-3b1c',
  anonymousId: '5e1a7b1c-anon',
  userId: 'Jane.Doe@novade.net',
  timestamp: '2026-03-01T12:00:08.000Z',
  sentAt: '2026-03-01T12:00:09.000Z',
  properties: { formType: 'Inspection', projectId: 42, tags: ['a', 'b'], site: { zone: 'North', floor: 3 } },
  context: {
    library: { name: 'analytics.js', version: 'npm:next-1.84.1' },
    page: { path: '/demo', url: 'https://www.novade.com/demo', title: 'Demo', referrer: '', search: '' },
    userAgent: 'Mozilla/5.0',
    locale: 'en-US',
    campaign: { source: 'newsletter' },
  },
  integrations: {},
  _metadata: { bundled: ['Segment.io'] },
};

describe("Segment's warehouse row of a live call", () => {
  it('names columns as Segment does', () => {
    expect(['projectId', 'Project ID', 'formType', 'userAgent', 'URLPath', '$price', 'Établissement'].map(columnName)).toEqual([
      'project_id',
      'project_id',
      'form_type',
      'user_agent',
      'url_path',
      'price',
      'etablissement',
    ]);
  });

  it('flattens a track: ids, the four timestamps, context_*, properties as columns, event and event_text', () => {
    const { table, row } = liveWarehouseRow(enriched(browserTrack));
    expect(table).toBe('tracks');
    expect(row).toEqual({
      id: 'ajs-next-1709294408000-3b1c',
      anonymous_id: '5e1a7b1c-anon',
      user_id: 'Jane.Doe@novade.net',
      received_at: '2026-03-01T12:00:10.000Z',
      sent_at: '2026-03-01T12:00:09.000Z',
      timestamp: '2026-03-01T12:00:09.000Z',
      original_timestamp: '2026-03-01T12:00:08.000Z',
      uuid_ts: '2026-03-01T12:00:10.000Z',
      context_library_name: 'analytics.js',
      context_library_version: 'npm:next-1.84.1',
      context_page_path: '/demo',
      context_page_url: 'https://www.novade.com/demo',
      context_page_title: 'Demo',
      context_page_referrer: '',
      context_page_search: '',
      context_user_agent: 'Mozilla/5.0',
      context_locale: 'en-US',
      context_campaign_source: 'newsletter',
      context_ip: '203.0.113.7',
      event: 'form_submitted',
      event_text: 'Form Submitted',
      form_type: 'Inspection',
      project_id: 42,
      tags: '["a","b"]',
      site_zone: 'North',
      site_floor: 3,
    });
  });

  it('gives identify its traits, page and screen their name, group and alias their ids; a property never overwrites a Segment column', () => {
    const id = liveWarehouseRow(enriched({ type: 'identify', userId: 'u-12345', traits: { email: 'a@novade.net', firstName: 'Ann', id: 'spoof', event: 'x' } }));
    expect(id.table).toBe('identifies');
    expect(id.row).toMatchObject({ id: 'generated', email: 'a@novade.net', first_name: 'Ann' });
    expect(id.row.event).toBeUndefined();
    const page = liveWarehouseRow(enriched({ type: 'page', anonymousId: 'anon-12345', name: 'Pricing', category: 'Docs', properties: { path: '/pricing', url: 'https://www.novade.com/pricing' } }));
    expect(page).toMatchObject({ table: 'pages', row: { name: 'Pricing', category: 'Docs', path: '/pricing', url: 'https://www.novade.com/pricing' } });
    expect(liveWarehouseRow(enriched({ type: 'screen', anonymousId: 'anon-12345', properties: { name: 'Home' } }))).toMatchObject({ table: 'screens', row: { name: 'Home' } });
    expect(liveWarehouseRow(enriched({ type: 'group', userId: 'u-12345', groupId: 'acme', traits: { plan: 'pro' } }))).toMatchObject({ table: 'groups', row: { group_id: 'acme', plan: 'pro' } });
    expect(liveWarehouseRow(enriched({ type: 'alias', userId: 'u-12345', previousId: 'anon-12345' }))).toMatchObject({ table: 'aliases', row: { previous_id: 'anon-12345', user_id: 'u-12345' } });
  });
});

describe('silver and Amplitude through the backfill mappings', () => {
  it('uses the backfill layouts for tracks, identifies, pages and screens, and small ones for groups and aliases', () => {
    for (const t of ['tracks', 'identifies', 'pages'] as const) expect(segmentLiveSilverDef(t)).toEqual({ ...segmentSilverDef(t), name: `segment_live_${t}` });
    expect(segmentLiveSilverDef('screens').columns).toEqual(segmentSilverDef('pages').columns);
    expect(SEGMENT_LIVE_TABLES.map((t) => segmentLiveSilverDef(t).name)).toEqual([
      'segment_live_tracks',
      'segment_live_identifies',
      'segment_live_pages',
      'segment_live_screens',
      'segment_live_groups',
      'segment_live_aliases',
    ]);
    const { table, row } = liveSilverRow(enriched(browserTrack));
    expect(table).toBe('tracks');
    expect(row).toMatchObject({
      id: browserTrack.messageId,
      timestamp: '2026-03-01T12:00:09.000Z',
      event: 'form_submitted',
      event_text: 'Form Submitted',
      seen_at: '2026-03-01T12:00:10.000Z',
      context: expect.objectContaining({ page_path: '/demo', ip: '203.0.113.7' }),
      properties: { form_type: 'Inspection', project_id: 42, tags: '["a","b"]', site_zone: 'North', site_floor: 3 },
    });
    const g = liveSilverRow(enriched({ type: 'group', userId: 'u-12345', groupId: 42, traits: { plan: 'pro' } }));
    expect(g.row).toMatchObject({ group_id: '42', traits: { plan: 'pro' }, context: { ip: '203.0.113.7' } });
  });

  it('sends what the backfill sends for the same message: insert_id seg:<messageId>, page as Viewed <name>', () => {
    const call = enriched(browserTrack);
    const live = liveAmplitudeEvent(call, { minIdLength: 5 });
    expect(live).toEqual(mapSegmentRow('tracks', liveWarehouseRow(call).row, { minIdLength: 5 }));
    expect(live.ok && live.event).toMatchObject({
      event_type: 'form_submitted',
      insert_id: `seg:${browserTrack.messageId}`,
      user_id: 'Jane.Doe@novade.net',
      device_id: '5e1a7b1c-anon',
      time: Date.parse('2026-03-01T12:00:09.000Z'),
      ip: '203.0.113.7',
    });
    const page = liveAmplitudeEvent(enriched({ type: 'page', anonymousId: 'anon-12345', name: 'Pricing', messageId: 'p1' }), { minIdLength: 5 });
    expect(page.ok && page.event).toMatchObject({ event_type: 'Viewed Pricing', insert_id: 'seg:p1' });
    const screen = liveAmplitudeEvent(enriched({ type: 'screen', anonymousId: 'anon-12345', name: 'Home', messageId: 's1' }), { minIdLength: 5 });
    expect(screen.ok && screen.event.event_type).toBe('Viewed Home');
    const identify = liveAmplitudeEvent(enriched({ type: 'identify', userId: 'u-12345', traits: { plan: 'pro' }, messageId: 'i1' }), { minIdLength: 5 });
    expect(identify.ok && identify.event).toMatchObject({ event_type: '$identify', user_properties: { $set: { plan: 'pro' } }, insert_id: 'seg:i1' });
  });

  it('sets the group with an $identify when a group type is configured, and refuses group without it and alias with the reason', () => {
    const group = enriched({ type: 'group', userId: 'u-12345', groupId: 'acme', messageId: 'g1' });
    expect(liveAmplitudeEvent(group, { minIdLength: 5, groupType: 'company' })).toEqual({
      ok: true,
      event: { event_type: '$identify', user_id: 'u-12345', time: RECEIVED, insert_id: 'seg:g1', groups: { company: 'acme' }, user_properties: { $set: { company: 'acme' } }, ip: '203.0.113.7' },
    });
    const noType = liveAmplitudeEvent(group, { minIdLength: 5 });
    expect(noType.ok === false && noType.reason).toMatch(/Accounts add-on.*SEGMENT_AMPLITUDE_GROUP_TYPE/);
    const alias = liveAmplitudeEvent(enriched({ type: 'alias', userId: 'u-12345', previousId: 'anon-12345' }), { minIdLength: 5 });
    expect(alias.ok === false && alias.reason).toMatch(/usermap.*Portfolio/);
  });
});
