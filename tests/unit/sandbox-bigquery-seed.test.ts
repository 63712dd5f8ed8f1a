import { describe, expect, it } from 'vitest';
import { SegmentGenerator, segmentRows, SEGMENT_RATES, type SegmentSeedOptions } from '../../sandbox/seed/segment';
import { segmentColumns, SEGMENT_TABLES } from '../../sandbox/seed/segment-columns';
import { countDistinct, countDistinctInWindow, expectedSegmentRows, segmentTruth, compareKeyset } from '../../sandbox/seed/segment-truth';
import { person } from '../../sandbox/seed/people';
import { parseIsoMicros } from '../../sandbox/seed/segment-time';
import { segmentExpectations } from '../../sandbox/bigquery/expectations';

const opts: SegmentSeedOptions = { seed: 42, rowsPerTable: 4_000, from: '2022-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' };
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

describe('Segment warehouse generator', () => {
  const tracks = [...segmentRows(opts, 'tracks')];

  it('is a pure function of (seed, table, index)', () => {
    const again = new SegmentGenerator(opts, 'tracks');
    expect(again.row(3_321)).toEqual(tracks[3_321]);
    expect(again.row(17)).toEqual(new SegmentGenerator({ ...opts, rowsPerTable: 20 }, 'tracks').row(17));
    expect(new SegmentGenerator({ ...opts, seed: 7 }, 'tracks').row(17)).not.toEqual(tracks[17]);
  });

  it('gives every row exactly the columns of its table, timestamps in canonical form within the range', () => {
    for (const table of SEGMENT_TABLES) {
      const names = segmentColumns(table).map((c) => c.name).sort();
      const gen = new SegmentGenerator(opts, table);
      for (let i = 0; i < 500; i++) {
        const row = gen.row(i);
        expect(Object.keys(row).sort()).toEqual(names);
        for (const c of segmentColumns(table)) if (c.type === 'TIMESTAMP' && row[c.name] !== null) expect(row[c.name]).toMatch(CANONICAL);
        const t = parseIsoMicros(row.timestamp as string);
        expect(t).toBeGreaterThanOrEqual(parseIsoMicros(opts.from));
        expect(t).toBeLessThan(parseIsoMicros(opts.to));
      }
    }
  });

  it('re-loads ~1.5% of rows: same id and content, later loaded_at and uuid_ts', () => {
    const gen = new SegmentGenerator(opts, 'tracks');
    const dups = tracks.map((_, i) => gen.duplicateOf(i)).filter((d) => d !== undefined);
    expect(dups.length / tracks.length).toBeGreaterThan(SEGMENT_RATES.duplicate * 0.6);
    expect(dups.length / tracks.length).toBeLessThan(SEGMENT_RATES.duplicate * 1.5);
    for (let i = 0; i < tracks.length; i++) {
      const d = gen.duplicateOf(i);
      if (d === undefined) continue;
      const { loaded_at, uuid_ts, ...content } = tracks[i];
      const { loaded_at: earlierLoaded, uuid_ts: earlierUuid, ...earlierContent } = tracks[d];
      expect(content).toEqual(earlierContent);
      expect(loaded_at! > earlierLoaded!).toBe(true);
      expect(uuid_ts! > earlierUuid!).toBe(true);
    }
  });

  it('never reuses an id except for a re-load, within or across tables', () => {
    const originals = new Set<string>();
    for (const table of SEGMENT_TABLES) {
      const gen = new SegmentGenerator(opts, table);
      for (let i = 0; i < gen.rows; i++) {
        if (gen.duplicateOf(i) !== undefined) continue;
        const id = gen.row(i).id as string;
        expect(originals.has(id)).toBe(false);
        originals.add(id);
      }
    }
  });

  it('has ties on timestamp between distinct ids', () => {
    const byTime = new Map<string, Set<string>>();
    for (const r of tracks) byTime.set(r.timestamp as string, (byTime.get(r.timestamp as string) ?? new Set()).add(r.id as string));
    const ties = [...byTime.values()].filter((ids) => ids.size > 1).length;
    expect(ties).toBeGreaterThan(tracks.length * SEGMENT_RATES.tie * 0.5);
  });

  it('uses lower-cased sandbox emails as user_id, overlapping the Salesforce contacts, plus anonymous visitors', () => {
    const emails = new Map<string, number>();
    for (let i = 0; i < 45_000; i += 1) {
      const e = person(42, i).email;
      if (e) emails.set(e.trim().toLowerCase(), i);
    }
    const users = tracks.filter((r) => r.user_id !== null);
    const anonymous = tracks.filter((r) => r.user_id === null && r.anonymous_id !== null);
    expect(users.length / tracks.length).toBeGreaterThan(0.5);
    expect(anonymous.length / tracks.length).toBeGreaterThan(0.15);
    for (const r of users) {
      expect(r.user_id).toBe((r.user_id as string).toLowerCase());
      expect(emails.has(r.user_id as string)).toBe(true);
    }
    const salesforceContacts = users.filter((r) => emails.get(r.user_id as string)! < 37_000);
    expect(salesforceContacts.length / users.length).toBeGreaterThan(0.7);
  });

  it('contains the messy rows a backfill must survive', () => {
    const unmappable = tracks.filter((r) => r.user_id === null && r.anonymous_id === null);
    const nullEvent = tracks.filter((r) => r.event === null);
    const long = tracks.filter((r) => (r.context_user_agent as string | null)?.length! > 4_000 || (r.event_text as string | null)?.length! > 2_000);
    const unicode = tracks.filter((r) => /[^\x00-\x7f]/.test(String(r.event_text)));
    expect(unmappable.length).toBeGreaterThan(0);
    expect(nullEvent.length).toBeGreaterThan(0);
    expect(nullEvent.every((r) => r.event_text === null)).toBe(true);
    expect(long.length).toBeGreaterThan(0);
    expect(unicode.length).toBeGreaterThan(0);
    // Segment names the event column after the event text; a long text does not lengthen it.
    expect(tracks.every((r) => r.event === null || /^[a-z0-9_]{1,40}$/.test(r.event as string))).toBe(true);
  });

  it('flattens track properties, identify traits and page fields into snake_case columns', () => {
    const checklist = tracks.find((r) => r.event === 'checklist_completed')!;
    expect(checklist).toMatchObject({ event_text: 'Checklist Completed', checklist_id: expect.stringMatching(/^chk_/), item_count: expect.any(Number) });
    const identify = new SegmentGenerator(opts, 'identifies').row(3);
    if (identify.user_id) expect(identify.email?.toString().toLowerCase()).toBe(identify.user_id);
    const page = new SegmentGenerator(opts, 'pages').row(3);
    expect(page.url).toEqual(expect.stringContaining(page.path as string));
    expect(page.context_library_name).toBe('analytics.js');
  });

  it('streams rows without holding the table', () => {
    const it = segmentRows({ ...opts, rowsPerTable: 1_000_000 }, 'pages');
    const first = it.next();
    expect(first.done).toBe(false);
    expect(first.value).toEqual(new SegmentGenerator(opts, 'pages').row(0));
  });

  it('rejects an empty range and a bad size', () => {
    expect(() => new SegmentGenerator({ ...opts, to: opts.from }, 'tracks')).toThrow(/range is empty/);
    expect(() => new SegmentGenerator({ ...opts, rowsPerTable: -1 }, 'tracks').rows).toThrow(/whole number/);
    expect(new SegmentGenerator({ ...opts, rowsPerTable: { tracks: 5 } }, 'pages').rows).toBe(0);
  });
});

describe('Segment truth', () => {
  const small: SegmentSeedOptions = { ...opts, rowsPerTable: 2_000 };

  it('counts distinct ids, duplicates and events as a brute-force pass does', () => {
    const rows = [...segmentRows(small, 'tracks')];
    const ids = new Map<string, (typeof rows)[number]>();
    for (const r of rows) ids.set(r.id as string, r);
    const truth = segmentTruth(small, 'tracks');
    expect(truth.rows).toBe(2_000);
    expect(truth.distinctIds).toBe(ids.size);
    expect(truth.duplicateRows).toBe(2_000 - ids.size);
    expect(countDistinct(small, 'tracks')).toBe(ids.size);
    expect(truth.unmappable).toBe([...ids.values()].filter((r) => r.user_id === null && r.anonymous_id === null).length);
    expect(truth.perEvent.login).toBe([...ids.values()].filter((r) => r.event === 'login').length);
    expect(Object.values(truth.perEvent).reduce((a, b) => a + b, 0)).toBe(ids.size);
  });

  it('lists each id once, latest load, in (timestamp, id) order, and counts windows', () => {
    const w = { start: '2023-01-01T00:00:00Z', end: '2023-07-01T00:00:00Z' };
    const rows = expectedSegmentRows(small, 'pages', w);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    for (let i = 1; i < rows.length; i++) expect(compareKeyset(rows[i - 1], rows[i])).toBeLessThan(0);
    expect(rows.length).toBe(countDistinctInWindow(small, 'pages', w.start, w.end));
    const all = [...segmentRows(small, 'pages')];
    for (const r of rows) {
      const copies = all.filter((x) => x.id === r.id);
      expect(r.loaded_at).toBe(copies.map((c) => c.loaded_at as string).sort().at(-1));
    }
    const exp = segmentExpectations(small);
    expect(exp.totalDistinct()).toBe(SEGMENT_TABLES.reduce((n, t) => n + exp.truth(t).distinctIds, 0));
    expect(exp.distinctInWindow('pages', w.start, w.end)).toBe(rows.length);
    expect(exp.rows('pages', w)).toEqual(rows);
  });
});
