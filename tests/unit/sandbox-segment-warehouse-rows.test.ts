import { describe, expect, it } from 'vitest';
import { parseSegmentRow } from '../../connectors/bigquery/segment-rows';
import { segmentColumns } from '../../sandbox/seed/segment-columns';
import { snakecase } from '../../sandbox/segment/snakecase';
import { castCell } from '../../sandbox/segment/warehouse-sync';
import { baseColumns, flatten, inferType, warehouseRows } from '../../sandbox/segment/warehouse-rows';
import type { CallType, JsonObject, ReceivedCall } from '../../sandbox/segment/types';

const LOADED = new Date('2025-03-01T12:05:00.000Z');

function call(type: CallType, message: JsonObject, messageId = 'ajs-next-1'): ReceivedCall {
  return {
    messageId,
    type,
    writeKey: 'k',
    receivedAt: '2025-03-01T12:00:00.000Z',
    timestamp: '2025-03-01T11:59:30.000Z',
    message: { type, messageId, sentAt: '2025-03-01T11:59:31.000Z', originalTimestamp: '2025-03-01T11:59:29.000Z', ...message },
  };
}

describe('go-snakecase port', () => {
  // The cases of github.com/segmentio/go-snakecase snake_test.go.
  const cases: [string, string][] = [
    ['@49L0S145_¬fwHƒ0TSLNVp', '49l0s145_fw_h_0tslnvp'],
    ['lk0B@bFmjrLQ_Z6YL', 'lk0_b_b_fmjr_lq_z6yl'],
    ['samPLE text', 'sam_ple_text'],
    ['sample text', 'sample_text'],
    ['sample-text', 'sample_text'],
    ['sample_text', 'sample_text'],
    ['sample___text', 'sample_text'],
    ['sampleText', 'sample_text'],
    ['inviteYourCustomersAddInvites', 'invite_your_customers_add_invites'],
    ['sample 2 Text', 'sample_2_text'],
    ['   sample   2    Text   ', 'sample_2_text'],
    ['   $#$sample   2    Text   ', 'sample_2_text'],
    ['SAMPLE 2 TEXT', 'sample_2_text'],
    ['___$$Base64Encode', 'base64_encode'],
    ['FOO:BAR$BAZ', 'foo_bar_baz'],
    ['FOO#BAR#BAZ', 'foo_bar_baz'],
    ['something.com', 'something_com'],
    ['$something%', 'something'],
    ['•¶§ƒ˚foo˙∆˚¬', 'foo'],
    ['CStringRef', 'cstring_ref'],
    ['5test', '5test'],
    ['test5', 'test5'],
    ['THE5r', 'the5r'],
    ['5TEst', '5test'],
    ['_5TEst', '5test'],
    ['@%#&5TEst', '5test'],
    ['edf_6N', 'edf_6n'],
    ['f_pX9', 'f_p_x9'],
    ['p_z9Rg', 'p_z9_rg'],
    ['2FA Enabled', '2fa_enabled'],
    ['Enabled 2FA', 'enabled_2fa'],
  ];
  it.each(cases)('%j -> %j', (input, output) => expect(snakecase(input)).toBe(output));

  it('treats non-ASCII bytes as separators, as the Go byte loop does', () => {
    expect(snakecase('Order Completed')).toBe('order_completed');
    expect(snakecase('Rapport exporté')).toBe('rapport_export');
    expect(snakecase('userAgent')).toBe('user_agent');
  });
});

describe('warehouse rows', () => {
  it('flattens nested objects with _, stringifies arrays, leaves nulls out', () => {
    expect(flatten({ app: { version: '1.0.0' }, productId: { sku: 'G-32' }, ids: ['507f1', '505bd'], gone: null }, 'context')).toEqual({
      context_app_version: '1.0.0',
      context_product_id_sku: 'G-32',
      context_ids: '["507f1","505bd"]',
    });
  });

  it('a track: common columns, event slug and text, context flattened, properties as columns; readable by the backfill reader', () => {
    const [row] = warehouseRows(
      call('track', {
        userId: 'ada@example.com',
        anonymousId: 'anon-1',
        event: 'Form Submitted',
        properties: { formType: 'inspection', itemCount: 3, user_id: 'spoof', address: { city: 'Singapore' } },
        context: { library: { name: 'analytics.js', version: 'npm:next-1.84.1' }, userAgent: 'Mozilla/5.0', page: { path: '/pricing' }, ip: '203.0.113.7' },
      }),
      LOADED,
    );
    expect(row.table).toBe('tracks');
    expect(row.row).toEqual({
      id: 'ajs-next-1',
      anonymous_id: 'anon-1',
      user_id: 'ada@example.com',
      received_at: '2025-03-01T12:00:00.000000Z',
      sent_at: '2025-03-01T11:59:31.000000Z',
      timestamp: '2025-03-01T11:59:30.000000Z',
      original_timestamp: '2025-03-01T11:59:29.000000Z',
      context_library_name: 'analytics.js',
      context_library_version: 'npm:next-1.84.1',
      context_user_agent: 'Mozilla/5.0',
      context_page_path: '/pricing',
      context_ip: '203.0.113.7',
      uuid_ts: '2025-03-01T12:05:00.000000Z',
      loaded_at: '2025-03-01T12:05:00.000000Z',
      event: 'form_submitted',
      event_text: 'Form Submitted',
      form_type: 'inspection',
      item_count: 3,
      address_city: 'Singapore',
    });
    expect(parseSegmentRow('tracks', row.row)).toMatchObject({ ok: true });
  });

  it('every column the seed uses for a table is one the emulator writes under the same name', () => {
    const [identify] = warehouseRows(call('identify', { userId: 'u1', traits: { email: 'ada@example.com', firstName: 'Ada', lastName: 'L', createdAt: '2021-01-01T00:00:00Z' } }), LOADED);
    expect(identify.table).toBe('identifies');
    expect(identify.row).toMatchObject({ email: 'ada@example.com', first_name: 'Ada', last_name: 'L', created_at: '2021-01-01T00:00:00Z' });
    const seedNames = new Set(segmentColumns('identifies').map((c) => c.name));
    for (const column of Object.keys(identify.row)) expect(seedNames.has(column)).toBe(true);
  });

  it('a page: name and category columns, analytics.js page properties as path/url/title/referrer/search', () => {
    const [page] = warehouseRows(
      call('page', { anonymousId: 'a1', name: 'Pricing', category: 'marketing', properties: { name: 'Pricing', category: 'marketing', path: '/pricing', url: 'https://novade.com/pricing?x=1', title: 'Pricing | Novade', referrer: '', search: '?x=1' } }),
      LOADED,
    );
    expect(page.table).toBe('pages');
    expect(page.row).toMatchObject({ name: 'Pricing', category: 'marketing', path: '/pricing', url: 'https://novade.com/pricing?x=1', title: 'Pricing | Novade', referrer: '', search: '?x=1' });
    expect(parseSegmentRow('pages', page.row)).toMatchObject({ ok: true });
  });

  it('screens, groups and aliases go to their own tables; a track also to its event table when asked', () => {
    expect(warehouseRows(call('screen', { userId: 'u1', name: 'Home' }), LOADED)[0]).toMatchObject({ table: 'screens', row: { name: 'Home' } });
    expect(warehouseRows(call('group', { userId: 'u1', groupId: 'g1', traits: { name: 'Acme', employees: 40 } }), LOADED)[0]).toMatchObject({ table: 'groups', row: { group_id: 'g1', name: 'Acme', employees: 40 } });
    expect(warehouseRows(call('alias', { userId: 'u1', previousId: 'a1' }), LOADED)[0]).toMatchObject({ table: 'aliases', row: { previous_id: 'a1', user_id: 'u1' } });
    const both = warehouseRows(call('track', { userId: 'u1', event: 'Signed Up', properties: { plan: 'pro' } }), LOADED, { eventTables: true });
    expect(both.map((r) => r.table)).toEqual(['tracks', 'signed_up']);
    expect(both[1].row).toMatchObject({ event: 'signed_up', plan: 'pro' });
    expect(baseColumns('signed_up').map((c) => c.name)).toContain('event_text');
  });

  it('infers column types from values and casts values into existing columns', () => {
    expect([inferType('x'), inferType(3), inferType(2.5), inferType(true), inferType('2025-03-01T12:00:00Z')]).toEqual(['STRING', 'INTEGER', 'FLOAT', 'BOOLEAN', 'TIMESTAMP']);
    expect(castCell(3, 'STRING')).toBe('3');
    expect(castCell('42', 'INTEGER')).toBe(42);
    expect(castCell(2.5, 'INTEGER')).toBeUndefined();
    expect(castCell('true', 'BOOLEAN')).toBe(true);
    expect(castCell('nope', 'TIMESTAMP')).toBeUndefined();
    expect(castCell('2025-03-01T12:00:00.5Z', 'TIMESTAMP')).toBe('2025-03-01T12:00:00.500000Z');
  });
});
