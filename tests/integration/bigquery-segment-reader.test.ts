import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBigQueryClient } from '../../connectors/bigquery/client';
import { startBigQueryEmulator, type BigQueryEmulator } from '../../sandbox/bigquery';
import { SegmentReader, type KeysetPosition, type ReadPageRequest, type SegmentPage } from '../../connectors/bigquery/segment-reader';
import type { SegmentReadTable } from '../../connectors/bigquery/segment-rows';
import { PermanentError, TransientError } from '../../lib/errors';
import { SegmentGenerator } from '../../sandbox/seed/segment';
import { parseIsoMicros } from '../../connectors/bigquery/timestamp';

/** Counts the query jobs a client creates. */
function countQueryJobs(client: ReturnType<typeof createBigQueryClient>): () => number {
  let n = 0;
  const original = client.createQueryJob.bind(client);
  client.createQueryJob = ((...args: Parameters<typeof original>) => {
    n++;
    return original(...args);
  }) as typeof client.createQueryJob;
  return () => n;
}

type Walk = { pages: SegmentPage[]; ids: string[]; keys: string[]; rejected: string[] };

/** Reads a window to its end the way the backfill does, from `after` on. */
async function walk(reader: SegmentReader, req: Omit<ReadPageRequest, 'after'>, after?: KeysetPosition): Promise<Walk> {
  const out: Walk = { pages: [], ids: [], keys: [], rejected: [] };
  let cursor = after;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await reader.readPage({ ...req, after: cursor });
    out.pages.push(page);
    const all = [...page.rows.map((r) => ({ id: r.id, timestamp: r.timestamp })), ...page.rejected.map((r) => ({ id: String(r.row.id), timestamp: String(r.row.timestamp) }))];
    all.sort((a, b) => (a.timestamp === b.timestamp ? (a.id < b.id ? -1 : 1) : a.timestamp < b.timestamp ? -1 : 1));
    out.ids.push(...all.map((r) => r.id));
    out.keys.push(...all.map((r) => `${r.timestamp}|${r.id}`));
    out.rejected.push(...page.rejected.map((r) => String(r.row.id)));
    if (!page.next) return out;
    cursor = page.next;
  }
  throw new Error('walk did not end');
}

describe('SegmentReader against the BigQuery emulator', () => {
  let emu: BigQueryEmulator;
  let reader: SegmentReader;
  const FROM = '2022-01-01T00:00:00Z';
  const TO = '2025-01-01T00:00:00Z';

  beforeAll(async () => {
    emu = await startBigQueryEmulator({ rowsPerTable: { tracks: 1000, identifies: 150, pages: 150 }, seed: 42, from: FROM, to: TO });
    reader = new SegmentReader({ projectId: emu.projectId, dataset: emu.dataset, apiEndpoint: emu.url });
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('returns each distinct id of a window exactly once, in (timestamp, id) order, across small pages', async () => {
    const window = { start: '2023-03-01T00:00:00Z', end: '2023-09-01T00:00:00Z' };
    const expected = emu.expected.rows('tracks', window);
    const result = await walk(reader, { table: 'tracks', windowStart: window.start, windowEnd: window.end, limit: 7 });
    expect(result.ids).toEqual(expected.map((r) => r.id));
    expect(new Set(result.ids).size).toBe(result.ids.length);
    expect(result.keys).toEqual([...result.keys].sort());
    // The source really holds duplicated ids in this window, and page boundaries fell inside timestamp ties.
    const gen = new SegmentGenerator(emu.seed, 'tracks');
    const [lo, hi] = [parseIsoMicros(window.start), parseIsoMicros(window.end)];
    const physical = [...Array(gen.rows).keys()].filter((i) => gen.timeAt(i) >= lo && gen.timeAt(i) < hi).length;
    expect(physical).toBeGreaterThan(expected.length);
    const boundaryTies = result.pages.slice(1).filter((p, i) => {
      const prev = result.pages[i];
      const first = [...p.rows, ...p.rejected.map((r) => r.row)][0];
      return prev.last && first && prev.last.timestamp === first.timestamp;
    });
    expect(boundaryTies.length).toBeGreaterThan(0);
    for (const p of result.pages.slice(0, -1)) expect(p.rows.length + p.rejected.length).toBe(7);
    expect(result.pages.at(-1)!.next).toBeUndefined();
  });

  it('keeps the latest load of a duplicated id, with every column as generated', async () => {
    const expected = emu.expected.rows('identifies');
    const result = await walk(reader, { table: 'identifies', windowStart: FROM, windowEnd: TO, limit: 40 });
    const rows = result.pages.flatMap((p) => p.rows);
    expect(rows).toEqual(expected.filter((r) => result.rejected.indexOf(r.id as string) < 0));
    expect(emu.expected.truth('identifies').duplicateRows).toBeGreaterThan(0);
  });

  it('returns rows that fail the schema in rejected, with the reason, never drops them', async () => {
    const result = await walk(reader, { table: 'tracks', windowStart: FROM, windowEnd: TO, limit: 100 });
    const truth = emu.expected.truth('tracks');
    expect(result.ids.length).toBe(truth.distinctIds);
    expect(result.rejected.length).toBe(truth.nullEvent);
    expect(truth.nullEvent).toBeGreaterThan(0);
    for (const p of result.pages) for (const r of p.rejected) expect(r.reason).toBe('event: event is null');
  });

  it('resumes from a keyset cursor alone and gives the same rows as an uninterrupted walk', async () => {
    const req = { table: 'pages' as SegmentReadTable, windowStart: FROM, windowEnd: TO, limit: 13 };
    const whole = await walk(reader, req);
    const first = await reader.readPage(req);
    const resumed = await walk(new SegmentReader({ projectId: emu.projectId, dataset: emu.dataset, apiEndpoint: emu.url }), req, first.next);
    expect([...first.rows.map((r) => r.id), ...resumed.ids]).toEqual(whole.ids);
  });

  it('reads the same with one LIMIT query per page, through jobs.query or createQueryJob', async () => {
    const window = { start: '2023-01-01T00:00:00Z', end: '2023-05-01T00:00:00Z' };
    const expected = emu.expected.rows('tracks', window).map((r) => r.id);
    for (const queryMethod of ['jobs.query', 'jobs.insert'] as const) {
      const perPage = new SegmentReader({ projectId: emu.projectId, dataset: emu.dataset, apiEndpoint: emu.url, pageSessions: false, queryMethod, maxResultsPerCall: 4 });
      const result = await walk(perPage, { table: 'tracks', windowStart: window.start, windowEnd: window.end, limit: 30 });
      expect(result.ids).toEqual(expected);
    }
  });

  it('pages a window through one query job and its page tokens, with pages filled a few rows per call', async () => {
    const client = createBigQueryClient({ projectId: emu.projectId, apiEndpoint: emu.url });
    const created = countQueryJobs(client);
    const viaJobs = new SegmentReader({ projectId: emu.projectId, dataset: emu.dataset, client, deleteJobsAfterRead: true, pageSessions: true, maxResultsPerCall: 4 });
    const window = { start: '2023-01-01T00:00:00Z', end: '2023-05-01T00:00:00Z' };
    const result = await walk(viaJobs, { table: 'tracks', windowStart: window.start, windowEnd: window.end, limit: 30 });
    expect(result.ids).toEqual(emu.expected.rows('tracks', window).map((r) => r.id));
    expect(result.pages.length).toBeGreaterThan(3);
    expect(new Set(result.pages.map((p) => p.jobId)).size).toBe(1);
    expect(created()).toBe(1);
    for (const p of result.pages.slice(0, -1)) expect(p.rows.length + p.rejected.length).toBe(30);
  });

  it('starts a new job from the keyset position when the page token is gone, a resume from another position, or too old', async () => {
    const client = createBigQueryClient({ projectId: emu.projectId, apiEndpoint: emu.url });
    const created = countQueryJobs(client);
    const req = { table: 'tracks' as SegmentReadTable, windowStart: '2023-01-01T00:00:00Z', windowEnd: '2024-01-01T00:00:00Z', limit: 25 };
    const whole = await walk(new SegmentReader({ projectId: emu.projectId, dataset: emu.dataset, apiEndpoint: emu.url, pageSessions: false }), req);
    const sessions = new SegmentReader({ projectId: emu.projectId, dataset: emu.dataset, client, deleteJobsAfterRead: true, pageSessions: true });

    // The job behind the open page token disappears (as BigQuery's anonymous results do after ~24 h).
    const p1 = await sessions.readPage(req);
    await createBigQueryClient({ projectId: emu.projectId, apiEndpoint: emu.url }).job(p1.jobId!).delete();
    const p2 = await sessions.readPage({ ...req, after: p1.next });
    expect(p2.jobId).not.toBe(p1.jobId);
    expect(created()).toBe(2);
    // A page asked from a position other than where the open job stands (a retried or replayed page).
    const again = await sessions.readPage({ ...req, after: p1.next });
    expect(again.rows.map((r) => r.id)).toEqual(p2.rows.map((r) => r.id));
    expect(created()).toBe(3);
    const rest = await walk(sessions, req, again.next);
    expect([...p1.rows, ...p1.rejected.map((r) => r.row), ...p2.rows, ...p2.rejected.map((r) => r.row)].length).toBe(50);
    expect(rest.ids).toEqual(whole.ids.slice(50));
    // ...and the job that last read is where the walk continued from.
    expect(created()).toBe(3);

    // A token older than maxSessionAgeMs is not trusted.
    const stale = new SegmentReader({ projectId: emu.projectId, dataset: emu.dataset, client, deleteJobsAfterRead: true, pageSessions: true, maxSessionAgeMs: 0 });
    const s1 = await stale.readPage(req);
    const s2 = await stale.readPage({ ...req, after: s1.next });
    expect(s2.jobId).not.toBe(s1.jobId);
    expect(s2.rows.map((r) => r.id)).toEqual(p2.rows.map((r) => r.id));
    await sessions.close();
    await stale.close();
  });

  it('splits a range into windows without losing or repeating ids', async () => {
    const bounds = ['2022-01-01T00:00:00Z', '2022-09-13T07:00:00Z', '2023-06-01T00:00:00Z', '2025-01-01T00:00:00Z'];
    const ids: string[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) ids.push(...(await walk(reader, { table: 'pages', windowStart: bounds[i], windowEnd: bounds[i + 1], limit: 50 })).ids);
    expect(ids).toEqual(emu.expected.rows('pages').map((r) => r.id));
  });

  it('counts rows and distinct ids of a window, and finds the time range', async () => {
    const window = { start: '2023-01-01T00:00:00Z', end: '2024-01-01T00:00:00Z' };
    const count = await reader.countRows({ table: 'tracks', windowStart: window.start, windowEnd: window.end });
    expect(count.distinctIds).toBe(emu.expected.distinctInWindow('tracks', window.start, window.end));
    expect(count.rows).toBeGreaterThanOrEqual(count.distinctIds);
    const range = await reader.timestampRange('pages');
    const rows = emu.expected.rows('pages');
    expect(range).toEqual({ min: rows[0].timestamp, max: rows.at(-1)!.timestamp, rows: 150 });
    expect(await reader.listTables()).toEqual(['identifies', 'pages', 'tracks']);
    expect(await reader.tableExists('tracks')).toBe(true);
    expect(await reader.tableExists('screens')).toBe(false);
  });

  it('explains a missing table, a missing dataset and an unreachable endpoint', async () => {
    const w = { windowStart: FROM, windowEnd: TO, limit: 10 };
    const table = reader.readPage({ table: 'screens' as SegmentReadTable, ...w });
    await expect(table).rejects.toBeInstanceOf(PermanentError);
    await expect(table).rejects.toThrow(/table novade-sandbox\.segment\.screens not found.*SEGMENT_TABLES/);
    const noDataset = new SegmentReader({ projectId: emu.projectId, dataset: 'segment_prod', apiEndpoint: emu.url });
    await expect(noDataset.listTables()).rejects.toThrow(/dataset novade-sandbox\.segment_prod not found.*SEGMENT_DATASET/);
    const down = new SegmentReader({ projectId: emu.projectId, dataset: emu.dataset, apiEndpoint: 'http://127.0.0.1:1' });
    const read = down.readPage({ table: 'tracks', ...w });
    await expect(read).rejects.toBeInstanceOf(TransientError);
    await expect(read).rejects.toThrow(/cannot connect to the BigQuery API at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\).*BIGQUERY_API_ENDPOINT/);
    await expect(reader.readPage({ table: 'tracks', windowStart: TO, windowEnd: FROM, limit: 10 })).rejects.toThrow(/empty time window/);
  });
});

/**
 * Hand-made rows for the cases a generator hits only by luck: a later load with different content,
 * ties at the same microsecond, microsecond neighbours, an id whose copies sit in two windows,
 * rows without timestamp.
 */
describe('SegmentReader on crafted rows', () => {
  let emu: BigQueryEmulator;
  let reader: SegmentReader;
  const row = (id: string | null, timestamp: string | null, loaded: string, event: string | null = 'login') => ({
    id,
    anonymous_id: 'anon',
    user_id: null,
    timestamp,
    loaded_at: loaded,
    uuid_ts: loaded,
    event,
    event_text: event ? `v-${loaded}` : null,
  });

  beforeAll(async () => {
    emu = await startBigQueryEmulator({ rowsPerTable: 0, dataset: 'crafted' });
    const bq = createBigQueryClient({ projectId: emu.projectId, apiEndpoint: emu.url });
    const L1 = '2024-01-10T00:00:00Z';
    const L2 = '2024-01-11T00:00:00Z';
    await bq
      .dataset('crafted')
      .table('tracks')
      .insert([
        row('a', '2024-01-01T10:00:00.000000Z', L1),
        row('a', '2024-01-01T10:00:00.000000Z', L2),
        row('b3', '2024-01-01T11:00:00.000000Z', L1),
        row('b1', '2024-01-01T11:00:00.000000Z', L1),
        row('b2', '2024-01-01T11:00:00.000000Z', L1),
        row('b2', '2024-01-01T11:00:00.000000Z', L2),
        row('c2', '2024-01-01T12:00:00.000002Z', L1),
        row('c1', '2024-01-01T12:00:00.000001Z', L1),
        row('d', '2024-01-01T23:59:59.999999Z', L1),
        row('d', '2024-01-02T00:00:00.000000Z', L2),
        row('e', '2024-01-02T01:00:00.000000Z', L1, null),
        row('f', null, L1),
      ]);
    reader = new SegmentReader({ projectId: emu.projectId, dataset: 'crafted', apiEndpoint: emu.url });
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('pages two rows at a time through ties, microseconds and re-loads', async () => {
    const day1 = await walk(reader, { table: 'tracks', windowStart: '2024-01-01T00:00:00Z', windowEnd: '2024-01-02T00:00:00Z', limit: 2 });
    expect(day1.ids).toEqual(['a', 'b1', 'b2', 'b3', 'c1', 'c2', 'd']);
    const rows = day1.pages.flatMap((p) => p.rows);
    expect(rows.find((r) => r.id === 'a')!.event_text).toBe('v-2024-01-11T00:00:00Z');
    expect(rows.find((r) => r.id === 'c1')!.timestamp).toBe('2024-01-01T12:00:00.000001Z');
    expect(day1.pages[0].next).toEqual({ timestamp: '2024-01-01T11:00:00.000000Z', id: 'b1' });
    expect(day1.pages[1].next).toEqual({ timestamp: '2024-01-01T11:00:00.000000Z', id: 'b3' });
  });

  it('returns an id once per window it has a copy in, and once over a window holding both', async () => {
    const day2 = await walk(reader, { table: 'tracks', windowStart: '2024-01-02T00:00:00Z', windowEnd: '2024-01-03T00:00:00Z', limit: 2 });
    expect(day2.ids).toEqual(['d', 'e']);
    expect(day2.rejected).toEqual(['e']);
    const both = await walk(reader, { table: 'tracks', windowStart: '2024-01-01T00:00:00Z', windowEnd: '2024-01-03T00:00:00Z', limit: 3 });
    expect(both.ids).toEqual(['a', 'b1', 'b2', 'b3', 'c1', 'c2', 'd', 'e']);
    expect(both.pages.flatMap((p) => p.rows).find((r) => r.id === 'd')!.timestamp).toBe('2024-01-02T00:00:00.000000Z');
  });

  it('counts physical rows and distinct ids, rows without timestamp outside every window', async () => {
    expect(await reader.countRows({ table: 'tracks', windowStart: '2024-01-01T00:00:00Z', windowEnd: '2024-01-03T00:00:00Z' })).toEqual({ rows: 11, distinctIds: 8 });
  });
});
