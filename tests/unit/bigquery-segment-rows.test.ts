import { describe, expect, it } from 'vitest';
import { BigQuery } from '@google-cloud/bigquery';
import { parseSegmentRow, plainRow, plainValue } from '../../connectors/bigquery/segment-rows';
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

describe('BigQuery values to plain JSON', () => {
  it('turns client wrappers into text and keeps scalars', () => {
    expect(plainValue(BigQuery.timestamp('2023-05-01T10:00:00.000123Z'))).toBe('2023-05-01T10:00:00.000123Z');
    expect(plainValue(BigQuery.date('2023-05-01'))).toBe('2023-05-01');
    expect(plainValue(BigQuery.datetime('2023-05-01 10:00:00'))).toBe('2023-05-01 10:00:00');
    expect(plainValue(Buffer.from('hi'))).toBe('aGk=');
    expect(plainValue(12n)).toBe('12');
    expect(plainValue(undefined)).toBeNull();
    expect(plainValue([1, 'a', null])).toEqual([1, 'a', null]);
    expect(plainValue({ a: BigQuery.timestamp('2023-05-01T10:00:00Z'), b: true })).toEqual({ a: '2023-05-01T10:00:00.000000Z', b: true });
    expect(plainValue(BigQuery.int('9007199254740993'))).toBe('9007199254740993');
  });
});

const base = {
  id: 'ajs-next-1',
  anonymous_id: 'anon-1',
  user_id: null,
  timestamp: BigQuery.timestamp('2023-05-01T10:00:00Z'),
  loaded_at: BigQuery.timestamp('2023-05-01T12:00:00Z'),
  uuid_ts: null,
};

describe('Segment row schemas', () => {
  it('accepts a track and passes its flattened property columns through', () => {
    const parsed = parseSegmentRow('tracks', plainRow({ ...base, event: 'form_submitted', event_text: 'Form Submitted', form_type: 'ncr', item_count: 3 }));
    expect(parsed).toEqual({
      ok: true,
      row: expect.objectContaining({ id: 'ajs-next-1', timestamp: '2023-05-01T10:00:00.000000Z', event: 'form_submitted', form_type: 'ncr', item_count: 3 }),
    });
  });

  it('rejects a track without an event name with the reason, keeping the row', () => {
    const row = plainRow({ ...base, event: null, event_text: null });
    const parsed = parseSegmentRow('tracks', row);
    expect(parsed).toEqual({ ok: false, rejected: { row, reason: 'event: event is null' } });
  });

  it('rejects rows without id or timestamp and malformed timestamps', () => {
    expect(parseSegmentRow('pages', plainRow({ ...base, id: null }))).toMatchObject({ ok: false, rejected: { reason: 'id: id is missing' } });
    expect(parseSegmentRow('pages', plainRow({ ...base, id: '' }))).toMatchObject({ ok: false, rejected: { reason: 'id: id is empty' } });
    expect(parseSegmentRow('identifies', plainRow({ ...base, timestamp: null }))).toMatchObject({ ok: false, rejected: { reason: 'timestamp: timestamp is missing' } });
    expect(parseSegmentRow('identifies', { ...plainRow(base), loaded_at: '2023-05-01' })).toMatchObject({ ok: false, rejected: { reason: expect.stringMatching(/^loaded_at: expected a canonical UTC timestamp/) } });
  });

  it('accepts identifies and pages with their traits and fields', () => {
    expect(parseSegmentRow('identifies', plainRow({ ...base, email: 'A@B.SG', plan: 'pro' }))).toMatchObject({ ok: true, row: { email: 'A@B.SG', plan: 'pro' } });
    expect(parseSegmentRow('pages', plainRow({ ...base, name: 'Pricing', path: '/pricing', url: 'https://x/pricing' }))).toMatchObject({ ok: true, row: { path: '/pricing' } });
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
