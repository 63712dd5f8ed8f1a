import { describe, expect, it } from 'vitest';
import { parseSegmentRow } from '../../connectors/bigquery/segment-rows';
import { plainApiRow } from '../../connectors/bigquery/api-rows';
import { canonicalTimestamp, isoMicros, parseIsoMicros } from '../../connectors/bigquery/timestamp';
import { countSql, keysetPageSql, pageLimit, tablePath, timestampRangeSql } from '../../connectors/bigquery/segment-query';
import { PermanentError } from '../../lib/errors';

describe('canonical timestamps', () => {
  it('keeps microseconds and normalises zones and precisions', () => {
    expect(canonicalTimestamp('2023-01-01T00:00:00Z')).toBe('2023-01-01T00:00:00.000000Z');
    expect(canonicalTimestamp('2023-01-01T00:00:00.123456000Z')).toBe('2023-01-01T00:00:00.123456Z');
    expect(canonicalTimestamp('2023-01-01T08:00:00.5+08:00')).toBe('2023-01-01T00:00:00.500000Z');
    expect(isoMicros(parseIsoMicros('2024-02-29T23:59:59.999999Z'))).toBe('2024-02-29T23:59:59.999999Z');
    expect(() => parseIsoMicros('yesterday')).toThrow(/not a timestamp/);
  });
});

describe('BigQuery API rows to plain JSON', () => {
  const fields = [
    { name: 'ts', type: 'TIMESTAMP' },
    { name: 'n', type: 'INTEGER' },
    { name: 'big', type: 'INT64' },
    { name: 'f', type: 'FLOAT' },
    { name: 'b', type: 'BOOLEAN' },
    { name: 'd', type: 'DATE' },
    { name: 'num', type: 'NUMERIC' },
    { name: 's', type: 'STRING' },
    { name: 'tags', type: 'STRING', mode: 'REPEATED' },
    { name: 'rec', type: 'RECORD', fields: [{ name: 'at', type: 'TIMESTAMP' }, { name: 'ok', type: 'BOOL' }] },
    { name: 'none', type: 'STRING' },
  ];

  it('converts each type from its wire form, timestamps to canonical text', () => {
    const row = plainApiRow(fields, {
      f: [
        { v: '1682935200000123' },
        { v: '42' },
        { v: '9007199254740993' },
        { v: '1.5' },
        { v: 'true' },
        { v: '2023-05-01' },
        { v: '12.340000001' },
        { v: 'héllo' },
        { v: [{ v: 'a' }, { v: 'b' }] },
        { v: { f: [{ v: '1.6829352E9' }, { v: 'false' }] } },
        { v: null },
      ],
    });
    expect(row).toEqual({
      ts: '2023-05-01T10:00:00.000123Z',
      n: 42,
      big: '9007199254740993',
      f: 1.5,
      b: true,
      d: '2023-05-01',
      num: '12.340000001',
      s: 'héllo',
      tags: ['a', 'b'],
      rec: { at: '2023-05-01T10:00:00.000000Z', ok: false },
      none: null,
    });
    expect(plainApiRow([{ name: 'ts', type: 'TIMESTAMP' }], { f: [{ v: '2023-05-01 10:00:00.5+00' }] })).toEqual({ ts: '2023-05-01T10:00:00.500000Z' });
    expect(plainApiRow([{ name: 'x', type: 'STRING', mode: 'REPEATED' }], { f: [{ v: null }] })).toEqual({ x: [] });
  });
});

const base = {
  id: 'ajs-next-1',
  anonymous_id: 'anon-1',
  user_id: null,
  timestamp: '2023-05-01T10:00:00.000000Z',
  loaded_at: '2023-05-01T12:00:00.000000Z',
  uuid_ts: null,
};

describe('Segment row schemas', () => {
  it('accepts a track and passes its flattened property columns through', () => {
    const parsed = parseSegmentRow('tracks', ({ ...base, event: 'form_submitted', event_text: 'Form Submitted', form_type: 'ncr', item_count: 3 }));
    expect(parsed).toEqual({
      ok: true,
      row: expect.objectContaining({ id: 'ajs-next-1', timestamp: '2023-05-01T10:00:00.000000Z', event: 'form_submitted', form_type: 'ncr', item_count: 3 }),
    });
  });

  it('rejects a track without an event name with the reason, keeping the row', () => {
    const row = ({ ...base, event: null, event_text: null });
    const parsed = parseSegmentRow('tracks', row);
    expect(parsed).toEqual({ ok: false, rejected: { row, reason: 'event: event is null' } });
  });

  it('rejects rows without id or timestamp and malformed timestamps', () => {
    expect(parseSegmentRow('pages', ({ ...base, id: null }))).toMatchObject({ ok: false, rejected: { reason: 'id: id is missing' } });
    expect(parseSegmentRow('pages', ({ ...base, id: '' }))).toMatchObject({ ok: false, rejected: { reason: 'id: id is empty' } });
    expect(parseSegmentRow('identifies', ({ ...base, timestamp: null }))).toMatchObject({ ok: false, rejected: { reason: 'timestamp: timestamp is missing' } });
    expect(parseSegmentRow('identifies', { ...(base), loaded_at: '2023-05-01' })).toMatchObject({ ok: false, rejected: { reason: expect.stringMatching(/^loaded_at: expected a canonical UTC timestamp/) } });
  });

  it('accepts identifies and pages with their traits and fields', () => {
    expect(parseSegmentRow('identifies', ({ ...base, email: 'A@B.SG', plan: 'pro' }))).toMatchObject({ ok: true, row: { email: 'A@B.SG', plan: 'pro' } });
    expect(parseSegmentRow('pages', ({ ...base, name: 'Pricing', path: '/pricing', url: 'https://x/pricing' }))).toMatchObject({ ok: true, row: { path: '/pricing' } });
  });
});

describe('Segment reader SQL', () => {
  const path = tablePath('novade-sandbox', 'segment', 'tracks');

  it('deduplicates the whole window before the keyset condition and pages in (timestamp, id) order', () => {
    const sql = keysetPageSql(path, 500, true);
    expect(path).toBe('`novade-sandbox.segment.tracks`');
    const dedup = sql.indexOf('ROW_NUMBER() OVER (PARTITION BY id ORDER BY loaded_at DESC, uuid_ts DESC, timestamp DESC) = 1');
    const keyset = sql.indexOf('WHERE timestamp > @after_timestamp OR (timestamp = @after_timestamp AND id > @after_id)');
    expect(dedup).toBeGreaterThan(sql.indexOf('timestamp >= @window_start AND timestamp < @window_end'));
    expect(keyset).toBeGreaterThan(dedup);
    expect(sql).toMatch(/ORDER BY timestamp, id\nLIMIT 500$/);
    expect(keysetPageSql(path, 10, false)).not.toContain('@after');
    // Without a limit: the rest of the window, for one job paged by page tokens.
    expect(keysetPageSql(path, null, true)).toMatch(/ORDER BY timestamp, id$/);
    expect(countSql(path)).toContain('COUNT(DISTINCT id)');
    expect(timestampRangeSql(path)).toContain('MIN(timestamp)');
  });

  it('refuses names and limits that would change the SQL', () => {
    expect(() => tablePath('novade-sandbox', 'segment', 'tracks`; DROP TABLE x; --')).toThrow(PermanentError);
    expect(() => tablePath('novade-sandbox', 'seg-ment', 'tracks')).toThrow(/dataset name "seg-ment" is not valid/);
    expect(() => tablePath('Bad Project', 'segment', 'tracks')).toThrow(/project id/);
    expect(tablePath('example.com:novade-prod', 'segment', 'pages')).toBe('`example.com:novade-prod.segment.pages`');
    expect(() => pageLimit(0)).toThrow(/page limit/);
    expect(() => pageLimit(1.5)).toThrow(/page limit/);
    expect(() => pageLimit(100_001)).toThrow(/page limit/);
  });
});
