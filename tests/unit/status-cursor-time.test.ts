import { describe, expect, it } from 'vitest';
import { cursorTime } from '../../streams/cursor-time';
import { formatDuration } from '../../client/commands/status';

describe('cursorTime (lag behind source)', () => {
  it('reads a Salesforce REST cursor, preferring the high-water mark a lookback started below', () => {
    expect(cursorTime({ ts: '2024-05-01T10:00:00.000Z', id: '003x' })?.toISOString()).toBe('2024-05-01T10:00:00.000Z');
    expect(cursorTime({ ts: '2024-05-01T09:50:00.000Z', id: null, hw: { ts: '2024-05-01T10:00:00.000Z', id: '003x' } })?.toISOString()).toBe('2024-05-01T10:00:00.000Z');
  });
  it('reads a Bulk snapshot and epoch-millisecond cursors; ignores ids, counts and empty cursors', () => {
    expect(cursorTime({ bulk: { jobId: '750x', locator: null, snapshot: '2024-06-01T00:00:00.000Z' } })?.toISOString()).toBe('2024-06-01T00:00:00.000Z');
    expect(cursorTime({ updatedAt: 1_717_200_000_000, id: 123_456 })?.toISOString()).toBe(new Date(1_717_200_000_000).toISOString());
    expect(cursorTime({ ts: null, id: null })).toBeUndefined();
    expect(cursorTime({ at: 42 })).toBeUndefined();
    expect(cursorTime(null)).toBeUndefined();
    expect(cursorTime('2024-01-01T00:00:00Z')).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it('shows seconds, minutes, hours and days at a glance', () => {
    expect([undefined, 0, 59, 95, 7_500, 200_000].map(formatDuration)).toEqual(['-', '0s', '59s', '1m 35s', '2h 5m', '2d 7h']);
  });
});
