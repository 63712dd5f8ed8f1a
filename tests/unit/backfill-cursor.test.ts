import { describe, expect, it } from 'vitest';
import { backfillRange, firstCursor, fractionDone, nextTable, windowOf } from '../../ports/backfill-cursor';
import { parseRate, parseTables, progressBar, BackfillUsageError } from '../../client/backfill';
import { backfillWorkflowId } from '../../ports/backfill';

describe('backfill range and cursor', () => {
  it('takes both days inclusive and refuses bad ranges with a message saying what to type', () => {
    expect(backfillRange('2022-01-01', '2022-01-01')).toEqual({ startMs: Date.UTC(2022, 0, 1), endMs: Date.UTC(2022, 0, 2) });
    expect(backfillRange('2022-1-01', '2022-01-02')).toMatch(/--from "2022-1-01" is not a date: use YYYY-MM-DD/);
    expect(backfillRange('2022-02-30', '2022-03-01')).toMatch(/not a real calendar day/);
    expect(backfillRange('2022-03-01', '2022-02-01')).toMatch(/--to 2022-02-01 is before --from 2022-03-01/);
  });

  it('walks every table of a window before the next window, and the last window ends at the range end', () => {
    const range = backfillRange('2024-01-01', '2024-01-02') as { startMs: number; endMs: number };
    const seen: string[] = [];
    for (let c: ReturnType<typeof nextTable> = firstCursor(range); c; c = nextTable(c, range, 36, 2)) {
      const w = windowOf(c, range, 36);
      seen.push(`${w.start}..${w.end}#${c.table}`);
    }
    expect(seen).toEqual([
      '2024-01-01T00:00:00.000Z..2024-01-02T12:00:00.000Z#0',
      '2024-01-01T00:00:00.000Z..2024-01-02T12:00:00.000Z#1',
      '2024-01-02T12:00:00.000Z..2024-01-03T00:00:00.000Z#0',
      '2024-01-02T12:00:00.000Z..2024-01-03T00:00:00.000Z#1',
    ]);
    expect(fractionDone(firstCursor(range), range, 2, 36)).toBe(0);
    expect(fractionDone(null, range, 2, 36)).toBe(1);
    expect(fractionDone({ windowStart: '2024-01-02T00:00:00.000Z', table: 0 }, range, 2, 24)).toBe(0.5);
  });

  it('names a backfill by range and tables, in one canonical table order', () => {
    expect(backfillWorkflowId('2022-01-01', '2024-12-31', parseTables('pages,tracks', []))).toBe('segment-backfill-2022-01-01-2024-12-31-tracks+pages');
    expect(() => parseTables('tracks,screens', [])).toThrow(BackfillUsageError);
    expect(() => parseTables('tracks,screens', [])).toThrow(/unknown Segment table\(s\) screens/);
    expect(parseTables(undefined, ['identifies'])).toEqual(['identifies']);
    expect(() => parseRate('-3')).toThrow(/--rate "-3" is not valid/);
    expect(parseRate('250')).toBe(250);
    expect(progressBar(0.5, 10)).toBe('[#####.....]  50.0 %');
  });
});
