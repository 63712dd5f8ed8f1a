import { describe, expect, it } from 'vitest';
import { DEDUP_WINDOW_MS, InsertIdDeduplicator } from '../../sandbox/amplitude/dedup';
import { PerIdRateLimiter } from '../../sandbox/amplitude/rate-limiter';

const T0 = 1_800_000_000_000;
const user = (userId: string) => ({ userId });

describe('Amplitude per-id throttling', () => {
  it('throttles a user above the events-per-second threshold and names the id, its rate and the event indexes', () => {
    const limiter = new PerIdRateLimiter({ epsThreshold: 30, windowSeconds: 1, penaltySeconds: 0 });
    const ok = Array.from({ length: 30 }, () => user('user-a'));
    expect(limiter.check(ok, T0)).toBeUndefined();
    limiter.record(ok, T0);
    const verdict = limiter.check([user('user-b'), user('user-a')], T0 + 10);
    expect(verdict).toEqual({ throttledUsers: { 'user-a': 31 }, throttledDevices: {}, throttledEvents: [1], exceededDailyQuotaUsers: {}, exceededDailyQuotaDevices: {} });
  });

  it('counts user_id and device_id separately, and the window slides', () => {
    const limiter = new PerIdRateLimiter({ epsThreshold: 2, windowSeconds: 1, penaltySeconds: 0 });
    limiter.record([{ userId: 'user-a', deviceId: 'dev-1' }, { deviceId: 'dev-1' }], T0);
    expect(limiter.check([{ deviceId: 'dev-1' }], T0 + 100)?.throttledDevices).toEqual({ 'dev-1': 3 });
    expect(limiter.check([{ userId: 'user-a' }], T0 + 100)).toBeUndefined();
    expect(limiter.check([{ deviceId: 'dev-1' }], T0 + 1_100)).toBeUndefined();
  });

  it('averages over the window (Batch: 1,000 events/s over 30 s)', () => {
    const limiter = new PerIdRateLimiter({ epsThreshold: 1_000, windowSeconds: 30, penaltySeconds: 0 });
    limiter.record(Array.from({ length: 29_999 }, () => user('user-a')), T0);
    expect(limiter.check([user('user-a')], T0 + 5_000)).toBeUndefined();
    expect(limiter.check([user('user-a'), user('user-a')], T0 + 5_000)?.throttledUsers).toEqual({ 'user-a': 1_001 });
  });

  it('keeps an id throttled for the penalty time after a 429', () => {
    const limiter = new PerIdRateLimiter({ epsThreshold: 1, windowSeconds: 1, penaltySeconds: 30 });
    expect(limiter.check([user('user-a'), user('user-a')], T0)).toBeDefined();
    expect(limiter.check([user('user-a')], T0 + 29_000)).toBeDefined();
    expect(limiter.check([user('user-a')], T0 + 30_001)).toBeUndefined();
  });

  it('reports ids over the daily quota in exceeded_daily_quota_*', () => {
    const limiter = new PerIdRateLimiter({ epsThreshold: 1_000, windowSeconds: 30, penaltySeconds: 0, dailyQuota: 3 });
    limiter.record([user('user-a'), user('user-a'), user('user-a')], T0);
    const verdict = limiter.check([user('user-a')], T0 + 3_600_000);
    expect(verdict?.exceededDailyQuotaUsers).toEqual({ 'user-a': 4 });
    expect(verdict?.throttledEvents).toEqual([]);
    expect(limiter.check([user('user-a')], T0 + 25 * 3_600_000)).toBeUndefined();
  });
});

describe('Amplitude insert_id deduplication', () => {
  it('insert_id deduplicates within 7 days, keyed with device_id on HTTP V2', () => {
    const d = new InsertIdDeduplicator();
    d.remember('ins-1', 'device-1', T0);
    expect(d.isDuplicate('httpapi', 'ins-1', 'device-1', T0 + 1)).toBe(true);
    expect(d.isDuplicate('httpapi', 'ins-1', 'device-2', T0 + 1)).toBe(false);
    expect(d.isDuplicate('httpapi', 'ins-1', undefined, T0 + 1)).toBe(true);
    expect(d.isDuplicate('httpapi', 'ins-1', 'device-1', T0 + DEDUP_WINDOW_MS - 1)).toBe(true);
    expect(d.isDuplicate('httpapi', 'ins-1', 'device-1', T0 + DEDUP_WINDOW_MS)).toBe(false);
  });

  it('Batch deduplicates on insert_id alone', () => {
    const d = new InsertIdDeduplicator();
    d.remember('ins-1', 'device-1', T0);
    expect(d.isDuplicate('batch', 'ins-1', 'device-2', T0 + 1)).toBe(true);
    expect(d.isDuplicate('batch', 'ins-2', 'device-1', T0 + 1)).toBe(false);
  });

  it('runs the window from the first sighting', () => {
    const d = new InsertIdDeduplicator();
    d.remember('ins-1', undefined, T0);
    d.remember('ins-1', undefined, T0 + DEDUP_WINDOW_MS - 10);
    expect(d.isDuplicate('batch', 'ins-1', undefined, T0 + DEDUP_WINDOW_MS)).toBe(false);
  });
});
