import { describe, expect, it } from 'vitest';
import { validateUpload, type ValidationOptions } from '../../sandbox/amplitude/validation';

const KEY = 'sandbox-amplitude-key';
const all: ValidationOptions = { apiKeys: new Set([KEY]), indexReporting: 'all' };
const first: ValidationOptions = { ...all, indexReporting: 'first' };
const ev = (extra: Record<string, unknown> = {}) => ({ event_type: 'Signed Up', user_id: 'user-00001', time: 1_700_000_000_000, ...extra });

describe('Amplitude upload validation (HTTP V2 / Batch docs)', () => {
  it('accepts a valid upload and keeps each event as sent', () => {
    const result = validateUpload({ api_key: KEY, events: [ev(), ev({ insert_id: 'x-1' })] }, all);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.events).toHaveLength(2);
      expect(result.events[1]).toMatchObject({ event_type: 'Signed Up', user_id: 'user-00001', insert_id: 'x-1' });
      expect(result.minIdLength).toBe(5);
    }
  });

  it('answers missing_field when api_key or the events array is missing or empty', () => {
    expect(validateUpload({ events: [ev()] }, all)).toEqual({ ok: false, answer: { code: 400, error: 'Request missing required field', missing_field: 'api_key' } });
    expect(validateUpload({ api_key: KEY }, all)).toMatchObject({ answer: { missing_field: 'events' } });
    expect(validateUpload({ api_key: KEY, events: [] }, all)).toMatchObject({ answer: { missing_field: 'events' } });
    expect(validateUpload('not an object', all)).toMatchObject({ answer: { code: 400, error: 'Invalid JSON request body' } });
  });

  it('answers "Invalid API key" for a key the project does not have', () => {
    const result = validateUpload({ api_key: 'nope', events: [ev()] }, all);
    expect(result).toMatchObject({ ok: false, answer: { code: 400 } });
    if (!result.ok) expect(result.answer.error.startsWith('Invalid API key')).toBe(true);
  });

  it('answers 413 above 2,000 events and accepts exactly 2,000', () => {
    expect(validateUpload({ api_key: KEY, events: Array.from({ length: 2_001 }, () => ev()) }, all)).toEqual({ ok: false, answer: { code: 413, error: 'Payload too large' } });
    expect(validateUpload({ api_key: KEY, events: Array.from({ length: 2_000 }, () => ev()) }, all).ok).toBe(true);
  });

  it('lists events missing event_type or any id in events_with_missing_fields', () => {
    const result = validateUpload({ api_key: KEY, events: [ev(), ev({ event_type: undefined }), { event_type: 'No Id' }, ev({ event_type: '' })] }, all);
    expect(result).toEqual({
      ok: false,
      answer: { code: 400, error: 'Request missing required field', events_with_invalid_fields: {}, events_with_missing_fields: { event_type: [1, 3], device_id: [2] } },
    });
  });

  it('lists events with a non-integer time, a reserved event_type or a documented invalid id in events_with_invalid_fields', () => {
    const result = validateUpload(
      { api_key: KEY, events: [ev({ time: '2024-01-01T00:00:00Z' }), ev({ event_type: '[Amplitude] Revenue' }), ev({ user_id: 'anonymous' }), ev({ device_id: '00000000-0000-0000-0000-000000000000' }), ev({ event_properties: [] }), ev({ time: 1.5 })] },
      all,
    );
    expect(result).toMatchObject({
      ok: false,
      answer: { code: 400, error: 'Invalid field values on some events', events_with_invalid_fields: { time: [0, 5], event_type: [1], user_id: [2], device_id: [3], event_properties: [4] } },
    });
  });

  it('HTTP V2 names only the first bad event per field (as its page says); Batch names them all', () => {
    const body = { api_key: KEY, events: [ev({ time: 'a' }), ev(), ev({ time: 'b' })] };
    expect(validateUpload(body, first)).toMatchObject({ answer: { events_with_invalid_fields: { time: [0] } } });
    expect(validateUpload(body, all)).toMatchObject({ answer: { events_with_invalid_fields: { time: [0, 2] } } });
  });

  it('removes ids shorter than min_id_length and keeps the event when another id remains', () => {
    const result = validateUpload({ api_key: KEY, events: [ev({ user_id: 'abc', device_id: 'device-123' })] }, all);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.events[0].user_id).toBeUndefined();
      expect(result.events[0].device_id).toBe('device-123');
    }
  });

  it('rejects an event left with no id once short ids are removed, in events_with_invalid_id_lengths', () => {
    const result = validateUpload({ api_key: KEY, events: [ev(), ev({ user_id: 'ab' })] }, all);
    expect(result).toMatchObject({ ok: false, answer: { code: 400, events_with_invalid_id_lengths: { user_id: [1] }, events_with_missing_fields: {} } });
  });

  it('lets options.min_id_length override the default of 5', () => {
    const result = validateUpload({ api_key: KEY, events: [ev({ user_id: 'ab' })], options: { min_id_length: 2 } }, all);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.events[0].user_id).toBe('ab');
  });
});
