import { describe, expect, it } from 'vitest';
import { checkExportEvent, eventKey, exportTimeToDate, toBronzeRecord, toSilverRow, amplitudeEventsSilver } from '../../mappings/amplitude-export';
import { secretMatches, headerValue } from '../../webhook/secret';
import { shardOf } from '../../webhook/temporal-ingest';
import { WebhookMetrics } from '../../webhook/metrics';
import { silverTable } from '../../connectors/warehouse/table-defs';
import { exportEvent } from '../helpers/amplitude-webhook';

describe('Amplitude export event schema', () => {
  it('accepts the export JSON, keeps unknown fields, and accepts nulls where Amplitude writes them', () => {
    const ev = exportEvent({ $insert_id: null, session_id: -1, paying: null, start_version: null, sample_rate: null, custom: { a: [1, 2] } });
    const r = checkExportEvent(ev);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.event).toEqual(ev);
  });

  it('names each problem with its path and a message that says what is expected', () => {
    const r = checkExportEvent({ uuid: '', event_type: 5, event_time: '28/02/2022', event_properties: [1], user_id: 'u1' });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(Object.fromEntries(r.problems.map((p) => [p.path, p.message]))).toEqual({
        uuid: 'uuid is required: it identifies the event for deduplication',
        event_type: expect.stringContaining('expected string'),
        event_time: 'expected a UTC time like "2022-02-28 20:07:01.795"',
        event_properties: expect.stringContaining('expected record'),
      });
    expect(checkExportEvent(null)).toEqual({ ok: false, problems: [{ path: '', message: 'expected an event object, got null' }] });
    expect(checkExportEvent([{}])).toEqual({ ok: false, problems: [{ path: '', message: 'expected an event object, got an array' }] });
  });

  it('maps to a silver row keyed on insert_id (else uuid) with UTC times, versioned by upload time', () => {
    const ev = exportEvent({ event_time: '2022-02-28 20:07:01.795', server_upload_time: '2022-02-28 20:07:03.001' });
    const parsed = checkExportEvent(ev);
    if (!parsed.ok) throw new Error('valid event rejected');
    const row = toSilverRow(parsed.event);
    expect(row).toMatchObject({ event_key: `ins:${ev.$insert_id}`, uuid: ev.uuid, event_time: new Date('2022-02-28T20:07:01.795Z'), version_time: new Date('2022-02-28T20:07:03.001Z'), event_properties: ev.event_properties });
    // Every column of the table is filled, nothing else.
    expect(Object.keys(row).sort()).toEqual(amplitudeEventsSilver.columns.map((c) => c.name).sort());
    expect(() => silverTable(amplitudeEventsSilver)).not.toThrow();
    expect(eventKey({ uuid: 'u-1', $insert_id: null })).toBe('uuid:u-1');
    expect(toBronzeRecord(parsed.event)).toEqual({ keys: { uuid: ev.uuid, insert_id: ev.$insert_id, event_type: ev.event_type }, payload: ev });
    expect(exportTimeToDate('2026-01-02T03:04:05Z').toISOString()).toBe('2026-01-02T03:04:05.000Z');
    const noUpload = checkExportEvent(exportEvent({ server_upload_time: null }));
    if (noUpload.ok) expect(toSilverRow(noUpload.event).version_time).toEqual(exportTimeToDate(String(noUpload.event.event_time)));
  });
});

describe('webhook secret and sharding', () => {
  it('compares secrets whatever their length, and refuses a missing one or an empty expected secret', () => {
    expect(secretMatches('s3cret', 's3cret')).toBe(true);
    expect(secretMatches('s3cre', 's3cret')).toBe(false);
    expect(secretMatches('s3cret-and-more', 's3cret')).toBe(false);
    expect(secretMatches(undefined, 's3cret')).toBe(false);
    expect(secretMatches('', '')).toBe(false);
    expect(headerValue({ 'x-secret': ['a', 'b'] }, 'X-Secret')).toBe('a');
  });

  it('spreads uuids over every shard, always the same shard for one uuid', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4_000; i++) counts[shardOf(`${i.toString(16).padStart(8, '0')}-7f3a-4c1e-9d2b-000000000000`, 4)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
    expect(shardOf('abc', 4)).toBe(shardOf('abc', 4));
  });
});

describe('webhook metrics', () => {
  it('counts requests per route and status and observes latency', async () => {
    const m = new WebhookMetrics({ defaultMetrics: false });
    m.observeRequest('/amplitude', 200, 0.004);
    m.observeRequest('/amplitude', 503, 1.2);
    const text = await m.registry.metrics();
    expect(text).toContain('webhook_requests_total{route="/amplitude",status="503"} 1');
    expect(text).toContain('webhook_request_duration_seconds_bucket{le="0.005",route="/amplitude"} 1');
    expect(text).toContain('webhook_request_duration_seconds_count{route="/amplitude"} 2');
  });
});
