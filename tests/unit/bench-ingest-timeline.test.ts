import { describe, expect, it } from 'vitest';
import { attribute, compareStalls, coveredMs, localActivityMarker } from '../../bench/ingest-timeline';
import { loadHistoryFixtures } from '../helpers/history-fixtures';

describe('bench: ingest timeline attribution', () => {
  it('counts the time covered by overlapping flushes once, clipped to the second', () => {
    expect(coveredMs([], 0, 1000)).toBe(0);
    expect(coveredMs([{ start: 100, end: 300 }, { start: 200, end: 400 }], 0, 1000)).toBe(300);
    expect(coveredMs([{ start: -500, end: 100 }, { start: 900, end: 1500 }], 0, 1000)).toBe(200);
    expect(coveredMs([{ start: 100, end: 900 }, { start: 200, end: 300 }], 0, 1000)).toBe(800);
  });

  it('puts each flush, checkpoint and continue-as-new in the seconds it touched', () => {
    const t0 = 1_000_000;
    const seconds = attribute(
      { flushes: [{ shard: '0', start: t0 + 900, end: t0 + 1_200 }, { shard: '1', start: t0 + 2_100, end: t0 + 2_150 }], runStarts: [{ shard: '3', at: t0 + 2_500 }] },
      [{ at: t0 + 1_999 }],
      t0,
      3,
    );
    expect(seconds).toEqual([
      { second: 0, flushes: 1, flushBusyMs: 100, longestFlushMs: 300, checkpoint: false, continueAsNew: [] },
      { second: 1, flushes: 1, flushBusyMs: 200, longestFlushMs: 300, checkpoint: true, continueAsNew: [] },
      { second: 2, flushes: 1, flushBusyMs: 50, longestFlushMs: 50, checkpoint: false, continueAsNew: ['3'] },
    ]);
    expect(compareStalls(seconds, new Set([1]), (a) => a.flushBusyMs)).toEqual({ stalled: 200, other: 75 });
  });

  it('reads a flush run as a local activity from its marker (a recorded history): type, scheduled and completed times', () => {
    const fixture = loadHistoryFixtures().find((f) => f.workflowType === 'amplitudeIngestWorkflow' && f.patches.includes('amplitude-ingest-local-batching'));
    expect(fixture).toBeDefined();
    const markers = (fixture!.history.events ?? [])
      .map((e) => e.markerRecordedEventAttributes)
      .filter((m) => m?.markerName === 'core_local_activity')
      .map((m) => localActivityMarker(m!.details?.data?.payloads?.[0]?.data));
    const flushes = markers.filter((m) => m?.activityType === 'flushAmplitudeEvents');
    expect(flushes.length).toBeGreaterThan(0);
    expect(markers.some((m) => m?.activityType === 'gatherSignals')).toBe(true);
    for (const f of flushes) {
      expect(f!.start).toBeGreaterThan(Date.UTC(2020, 0, 1));
      expect(f!.end).toBeGreaterThanOrEqual(f!.start!);
    }
    expect(localActivityMarker(new TextEncoder().encode('not json'))).toBeUndefined();
    expect(localActivityMarker(undefined)).toBeUndefined();
  });
});
