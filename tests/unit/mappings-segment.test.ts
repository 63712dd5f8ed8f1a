import { describe, expect, it } from 'vitest';
import { mapSegmentRow } from '../../mappings/segment';
import { segmentSilverRow } from '../../mappings/segment-warehouse';
import { SegmentGenerator } from '../../sandbox/seed/segment';

const base = {
  id: 'ajs-next-abc123',
  anonymous_id: '0f8e4a2c-1111-4222-8333-444455556666',
  user_id: 'jane.doe@example.com',
  timestamp: '2023-05-04T10:11:12.345678Z',
  received_at: '2023-05-04T10:11:20.000000Z',
  sent_at: '2023-05-04T10:11:19.000000Z',
  original_timestamp: '2023-05-04T10:11:12.345678Z',
  uuid_ts: '2023-05-04T12:00:00.000000Z',
  loaded_at: '2023-05-04T12:05:00.000000Z',
  context_ip: '10.1.2.3',
  context_library_name: 'analytics.js',
  context_page_path: '/pricing',
};

describe('Segment rows to Amplitude events', () => {
  it('maps a track: event name, flattened properties only, time in ms, seg: insert_id, both ids', () => {
    const r = mapSegmentRow('tracks', { ...base, event: 'form_submitted', event_text: 'Form Submitted', form_type: 'inspection', item_count: 3, offline: false, plan: null }, { minIdLength: 5 });
    expect(r).toEqual({
      ok: true,
      event: {
        event_type: 'form_submitted',
        user_id: 'jane.doe@example.com',
        device_id: '0f8e4a2c-1111-4222-8333-444455556666',
        time: Date.UTC(2023, 4, 4, 10, 11, 12, 345),
        insert_id: 'seg:ajs-next-abc123',
        ip: '10.1.2.3',
        event_properties: { form_type: 'inspection', item_count: 3, offline: false },
      },
    });
  });

  it('maps an identify to $identify with the traits as $set, and a page to Viewed <name> or Page Viewed', () => {
    const id = mapSegmentRow('identifies', { ...base, email: 'Jane.Doe@example.com', plan: 'enterprise', company: null }, { minIdLength: 5 });
    expect(id.ok && id.event).toMatchObject({ event_type: '$identify', user_properties: { $set: { email: 'Jane.Doe@example.com', plan: 'enterprise' } } });
    expect(id.ok && id.event.event_properties).toBeUndefined();
    const page = mapSegmentRow('pages', { ...base, name: 'Pricing', path: '/pricing', url: 'https://novade.net/pricing', title: 'Pricing | Novade', search: null }, { minIdLength: 5 });
    expect(page.ok && page.event).toMatchObject({ event_type: 'Viewed Pricing', event_properties: { name: 'Pricing', path: '/pricing', url: 'https://novade.net/pricing', title: 'Pricing | Novade' } });
    const unnamed = mapSegmentRow('pages', { ...base, name: null, path: '/x' }, { minIdLength: 5 });
    expect(unnamed.ok && unnamed.event.event_type).toBe('Page Viewed');
  });

  it('sends anonymous rows with device_id only, and rejects rows with no usable id, with the reason', () => {
    const anon = mapSegmentRow('tracks', { ...base, user_id: null, event: 'login' }, { minIdLength: 5 });
    expect(anon.ok && [anon.event.user_id, anon.event.device_id]).toEqual([undefined, base.anonymous_id]);
    const placeholder = mapSegmentRow('tracks', { ...base, user_id: 'null', event: 'login' }, { minIdLength: 5 });
    expect(placeholder.ok && placeholder.event.user_id).toBeUndefined();
    expect(mapSegmentRow('tracks', { ...base, user_id: null, anonymous_id: null, event: 'login' }, { minIdLength: 5 })).toEqual({
      ok: false,
      reason: 'neither user_id nor anonymous_id: Amplitude needs one of them',
    });
    const bad = mapSegmentRow('tracks', { ...base, user_id: 'ab', anonymous_id: null, event: 'login' }, { minIdLength: 5 });
    expect(bad.ok === false && bad.reason).toMatch(/no usable user_id or anonymous_id.*shorter than Amplitude's minimum id length/);
    expect(mapSegmentRow('tracks', { ...base, event: null }, { minIdLength: 5 })).toEqual({ ok: false, reason: 'track without an event name' });
  });

  it('maps every generated row of the sandbox dataset or gives a reason, never throws', () => {
    for (const table of ['tracks', 'identifies', 'pages'] as const) {
      const gen = new SegmentGenerator({ seed: 7, rowsPerTable: 3000, from: '2022-01-01T00:00:00Z', to: '2023-01-01T00:00:00Z' }, table);
      let ok = 0;
      for (let i = 0; i < gen.rows; i++) {
        const row = gen.row(i);
        const r = mapSegmentRow(table, row, { minIdLength: 5 });
        if (r.ok) {
          ok++;
          expect(r.event.insert_id).toBe(`seg:${row.id}`);
          expect(r.event.time).toBe(Math.floor(Date.parse(String(row.timestamp).slice(0, 23) + 'Z')));
        } else expect(row.user_id === null && row.anonymous_id === null || row.event === null).toBe(true);
      }
      expect(ok).toBeGreaterThan(gen.rows * 0.98);
    }
  });

  it('keeps a silver row per id with the latest load as its version, context and properties as JSON', () => {
    const row = segmentSilverRow('tracks', { ...base, event: 'login', event_text: 'Login', plan: 'free', project_id: null });
    expect(row).toMatchObject({ id: base.id, event: 'login', seen_at: base.loaded_at, context: { ip: '10.1.2.3', library_name: 'analytics.js', page_path: '/pricing' }, properties: { plan: 'free' } });
    expect(segmentSilverRow('pages', { ...base, loaded_at: null, name: 'Home' }).seen_at).toBe(base.uuid_ts);
  });
});
