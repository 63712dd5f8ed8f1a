import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { meterSyncActivities } from '../../activities/metered-sync';
import type { StreamRunSummary, SyncActivities } from '../../activities/sync-types';
import type { SyncPageResult } from '../../ports/sync-page';
import { PlatformMetrics, newestTimestamp, serveMetrics } from '../../lib/metrics';

const page: SyncPageResult = { read: 10, written: 7, sent: 12, rejected: 2, apiCalls: 1, nextCursor: { hw: '2026-11-24T09:00:00.000Z', id: '003x' }, nextMode: 'rest', done: true };

function activities(): SyncActivities & { finished: StreamRunSummary[] } {
  const finished: StreamRunSummary[] = [];
  return {
    finished,
    streamsOfSource: async () => ['salesforce_contact'],
    beginStreamRun: async () => ({ cursor: null, mode: 'rest', startedAt: new Date().toISOString() }),
    syncStreamPage: async () => page,
    finishStreamRun: async (s) => {
      finished.push(s);
    },
  };
}

describe('platform metrics', () => {
  it('counts records by flow, stream and kind, run outcomes and durations, and cursor lag', async () => {
    const m = new PlatformMetrics();
    const inner = activities();
    const acts = meterSyncActivities(inner, m);
    await acts.syncStreamPage({ stream: 'salesforce_contact', runId: 'r', cursor: null, mode: 'rest', page: 0 });
    await acts.syncStreamPage({ stream: 'salesforce_contact', runId: 'r', cursor: null, mode: 'rest', page: 1 });
    const finishedAt = new Date();
    const summary: StreamRunSummary = {
      runId: 'r', flow: 'salesforce', stream: 'salesforce_contact', startedAt: new Date(finishedAt.getTime() - 42_000).toISOString(), finishedAt: finishedAt.toISOString(),
      status: 'succeeded', pages: 2, read: 20, written: 14, sent: 24, rejected: 4, apiCalls: 2, cursorBefore: null, cursorAfter: { hw: new Date(finishedAt.getTime() - 600_000).toISOString(), id: '003x' },
    };
    await acts.finishStreamRun(summary);
    expect(inner.finished).toEqual([summary]);
    const text = await m.registry.metrics();
    expect(text).toContain('novade_records_total{flow="salesforce",stream="salesforce_contact",kind="read"} 20');
    expect(text).toContain('novade_records_total{flow="salesforce",stream="salesforce_contact",kind="rejected"} 4');
    expect(text).toContain('novade_stream_runs_total{flow="salesforce",stream="salesforce_contact",status="succeeded"} 1');
    expect(text).toContain('novade_stream_run_duration_seconds_sum{flow="salesforce",stream="salesforce_contact",status="succeeded"} 42');
    expect(text).toContain('novade_stream_run_duration_seconds_bucket{le="60",flow="salesforce",stream="salesforce_contact",status="succeeded"} 1');
    const lag = /novade_cursor_lag_seconds\{flow="salesforce",stream="salesforce_contact"\} ([\d.]+)/.exec(text);
    expect(Number(lag?.[1])).toBeGreaterThanOrEqual(600);
    expect(Number(lag?.[1])).toBeLessThan(660);
  });

  it('records check results as gauges', async () => {
    const m = new PlatformMetrics();
    m.recordChecks([
      { check: 'duplicate_keys', table: 'silver.x', passed: false, observed: 3 },
      { check: 'freshness', table: 'silver.x', passed: true, observed: 120 },
    ]);
    const text = await m.registry.metrics();
    expect(text).toContain('novade_check_passed{check="duplicate_keys",table="silver.x"} 0');
    expect(text).toContain('novade_check_observed{check="freshness",table="silver.x"} 120');
  });

  it('finds the newest timestamp in a cursor of any shape', () => {
    expect(newestTimestamp({ id: null, hw: { ts: '2026-11-24T09:00:00.000Z', id: '003' } })).toBe(Date.parse('2026-11-24T09:00:00.000Z'));
    expect(newestTimestamp(['2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z'])).toBe(Date.parse('2026-02-01T00:00:00Z'));
    expect(newestTimestamp({ page: 'abc', n: 5 })).toBeUndefined();
    expect(newestTimestamp(null)).toBeUndefined();
  });

  it('serves /metrics over HTTP, 404 elsewhere, and names the setting when the port is taken', async () => {
    const m = new PlatformMetrics({ processMetrics: true });
    m.alerts.inc({ scope: 'checks', kind: 'alert' });
    const server = await serveMetrics(m.registry, '127.0.0.1:0');
    const port = (server.address() as AddressInfo).port;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const body = await res.text();
      expect(body).toContain('novade_alerts_total{scope="checks",kind="alert"} 1');
      expect(body).toContain('novade_worker_process_cpu_seconds_total');
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
      await expect(serveMetrics(m.registry, `127.0.0.1:${port}`)).rejects.toThrow(/APP_METRICS_BIND 127\.0\.0\.1:\d+ is already in use/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
