import { describe, expect, it } from 'vitest';
import { IdThroughputBudget } from '../../connectors/amplitude/id-throughput';
import type { AmplitudeEvent } from '../../mappings/amplitude-types';

const ev = (n: number, who: Partial<AmplitudeEvent>): AmplitudeEvent[] => Array.from({ length: n }, (_, i) => ({ event_type: 'x', time: i, insert_id: `i${i}`, ...who }));

describe('per-id throughput budget', () => {
  it('lets a batch go while every id is within its budget, and says how long to wait when one is not', () => {
    let now = 1_000_000;
    const b = new IdThroughputBudget({ perIdPerSecond: 10, windowMs: 10_000, now: () => now }); // 100 per 10 s
    expect(b.delayFor(ev(60, { user_id: 'heavy@example.com' }))).toBe(0);
    b.record(ev(60, { user_id: 'heavy@example.com' }));
    now += 4_000;
    b.record(ev(30, { user_id: 'heavy@example.com' }));
    // 90 sent in the window: 20 more must wait until the first 60 leave it (6 s from now).
    expect(b.delayFor(ev(20, { user_id: 'heavy@example.com' }))).toBe(6_000);
    // Other ids are not held back, and device ids count apart from user ids.
    expect(b.delayFor(ev(99, { user_id: 'light@example.com' }))).toBe(0);
    expect(b.delayFor(ev(20, { device_id: 'heavy@example.com' }))).toBe(0);
    now += 6_000;
    expect(b.delayFor(ev(20, { user_id: 'heavy@example.com' }))).toBe(0);
    // A batch bigger than a whole window for one id is not delayed forever.
    expect(b.delayFor(ev(500, { user_id: 'heavy@example.com' }))).toBe(0);
  });

  it("hands a lane's busy ids to its next step, hashed, so that a step on another worker keeps the lane's share", () => {
    let now = 1_000_000;
    // A lane of two: half of 10 events/s per id, 50 per 10 s.
    const first = new IdThroughputBudget({ perIdPerSecond: 5, windowMs: 10_000, now: () => now, hashIds: true });
    first.record(ev(40, { user_id: 'heavy@example.com' }));
    first.record(ev(1, { user_id: 'light@example.com' }));
    const carried = first.exportHot();
    // Only the id that used a real part of its share travels, and never in clear.
    expect(Object.keys(carried)).toHaveLength(1);
    expect(JSON.stringify(carried)).not.toContain('example.com');
    now += 2_000;
    const next = new IdThroughputBudget({ perIdPerSecond: 5, windowMs: 10_000, now: () => now, hashIds: true }).importSends(JSON.parse(JSON.stringify(carried)));
    // 40 sent 2 s ago: 20 more wait until they leave the window; the light id goes at once.
    expect(next.delayFor(ev(20, { user_id: 'heavy@example.com' }))).toBe(8_000);
    expect(next.delayFor(ev(20, { user_id: 'light@example.com' }))).toBe(0);
    now += 8_000;
    expect(next.exportHot()).toEqual({});
  });
});
