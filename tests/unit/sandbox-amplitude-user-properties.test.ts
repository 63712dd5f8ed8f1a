import { describe, expect, it } from 'vitest';
import { applyUserProperties } from '../../sandbox/amplitude/user-properties';

describe('Amplitude user property operations (Identify API)', () => {
  it('treats plain keys as $set', () => {
    expect(applyUserProperties({ plan: 'free', city: 'SG' }, { plan: 'pro' })).toEqual({ next: { plan: 'pro', city: 'SG' }, violations: [] });
  });

  it('applies $set, $setOnce, $add, $unset, $append, $prepend', () => {
    const { next, violations } = applyUserProperties(
      { first_seen: '2024-01-01', logins: 2, old: true, interests: ['chess'], sports: 'tennis' },
      { $set: { plan: 'pro' }, $setOnce: { first_seen: '2025-01-01', source: 'drift' }, $add: { logins: 3, visits: 1 }, $unset: { old: '-' }, $append: { interests: 'music' }, $prepend: { sports: ['golf'] } },
    );
    expect(violations).toEqual([]);
    expect(next).toEqual({ first_seen: '2024-01-01', source: 'drift', plan: 'pro', logins: 5, visits: 1, interests: ['chess', 'music'], sports: ['golf', 'tennis'] });
  });

  it('applies $preInsert, $postInsert and $remove without duplicating list values', () => {
    const { next } = applyUserProperties({ tags: ['a', 'b'] }, { $preInsert: { tags: ['z', 'a'] }, $postInsert: { other: 'x' }, $remove: { tags: 'b' } });
    expect(next).toEqual({ tags: ['z', 'a'], other: ['x'] });
  });

  it('reports a dictionary mixing operations and plain keys, and applies only the operations', () => {
    const { next, violations } = applyUserProperties({}, { $set: { plan: 'pro' }, company: 'Acme' });
    expect(next).toEqual({ plan: 'pro' });
    expect(violations[0]).toMatch(/mixes operations with plain properties \(company\)/);
  });

  it('reports $add with a value that is not a number', () => {
    const { next, violations } = applyUserProperties({ n: 1 }, { $add: { n: 'many' } });
    expect(next).toEqual({ n: 1 });
    expect(violations).toHaveLength(1);
  });

  it('$clearAll removes every property', () => {
    expect(applyUserProperties({ a: 1, b: 2 }, { $clearAll: '-' }).next).toEqual({});
  });
});
