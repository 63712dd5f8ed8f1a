import { describe, expect, it } from 'vitest';
import { durationMs } from '../../streams/full-reread';
import { sameValue } from '../../streams/pipeline';

describe('full_reread helpers', () => {
  it('reads the durations the streams file accepts', () => {
    expect(durationMs('30m')).toBe(30 * 60_000);
    expect(durationMs('12h')).toBe(12 * 3_600_000);
    expect(durationMs('7d')).toBe(7 * 86_400_000);
    expect(() => durationMs('weekly')).toThrow('expected e.g. 30m, 12h or 7d');
  });

  it('compares a value read now with the one silver holds across their shapes', () => {
    expect(sameValue('2024-01-02T03:04:05.000Z', new Date('2024-01-02T03:04:05Z'))).toBe(true);
    expect(sameValue('2024-01-02T03:04:05.000Z', new Date('2024-01-02T03:04:06Z'))).toBe(false);
    expect(sameValue(12.5, '12.5')).toBe(true);
    expect(sameValue(12n, 12)).toBe(true);
    expect(sameValue(null, undefined)).toBe(true);
    expect(sameValue(null, '')).toBe(false);
    expect(sameValue('Acme', 'Acme Ltd')).toBe(false);
    expect(sameValue(true, false)).toBe(false);
  });
});
