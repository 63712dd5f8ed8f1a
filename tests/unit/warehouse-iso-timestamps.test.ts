import { describe, expect, it } from 'vitest';
import { isoUtcMs } from '../../connectors/warehouse/duckdb/chunks';

/** The Appender's fast ISO reader must agree with Date.parse wherever it answers, and step aside elsewhere. */
describe('isoUtcMs', () => {
  it('reads toISOString output exactly, across years, months and milliseconds', () => {
    for (let t = Date.UTC(1970, 0, 1); t < Date.UTC(2100, 0, 1); t += 86_400_000 * 7 + 3_600_000 * 5 + 61_001 + 7)
      expect(isoUtcMs(new Date(t).toISOString())).toBe(t);
    for (const [y, mo, d] of [[2024, 2, 29], [2000, 2, 29], [2023, 1, 31], [2023, 4, 30], [2023, 12, 31]])
      expect(isoUtcMs(new Date(Date.UTC(y, mo - 1, d, 1, 2, 3, 4)).toISOString())).toBe(Date.UTC(y, mo - 1, d, 1, 2, 3, 4));
    expect(isoUtcMs('2024-02-28T23:59:59.999Z')).toBe(Date.UTC(2024, 1, 28, 23, 59, 59, 999));
  });

  it('answers NaN (the general path) for anything else, never a different instant', () => {
    const others = [
      '2024-01-01T00:00:00Z',
      '2024-01-01T00:00:00.000+02:00',
      '2024-01-01 00:00:00.000Z',
      '2024-02-30T00:00:00.000Z',
      '2023-02-29T00:00:00.000Z',
      '1900-02-29T00:00:00.000Z',
      '2023-04-31T00:00:00.000Z',
      '2024-13-01T00:00:00.000Z',
      '2024-00-10T00:00:00.000Z',
      '2024-01-01T24:00:00.000Z',
      '2024-01-01T00:60:00.000Z',
      '2024-01-01T00:00:60.000Z',
      '2024-01-01T00:00:00.0a0Z',
      '2024/01/01T00:00:00.000Z',
      '+12024-01-01T00:00:00.000Z',
      'not a timestamp at all!!',
      '',
    ];
    for (const s of others) expect(isoUtcMs(s), s).toBeNaN();
  });
});
