import { describe, expect, it } from 'vitest';
import { liveLanesProgress, liveProgress, type PendingStep } from '../../lib/backfill-live';
import type { BackfillLaneProgress, BackfillProgress } from '../../ports/backfill';
import type { StepProgress } from '../../ports/backfill-step-progress';

const cursor = { windowStart: '2024-01-11T00:00:00.000Z', table: 0 };
const base: BackfillProgress = {
  rowsRead: 100, sent: 90, written: 95, rejected: 5, pages: 10, activeMs: 5_000, bigqueryMs: 0, amplitudeMs: 0, warehouseMs: 0, pacedMs: 0,
  state: 'running', window: { start: cursor.windowStart, end: '2024-01-12T00:00:00.000Z' }, table: 'tracks', from: '2024-01-01', to: '2024-01-30',
  tables: ['tracks'], dryRun: false, ratePerSec: 10, activeRatePerSec: 20, rateLimit: null, etaSeconds: 20, fraction: 1 / 3, pauseRequested: false,
  lastError: null, cursor, perEventType: {}, rejectedByReason: {}, rejectedSamples: [], generation: 0,
  wallMs: 10_000, runningSince: '2024-05-01T10:00:00.000Z', windowHours: 24, retry: null,
};
const now = Date.parse('2024-05-01T10:00:10.000Z');
const beat = (over: Partial<StepProgress['counts']> = {}, at = '2024-01-21T00:00:00.000Z'): StepProgress => ({
  stepCursor: cursor,
  cursor: { windowStart: at, table: 0 },
  counts: { rowsRead: 50, sent: 48, written: 49, rejected: 1, pages: 5, activeMs: 0, bigqueryMs: 0, amplitudeMs: 0, warehouseMs: 0, pacedMs: 0, ...over },
  perEventType: {},
  rejectedByReason: {},
  rejectedSamples: [],
});

describe('live backfill progress (query + pending step)', () => {
  it('adds the running step heartbeat to the totals and the fraction, and computes rate and ETA over wall-clock time', () => {
    const step: PendingStep = { state: 'STARTED', attempt: 1, heartbeat: [beat()], lastHeartbeatAt: now - 1_000 };
    const p = liveProgress(base, step, now);
    expect({ rowsRead: p.rowsRead, sent: p.sent, pages: p.pages }).toEqual({ rowsRead: 150, sent: 138, pages: 15 });
    expect(p.step).toMatchObject({ rowsRead: 50, pages: 5, cursor: { windowStart: '2024-01-21T00:00:00.000Z', table: 0 } });
    expect(p.fraction).toBeCloseTo(20 / 30);
    // 20 s running (10 s carried + 10 s since runningSince), 150 rows.
    expect(p.ratePerSec).toBe(7.5);
    expect(p.etaSeconds).toBe(10);
    expect(p.retry).toBeNull();
  });

  it('a heartbeat of another step (an older cursor) adds nothing', () => {
    const other = { ...beat(), stepCursor: { windowStart: '2024-01-10T00:00:00.000Z', table: 0 } };
    const p = liveProgress(base, { state: 'STARTED', attempt: 1, heartbeat: [other] }, now);
    expect(p.rowsRead).toBe(100);
  });

  it('an attempt retried without progress shows the attempt, the error, the Retry-After and the next try', () => {
    const step: PendingStep = {
      state: 'SCHEDULED',
      attempt: 3,
      lastFailure: { message: 'Amplitude answered 503 (Service unavailable) for 12 events; will retry.', kind: 'amplitude-server-error', retryAfterMs: 4_000 },
      lastAttemptCompleteAt: now - 1_000,
      nextAttemptAt: now + 3_000,
    };
    const p = liveProgress(base, step, now);
    expect(p.retry).toEqual({
      attempt: 3,
      interruptedSteps: 0,
      errorKind: 'amplitude-server-error',
      lastError: 'Amplitude answered 503 (Service unavailable) for 12 events; will retry.',
      retryAfterSeconds: 4,
      failedAt: new Date(now - 1_000).toISOString(),
      nextTryAt: new Date(now + 3_000).toISOString(),
      progressing: false,
    });
  });

  it('a paused or finished backfill is shown as the workflow says', () => {
    const paused = { ...base, state: 'paused' as const, runningSince: null };
    expect(liveProgress(paused, { state: 'STARTED', attempt: 2, heartbeat: [beat()] }, now)).toBe(paused);
  });

  it('a parallel backfill: each lane gets the heartbeat of the step that started from its cursor, and the totals all of them', () => {
    const other = { windowStart: '2024-01-12T00:00:00.000Z', table: 0 };
    const lane = (i: number, c: typeof cursor | null): BackfillLaneProgress => ({
      lane: i, state: c ? 'running' : 'idle', window: null, table: null, cursor: c, rowsRead: 10, sent: 10, written: 10, rejected: 0, pages: 1, windowsDone: 2, lastWorker: 'w@h', retry: null,
    });
    const p: BackfillProgress = { ...base, parallel: 3, lanes: [lane(0, cursor), lane(1, other), lane(2, null)] };
    const steps: PendingStep[] = [
      { state: 'STARTED', attempt: 1, heartbeat: [beat()], lastHeartbeatAt: now - 1_000 },
      // The other lane's step fails before moving: Temporal retries it.
      { state: 'SCHEDULED', attempt: 3, heartbeat: [{ ...beat({ rowsRead: 7, sent: 7, written: 7, rejected: 0, pages: 1 }), stepCursor: other }], lastFailure: { message: 'BigQuery 503', kind: 'TransientError' }, nextAttemptAt: now + 4_000 },
    ];
    const live = liveLanesProgress(p, steps, now);
    expect(live.lanes?.map((l) => l.rowsRead)).toEqual([60, 17, 10]);
    expect({ rowsRead: live.rowsRead, sent: live.sent, pages: live.pages }).toEqual({ rowsRead: 157, sent: 145, pages: 16 });
    expect(live.lanes?.[1].retry).toMatchObject({ attempt: 3, errorKind: 'TransientError', nextTryAt: new Date(now + 4_000).toISOString() });
    expect(live.retry).toMatchObject({ attempt: 3 });
    expect(live.lanes?.[2].step).toBeNull();
    // Paused: the query's answer as it is.
    expect(liveLanesProgress({ ...p, state: 'paused' }, steps, now).rowsRead).toBe(100);
  });
});
