import { describe, expect, it } from 'vitest';
import { computeParity, daysBetween, type ParityCall } from '../../tracking/parity';
import { amplitudeEventTypeOf, blockedEventType, readParity, type ParitySources } from '../../tracking/parity-sources';
import { renderParityHtml, renderParityText } from '../../tracking/parity-render';
import { mapSegmentRow } from '../../mappings/segment';

const call = (id: string, at: string, eventType = 'form_submitted'): ParityCall => ({ id, at, eventType });
/** n calls of a day, ids `<prefix>-<i>`, spread over the day's hours. */
const day = (d: string, count: number, prefix = d, eventType = 'form_submitted') =>
  Array.from({ length: count }, (_, i) => call(`${prefix}-${i}`, `${d}T${String(i % 24).padStart(2, '0')}:15:00.000Z`, eventType));
const opts = { from: '2024-06-01', to: '2024-06-02', tolerance: 0.02 };

describe('parity report', () => {
  it('is exact when nothing is lost: every row ok, nothing missing', () => {
    const calls = [...day('2024-06-01', 100), ...day('2024-06-02', 80), ...day('2024-06-02', 20, 'p', 'Viewed Pricing')];
    const r = computeParity({ segment: calls, collected: calls, amplitude: calls, blocked: [] }, opts);
    expect(r.rows.map((x) => [x.day, x.eventType, x.segment, x.collected, x.amplitude, x.verdict])).toEqual([
      ['2024-06-01', 'form_submitted', 100, 100, 100, 'ok'],
      ['2024-06-02', 'form_submitted', 80, 80, 80, 'ok'],
      ['2024-06-02', 'Viewed Pricing', 20, 20, 20, 'ok'],
    ]);
    expect(r.totals).toMatchObject({ calls: 200, rowsOutOfTolerance: 0, difference: 0 });
    expect(Object.values(r.missing).map((m) => m.count)).toEqual([0, 0, 0, 0]);
    expect(r.days).toEqual([
      { day: '2024-06-01', segment: 100, collected: 100, amplitude: 100, missingInSegment: 0, missingInCollected: 0, amplitudeMismatch: 0, outOfTolerance: false },
      { day: '2024-06-02', segment: 100, collected: 100, amplitude: 100, missingInSegment: 0, missingInCollected: 0, amplitudeMismatch: 0, outOfTolerance: false },
    ]);
  });

  it('finds calls missing in Segment (lost by the forward) and in Amplitude, with their messageIds', () => {
    const all = day('2024-06-01', 100);
    const lostInSegment = new Set(['2024-06-01-3', '2024-06-01-40', '2024-06-01-77']);
    const r = computeParity(
      { segment: all.filter((c) => !lostInSegment.has(c.id)), collected: all, amplitude: all.filter((c) => c.id !== '2024-06-01-9'), blocked: [] },
      opts,
    );
    expect(r.rows[0]).toMatchObject({ segment: 97, collected: 100, amplitude: 99, missingInSegment: 3, missingInAmplitude: 1, missingInCollected: 0, verdict: 'out of tolerance', difference: 0.03 });
    expect(r.missing.segment.samples.map((s) => s.messageId).sort()).toEqual([...lostInSegment].sort());
    expect(r.missing.amplitude.samples).toEqual([{ messageId: '2024-06-01-9', day: '2024-06-01', eventType: 'form_submitted' }]);
    // 2 lost of 100 is within 2%; the same 2 lost of 50 is not.
    const two = computeParity({ segment: all.slice(2), collected: all, amplitude: all, blocked: [] }, opts);
    expect(two.rows[0]).toMatchObject({ difference: 0.02, verdict: 'ok' });
    expect(computeParity({ segment: all.slice(2, 50), collected: all.slice(0, 50), amplitude: all.slice(0, 50), blocked: [] }, opts).rows[0].verdict).toBe('out of tolerance');
  });

  it('finds calls novade-sync never collected, and Amplitude events it never sent', () => {
    const all = day('2024-06-01', 10);
    const r = computeParity({ segment: all, collected: all.slice(1), amplitude: [...all.slice(1), call('ghost', '2024-06-01T10:00:00Z')], blocked: [] }, opts);
    expect(r.missing.collected.samples.map((s) => s.messageId)).toEqual(['2024-06-01-0']);
    expect(r.missing.extraInAmplitude.samples.map((s) => s.messageId)).toEqual(['ghost']);
    expect(r.rows[0]).toMatchObject({ missingInCollected: 1, extraInAmplitude: 1, verdict: 'out of tolerance' });
  });

  it('attributes a call dated across midnight by one side to one day, as shifted, not missing', () => {
    const before = call('late-1', '2024-06-01T23:59:59.900Z');
    const afterInSegment = call('late-1', '2024-06-02T00:00:01.200Z');
    const base = [...day('2024-06-01', 49), ...day('2024-06-02', 50)];
    const r = computeParity({ segment: [...base, afterInSegment], collected: [...base, before], amplitude: [...base, before], blocked: [] }, opts);
    expect(r.rows.map((x) => [x.day, x.segment, x.collected, x.amplitude, x.shifted, x.verdict])).toEqual([
      ['2024-06-01', 50, 50, 50, 1, 'ok'],
      ['2024-06-02', 50, 50, 50, 0, 'ok'],
    ]);
    expect(Object.values(r.missing).map((m) => m.count)).toEqual([0, 0, 0, 0]);
    expect(r.shifted).toEqual({ count: 1, samples: [{ messageId: 'late-1', eventType: 'form_submitted', days: { segment: '2024-06-02', collected: '2024-06-01', amplitude: '2024-06-01' } }] });
    // Outside the range: a call whose reference day is after `to` is not counted.
    const edge = computeParity({ segment: [call('x', '2024-06-03T00:00:01Z')], collected: [call('x', '2024-06-02T23:59:59Z')], amplitude: [], blocked: [] }, { ...opts, from: '2024-06-03', to: '2024-06-03' });
    expect(edge.rows).toEqual([]);
  });

  it("compares identifies on Segment's and novade-sync's sides only: Amplitude's stream does not send them back", () => {
    const ids = day('2024-06-01', 10, 'i', '$identify');
    const r = computeParity({ segment: ids, collected: ids, amplitude: [], blocked: [] }, opts);
    expect(r.rows[0]).toMatchObject({ eventType: '$identify', segment: 10, collected: 10, amplitude: 0, amplitudeCompared: false, missingInAmplitude: 0, verdict: 'ok' });
    expect(r.days[0]).toMatchObject({ segment: 0, collected: 0, amplitude: 0 });
    expect(renderParityText(r)).toMatch(/\$identify\s+10\s+10\s+0\s+not streamed/);
    const lost = computeParity({ segment: ids.slice(1), collected: ids, amplitude: [], blocked: [] }, opts);
    expect(lost.rows[0]).toMatchObject({ missingInSegment: 1, verdict: 'out of tolerance' });
  });

  it('counts calls blocked by the plan as collected and expects them absent from Amplitude', () => {
    const all = day('2024-06-01', 10);
    const blocked = [call('2024-06-01-0', '2024-06-01T00:15:01Z')];
    const r = computeParity({ segment: all, collected: all.slice(1), amplitude: all.slice(1), blocked }, opts);
    expect(r.rows[0]).toMatchObject({ segment: 10, collected: 10, blocked: 1, amplitude: 9, missingInCollected: 0, missingInAmplitude: 0, verdict: 'ok' });
  });

  it('reads long ranges a week at a time with a day of margin, and merges them', async () => {
    const calls = daysBetween('2024-05-01', '2024-05-20').flatMap((d) => day(d, 5));
    // Segment dates one call of May 7 (the last day of the first window) on May 8.
    const shiftedId = '2024-05-07-4';
    const segment = calls.map((c) => (c.id === shiftedId ? { ...c, at: '2024-05-08T00:00:02Z' } : c));
    const windows: string[] = [];
    const within = (list: ParityCall[]) => async (w: { start: string; end: string }) => list.filter((c) => c.at >= w.start && c.at < w.end);
    const sources: ParitySources = { segment: within(segment), collected: within(calls), amplitude: within(calls.filter((c) => c.id !== '2024-05-15-2')), blocked: async () => [] };
    const r = await readParity(sources, { from: '2024-05-01', to: '2024-05-20', tolerance: 0.5, onWindow: (a, b) => windows.push(`${a}..${b}`) });
    expect(windows).toEqual(['2024-05-01..2024-05-07', '2024-05-08..2024-05-14', '2024-05-15..2024-05-20']);
    expect(r.days).toHaveLength(20);
    expect(r.totals).toMatchObject({ segment: 100, collected: 100, amplitude: 99, missingInSegment: 0, missingInCollected: 0, missingInAmplitude: 1, shifted: 1, rows: 20 });
    expect(r.missing.amplitude.samples.map((s) => s.messageId)).toEqual(['2024-05-15-2']);
    expect(r.shifted.samples[0]).toMatchObject({ messageId: shiftedId, days: { segment: '2024-05-08', collected: '2024-05-07' } });
  });

  it('names calls as Amplitude does (mappings/segment.ts)', () => {
    const base = { id: 'm1', user_id: 'someone@example.com', timestamp: '2024-06-01T10:00:00.000000Z' };
    const mapped = (table: 'tracks' | 'pages' | 'identifies', row: Record<string, unknown>) => {
      const r = mapSegmentRow(table, { ...base, ...row }, { minIdLength: 5 });
      if (!r.ok) throw new Error(r.reason);
      return r.event.event_type;
    };
    expect(amplitudeEventTypeOf('tracks', 'form_submitted')).toBe(mapped('tracks', { event: 'form_submitted', event_text: 'Form Submitted' }));
    expect(amplitudeEventTypeOf('pages', 'Pricing')).toBe(mapped('pages', { name: 'Pricing' }));
    expect(amplitudeEventTypeOf('pages', null)).toBe(mapped('pages', { path: '/' }));
    expect(amplitudeEventTypeOf('identifies', null)).toBe(mapped('identifies', { email: 'someone@example.com' }));
    expect(blockedEventType('track', 'Form Submitted')).toBe('form_submitted');
    expect(blockedEventType('page', 'page "Pricing"')).toBe('Viewed Pricing');
    expect(blockedEventType('page', 'page')).toBe('Page Viewed');
    expect(blockedEventType('identify', 'identify')).toBe('$identify');
  });

  it('renders a text table and a static HTML page (chart, table, missing messageIds, no network)', () => {
    const all = day('2024-06-01', 10);
    const r = computeParity({ segment: all.slice(1), collected: all, amplitude: all, blocked: [] }, opts);
    const text = renderParityText(r);
    expect(text).toContain('2024-06-01  form_submitted        9           10        0         10');
    expect(text).toContain("1 missing in Segment's warehouse (collected by novade-sync): 2024-06-01-0 (2024-06-01 form_submitted)");
    const html = renderParityHtml(r);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect((html.match(/<polyline/g) ?? []).length).toBe(3);
    expect(html).toContain('class="out"');
    expect(html).toContain('<td class="id">2024-06-01-0</td>');
    expect(html).not.toMatch(/\b(src|href)=|@import|url\(|<script/i);
    expect(renderParityHtml(computeParity({ segment: [], collected: [], amplitude: [], blocked: [] }, opts))).toContain('No call is missing on any side.');
  });
});
