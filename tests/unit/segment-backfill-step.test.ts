import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { AmplitudeSink } from '../../connectors/amplitude/sink';
import { openDuckDBWarehouse, type Warehouse } from '../../connectors/warehouse';
import { runBackfillStep, type BackfillStepDeps, type SegmentPageSource, type StepProgress } from '../../streams/segment-backfill-step';
import type { ReadPageRequest, SegmentPage } from '../../connectors/bigquery/segment-reader';
import type { SegmentRow } from '../../connectors/bigquery/segment-rows';
import type { BackfillStepInput } from '../../ports/backfill-step';
import type { EventSink } from '../../ports/event-sink';
import { PermanentError } from '../../lib/errors';

/** Rows already deduplicated and ordered, served with the reader's keyset contract (the emulator-backed reader has its own tests). */
class ListSource implements SegmentPageSource {
  readonly calls: ReadPageRequest[] = [];
  constructor(private readonly rows: SegmentRow[]) {}
  async readPage(req: ReadPageRequest): Promise<SegmentPage> {
    this.calls.push(req);
    const inWindow = this.rows.filter((r) => r.timestamp >= new Date(req.windowStart).toISOString().replace('Z', '000Z') && r.timestamp < new Date(req.windowEnd).toISOString().replace('Z', '000Z'));
    const after = req.after;
    const rest = after ? inWindow.filter((r) => r.timestamp > after.timestamp || (r.timestamp === after.timestamp && r.id > after.id)) : inWindow;
    const rows = rest.slice(0, req.limit);
    const last = rows.at(-1);
    return { rows, rejected: [], last: last && { timestamp: last.timestamp, id: last.id }, next: last && rows.length === req.limit ? { timestamp: last.timestamp, id: last.id } : undefined };
  }
}

const rows: SegmentRow[] = Array.from({ length: 150 }, (_, i) => ({
  id: `msg-${String(i).padStart(4, '0')}`,
  user_id: `user${i % 7}@example.com`,
  anonymous_id: null,
  timestamp: `2024-01-0${1 + Math.floor(i / 50)}T10:00:${String(i % 50).padStart(2, '0')}.000000Z`,
  event: 'login',
  plan: 'free',
}));

let amp: AmplitudeEmulator;
let warehouse: Warehouse;
let dir: string;
beforeAll(async () => {
  amp = await startAmplitudeEmulator({ port: 0 });
});
afterAll(async () => {
  await amp?.close();
});
beforeEach(async () => {
  amp.store.clear();
  await warehouse?.close();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bf-step-'));
  warehouse = await openDuckDBWarehouse({ path: path.join(dir, 'w.duckdb') });
});

const deps = (reader: SegmentPageSource) => ({ reader, warehouse, minIdLength: 5, sink: new AmplitudeSink({ apiKey: SANDBOX.amplitude.apiKey, serverUrl: amp.url, minIdLength: 5, endpoint: 'batch' }) });
const input = (over: Partial<BackfillStepInput> = {}): BackfillStepInput => ({
  runId: 'bf-test',
  tables: ['tracks'],
  range: { startMs: Date.UTC(2024, 0, 1), endMs: Date.UTC(2024, 0, 6) },
  windowHours: 24,
  pageSize: 20,
  pagesPerStep: 100,
  stepBudgetMs: 60_000,
  cursor: { windowStart: '2024-01-01T00:00:00.000Z', table: 0 },
  dryRun: false,
  rate: null,
  firstAttemptAt: Date.now(),
  ...over,
});

describe('one backfill step (no Temporal)', () => {
  it('paces sends to the rate limit', async () => {
    const t0 = Date.now();
    const r = await runBackfillStep(deps(new ListSource(rows.slice(0, 50))), input({ rate: 20 }), { progress: () => undefined });
    expect(r.counts.sent).toBe(50);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2_450); // 50 events at 20/s
    expect(r.counts.pacedMs).toBeGreaterThan(0);
    expect(r.cursor).toBeNull();
  });

  it('a retried attempt resumes after the last acknowledged page with its counts, and the totals match a clean run', async () => {
    const details: StepProgress[] = [];
    const first = new ListSource(rows);
    const clean = await runBackfillStep(deps(first), input(), { progress: (d) => details.push(structuredClone(d)) });
    expect(clean.counts.rowsRead).toBe(150);
    // Empty windows (Jan 4, 5) were reported too, so a long run of them keeps the heartbeat alive.
    expect(details.filter((d) => d.cursor?.windowStart.startsWith('2024-01-05')).length).toBeGreaterThan(0);

    const afterTwoPages = details.find((d) => d.counts.pages === 2)!;
    const retry = new ListSource(rows);
    const resumed = await runBackfillStep(deps(retry), input(), { progress: () => undefined, resumeFrom: [afterTwoPages] });
    expect(retry.calls[0].after).toEqual({ timestamp: rows[39].timestamp, id: rows[39].id });
    expect({ ...resumed.counts, activeMs: 0, bigqueryMs: 0, amplitudeMs: 0, warehouseMs: 0, pacedMs: 0 }).toEqual({ ...clean.counts, activeMs: 0, bigqueryMs: 0, amplitudeMs: 0, warehouseMs: 0, pacedMs: 0 });
    expect(resumed.perEventType).toEqual({ login: 150 });
    // Details of another step are not taken for this one.
    const other = new ListSource(rows);
    await runBackfillStep(deps(other), input({ cursor: { windowStart: '2024-01-02T00:00:00.000Z', table: 0 } }), { progress: () => undefined, resumeFrom: [afterTwoPages] });
    expect(other.calls[0].after).toBeUndefined();
    expect(amp.store.count()).toBe(150);
    expect((await warehouse.query('SELECT count(*)::INT AS n FROM silver.segment_tracks'))[0].n).toBe(150);
  });

  describe('a failure after progress', () => {
    /** The real sink, with the emulator failing the `nth` batch request as it is told. */
    const failingOn = (nth: number, fault: Parameters<AmplitudeEmulator['faults']['set']>[0][string]): EventSink => {
      const real = deps(new ListSource([])).sink;
      let calls = 0;
      return {
        send: async (events) => {
          if (++calls === nth) amp.faults.set({ 'POST /batch': { ...fault, failNext: 1 } });
          try {
            return await real.send(events);
          } finally {
            amp.faults.clear();
          }
        },
      };
    };

    it('ends the step successfully with the acknowledged cursor and counts, and says what failed and how long to wait', async () => {
      const source = new ListSource(rows);
      const sink = failingOn(3, { statuses: [429], retryAfterSeconds: 7 });
      const beats: StepProgress[] = [];
      const stepDeps: BackfillStepDeps = { ...deps(source), sink };
      const r = await runBackfillStep(stepDeps, input(), { progress: (d) => beats.push(structuredClone(d)) });
      expect(r.counts.pages).toBe(2);
      expect(r.counts.sent).toBe(40);
      expect(r.cursor).toEqual({ windowStart: '2024-01-01T00:00:00.000Z', table: 0, after: { timestamp: rows[39].timestamp, id: rows[39].id } });
      expect(r.interruption).toMatchObject({ kind: 'amplitude-throttled', retryAfterMs: 7_000, message: expect.stringContaining('429') });
      expect(Date.parse(r.interruption!.at)).toBeGreaterThan(0);
      // Exactly-once: Amplitude and silver hold the two acknowledged pages, the stored cursor is past them only.
      expect(amp.store.count()).toBe(40);
      expect(await warehouse.getSyncState('segment_backfill:bf-test')).toEqual(r.cursor);

      // The next step goes on from there (a different step: no heartbeat of this one) to the same totals as a clean run.
      // On the same worker it starts with the page it could not finish, kept from the failed step rather than read again.
      const again = new ListSource(rows);
      const rest = await runBackfillStep({ ...deps(again), unfinishedPage: stepDeps.unfinishedPage }, input({ cursor: r.cursor! }), { progress: () => undefined });
      expect(again.calls.filter((c) => c.after?.id === rows[39].id)).toEqual([]);
      expect(again.calls[0]).toMatchObject({ windowStart: expect.stringMatching(/^2024-01-02/), after: undefined });
      expect(rest.interruption).toBeUndefined();
      expect(r.counts.rowsRead + rest.counts.rowsRead).toBe(150);
      expect(amp.store.count()).toBe(150);
      expect(amp.store.duplicates()).toEqual([]);
      expect((await warehouse.query('SELECT count(*)::INT AS n FROM silver.segment_tracks'))[0].n).toBe(150);
    });

    it('a 5xx or a dropped connection after progress ends the step with no wait asked for', async () => {
      for (const status of [503, 'reset'] as const) {
        amp.store.clear();
        const r = await runBackfillStep({ ...deps(new ListSource(rows)), sink: failingOn(2, { statuses: [status] }) }, input({ runId: `bf-${status}` }), { progress: () => undefined });
        expect(r.counts.pages).toBe(1);
        expect(r.interruption).toMatchObject({ kind: status === 503 ? 'amplitude-server-error' : 'amplitude-no-answer' });
        expect(r.interruption?.retryAfterMs).toBeUndefined();
      }
    });

    it('progress of an earlier attempt of the same step counts: a retry that fails at once still ends with that cursor', async () => {
      const beats: StepProgress[] = [];
      await runBackfillStep(deps(new ListSource(rows)), input({ pagesPerStep: 2 }), { progress: (d) => beats.push(structuredClone(d)) });
      const last = beats.at(-1)!;
      amp.store.clear();
      const r = await runBackfillStep({ ...deps(new ListSource(rows)), sink: failingOn(1, { statuses: [500] }) }, input(), { progress: () => undefined, resumeFrom: [last] });
      expect(r.cursor).toEqual(last.cursor);
      expect(r.counts.pages).toBe(2);
      expect(r.interruption?.kind).toBe('amplitude-server-error');
    });

    it('with no progress at all the step fails (the retry policy counts it); a permanent error fails even after progress', async () => {
      await expect(runBackfillStep({ ...deps(new ListSource(rows)), sink: failingOn(1, { statuses: [503] }) }, input(), { progress: () => undefined })).rejects.toMatchObject({
        name: 'TransientError',
        kind: 'amplitude-server-error',
      });
      let calls = 0;
      const refusing: EventSink = {
        send: async (events) => {
          if (++calls === 2) throw new PermanentError('ConfigError', 'Amplitude refused the API key');
          return { sent: events.length, rejected: [] };
        },
      };
      await expect(runBackfillStep({ ...deps(new ListSource(rows)), sink: refusing }, input(), { progress: () => undefined })).rejects.toBeInstanceOf(PermanentError);
    });
  });
});
