import { describe, expect, it } from 'vitest';
import { blockReason, enforceCall, violationRows, type TrackedCall } from '../../tracking/enforce';
import { maskedSample, maskText } from '../../tracking/mask';
import { loadValidPlan } from '../../tracking/plan-compile';
import { checkAmplitudeEvent } from '../../tracking/amplitude-check';
import type { Outcomes } from '../../tracking/plan-files';
import { writeTestPlan } from '../helpers/tracking-plan';

const plan = (outcomes?: Partial<Outcomes>, overrides?: Record<string, Partial<Outcomes>>) => loadValidPlan(writeTestPlan({ outcomes, overrides }));
const track = (properties: Record<string, unknown>, event = 'Signed Up'): TrackedCall => ({ type: 'track', event, messageId: 'm-1', userId: 'u-1', properties, context: { ip: '1.2.3.4' } });
const good = { plan: 'pro', seats: 3 };
const brief = (r: ReturnType<typeof enforceCall>) => r.violations.map((v) => [v.type, v.path, v.sample, v.outcome]);

describe('enforcing the tracking plan on a Segment call', () => {
  const allowAll = plan();

  it('passes a call that follows the plan untouched (same object, no violation)', () => {
    const call = track({ ...good, referrer: 'https://example.com/a', tags: ['x'], amount: '12', address: { city: 'Paris' } });
    const r = enforceCall(call, allowAll);
    expect(r).toMatchObject({ outcome: 'allow', violations: [], omitted: [], event: 'Signed Up', callType: 'track' });
    expect(r.call).toBe(call);
  });

  it('finds each violation type with its JSON path and sample', () => {
    const r = enforceCall(track({ plan: 'gold', seats: 'three', extra: 'x', tags: ['a', 7], amount: true, address: { city: 'Lyon', zip: '69001' } }), allowAll);
    expect(brief(r)).toEqual([
      ['unplanned_property', '$.properties.extra', 'x', 'allowed'],
      ['value_not_allowed', '$.properties.plan', 'gold', 'allowed'],
      ['wrong_type', '$.properties.seats', 'three', 'allowed'],
      ['wrong_type', '$.properties.tags[1]', '7', 'allowed'],
      ['wrong_type', '$.properties.amount', 'true', 'allowed'],
      ['unplanned_property', '$.properties.address.zip', '69001', 'allowed'],
    ]);
    expect(r.violations.find((v) => v.path === '$.properties.plan')?.detail).toBe('must be one of "free", "pro"');
    expect(r.violations.find((v) => v.path === '$.properties.amount')?.detail).toBe('expected number or string, got boolean');
    expect(r.outcome).toBe('allow');
    const missing = enforceCall(track({ plan: 'pro' }), allowAll);
    expect(brief(missing)).toEqual([['missing_required', '$.properties.seats', null, 'allowed']]);
    const format = enforceCall(track({ ...good, referrer: 'not a uri', seats: 0 }), allowAll);
    expect(brief(format).map((v) => [v[0], v[1]])).toEqual([
      ['value_not_allowed', '$.properties.seats'],
      ['value_not_allowed', '$.properties.referrer'],
    ]);
  });

  it('an unplanned event: allowed or blocked as configured, never checked further', () => {
    const call = track({ anything: 1 }, 'Clicked Banner');
    const r = enforceCall(call, allowAll);
    expect(brief(r)).toEqual([['unplanned_event', '$.event', 'Clicked Banner', 'allowed']]);
    expect(r.outcome).toBe('allow');
    const blocked = enforceCall(call, plan({ unplanned_event: 'block' }));
    expect(blocked.outcome).toBe('block');
    expect(blockReason(blocked)).toBe('blocked by the tracking plan: unplanned event at $.event');
  });

  it('unplanned properties: kept, or omitted from the call delivered (the original untouched)', () => {
    const call = track({ ...good, extra: 'x', 'odd key': 1 });
    expect(enforceCall(call, allowAll).call).toBe(call);
    const r = enforceCall(call, plan({ unplanned_property: 'omit' }));
    expect(r.outcome).toBe('allow');
    expect(r.call.properties).toEqual(good);
    expect(r.omitted).toEqual(['$.properties.extra', '$.properties["odd key"]']);
    expect(call.properties).toHaveProperty('extra');
    expect(r.call.context).toBe(call.context);
  });

  it('schema violations: allowed, the property omitted, or the call blocked', () => {
    const call = track({ plan: 'gold', seats: 2, tags: [1] });
    expect(enforceCall(call, allowAll)).toMatchObject({ outcome: 'allow', omitted: [] });
    const omit = enforceCall(call, plan({ schema_violation: 'omit' }));
    expect(omit.outcome).toBe('allow');
    expect(omit.call.properties).toEqual({ seats: 2 });
    expect(omit.violations.map((v) => v.outcome)).toEqual(['omitted', 'omitted']);
    // A missing required property has nothing to omit: the call goes on as it came.
    const missing = enforceCall(track({ plan: 'pro' }), plan({ schema_violation: 'omit' }));
    expect(missing).toMatchObject({ outcome: 'allow', omitted: [] });
    expect(missing.violations[0].outcome).toBe('allowed');
    const block = enforceCall(call, plan({ schema_violation: 'block' }));
    expect(block.outcome).toBe('block');
    expect(block.violations.every((v) => v.outcome === 'blocked')).toBe(true);
    expect(blockReason(block)).toBe('blocked by the tracking plan: value not allowed at $.properties.plan; wrong type at $.properties.tags[0]');
  });

  it('identify traits, page names and properties, per-type overrides; group and alias pass', () => {
    const strictIdentify = plan({}, { identify: { schema_violation: 'block' } });
    const identify = enforceCall({ type: 'identify', messageId: 'i', userId: 'u', traits: { email: 'nope', plan: 'free', secret: 'x' } }, strictIdentify);
    expect(identify.event).toBe('identify');
    expect(brief(identify)).toEqual([
      ['unplanned_property', '$.traits.secret', 'x', 'allowed'],
      ['value_not_allowed', '$.traits.email', 'nope', 'blocked'],
    ]);
    expect(identify.outcome).toBe('block');
    // The override is identify's only: the same violation on a track is allowed.
    expect(enforceCall(track({ plan: 'gold', seats: 1 }), strictIdentify).outcome).toBe('allow');

    const page = enforceCall({ type: 'page', name: 'Careers', properties: { path: '/careers', colour: 'red' } }, plan({ unplanned_event: 'block' }));
    expect(page.event).toBe('page "Careers"');
    expect(brief(page)).toEqual([
      ['unplanned_event', '$.name', 'Careers', 'blocked'],
      ['unplanned_property', '$.properties.colour', 'red', 'allowed'],
    ]);
    expect(enforceCall({ type: 'page', name: 'Pricing', properties: { path: '/pricing' } }, allowAll).violations).toEqual([]);
    expect(enforceCall({ type: 'page', properties: { path: 5 } }, allowAll).violations.map((v) => v.type)).toEqual(['wrong_type']);
    expect(enforceCall({ type: 'screen', name: 'Home', properties: {} }, allowAll).violations).toEqual([]);
    for (const type of ['group', 'alias']) expect(enforceCall({ type, traits: { anything: 1 } }, plan({ unplanned_property: 'omit' }))).toMatchObject({ outcome: 'allow', violations: [] });
    // A call without properties is checked as an empty object.
    expect(enforceCall({ type: 'track', event: 'Signed Up' }, allowAll).violations.map((v) => v.path)).toEqual(['$.properties.plan', '$.properties.seats']);
  });

  it('masks personal data in samples: emails, phones, digit runs, tokens, IPs', () => {
    expect(maskText('write to Jane.Doe+x@example.co.uk now')).toBe('write to <email> now');
    expect(maskText('call +65 6123 4567 or (02) 9374 4000')).toBe('call <phone> or <phone>');
    expect(maskText('card 4111111111111111, order 12345')).toBe('card <digits>, order 12345');
    expect(maskText('key sk_live_4eC39HqLyjWDarjtT1zdp7dc and eyJhbGciOi.eyJzdWIiOiIx.SflKxwRJSMeKKF2QT4')).toBe('key <token> and <token>');
    expect(maskText('Bearer abc.def-ghi')).toBe('<token>');
    expect(maskText('from 192.168.10.200')).toBe('from <ip>');
    expect(maskText('2024-06-01T10:00:00.123456Z on 2024-06-01')).toBe('2024-06-01T10:00:00.123456Z on 2024-06-01');
    expect(maskText('Pricing | Novade')).toBe('Pricing | Novade');
    expect(maskedSample({ email: 'a@b.io' })).toBe('{"email":"<email>"}');
    expect(maskedSample('x'.repeat(300))).toHaveLength(200);
    expect(maskedSample(undefined)).toBeNull();
    const r = enforceCall(track({ ...good, extra: 'jane@example.com' }), allowAll);
    expect(r.violations[0].sample).toBe('<email>');
  });

  it('violation rows: one per violation, ids stable across re-processing of the same call', () => {
    const r = enforceCall(track({ plan: 'gold', seats: 1, extra: 1 }), allowAll);
    const ctx = { messageId: 'm-1', receivedAt: new Date('2024-06-01T10:00:00Z'), planVersion: 'test-1' };
    const rows = violationRows(r, ctx);
    expect(rows.map((x) => [x.type, x.path, x.event, x.callType, x.outcome, x.planVersion])).toEqual([
      ['unplanned_property', '$.properties.extra', 'Signed Up', 'track', 'allowed', 'test-1'],
      ['value_not_allowed', '$.properties.plan', 'Signed Up', 'track', 'allowed', 'test-1'],
    ]);
    expect(violationRows(enforceCall(track({ plan: 'gold', seats: 1, extra: 1 }), allowAll), ctx).map((x) => x.id)).toEqual(rows.map((x) => x.id));
    expect(new Set(rows.map((x) => x.id)).size).toBe(2);
  });
});

describe("checking the platform's own Amplitude events", () => {
  const p = plan();
  it('event types, event properties, page events and user property operations', () => {
    expect(checkAmplitudeEvent({ event_type: 'signed_up', event_properties: good }, p)).toEqual([]);
    expect(checkAmplitudeEvent({ event_type: 'Lead Created', event_properties: { salesforce_lead_id: '00Q' } }, p)).toEqual([]);
    expect(checkAmplitudeEvent({ event_type: 'Lead Created', event_properties: {} }, p).map((v) => v.type)).toEqual(['missing_required']);
    expect(checkAmplitudeEvent({ event_type: 'Viewed Home', event_properties: { path: '/' } }, p)).toEqual([]);
    expect(checkAmplitudeEvent({ event_type: 'Page Viewed', event_properties: { path: 1 } }, p).map((v) => v.path)).toEqual(['$.event_properties.path']);
    expect(checkAmplitudeEvent({ event_type: 'Viewed Careers' }, p).map((v) => v.type)).toEqual(['unplanned_event']);
    // A partial $set is fine (email is required in identify calls, not in every update).
    expect(checkAmplitudeEvent({ event_type: '$identify', user_properties: { $set: { plan: 'pro' }, $unset: { seats: '-' } } }, p)).toEqual([]);
    expect(
      checkAmplitudeEvent({ event_type: '$identify', user_properties: { $set: { plan: 'gold', nick: 'x' }, $setOnce: { seats: 'many' }, $unset: { shoe_size: '-' } } }, p).map((v) => [v.type, v.path]),
    ).toEqual([
      ['unplanned_property', '$.user_properties.$set.nick'],
      ['value_not_allowed', '$.user_properties.$set.plan'],
      ['wrong_type', '$.user_properties.$setOnce.seats'],
      ['unplanned_property', '$.user_properties.$unset.shoe_size'],
    ]);
    expect(checkAmplitudeEvent({ event_type: 'Lead Created', event_properties: { salesforce_lead_id: '00Q' }, user_properties: { seats: 2, colour: 'red' } }, p).map((v) => v.path)).toEqual(['$.user_properties.colour']);
  });
});
