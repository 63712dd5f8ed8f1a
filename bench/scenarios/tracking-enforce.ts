import path from 'node:path';
import type { BenchScenario } from '../scenario';
import { enforceCall, type TrackedCall } from '../../tracking/enforce';
import { loadValidPlan } from '../../tracking/plan-compile';

/**
 * The tracking plan's enforcement on one core: the project's own plan (tracking-plan/), compiled
 * once, then BENCH_TRACKING_CALLS calls (default 200,000) of a website mix: planned tracks, pages
 * and identifies on plan, one call in ten with a wrong type and an unplanned property, one in fifty
 * an unplanned event. Reports calls per second and the share with a violation.
 */
const CALLS = Number(process.env.BENCH_TRACKING_CALLS ?? 200_000);

function call(i: number): TrackedCall {
  const bad = i % 10 === 0;
  const base = { messageId: `ajs-next-${i}`, anonymousId: 'a1b2c3d4-0000-4000-8000-000000000000', context: { ip: '203.0.113.9', page: { path: '/pricing' } } };
  switch (i % 4) {
    case 0:
      return { ...base, type: 'page', name: 'Pricing', properties: { path: '/pricing', url: 'https://www.novade.net/pricing', title: 'Pricing | Novade', ...(bad ? { category: 7, colour: 'x' } : {}) } };
    case 1:
      return { ...base, type: 'identify', userId: `user${i}@example.com`, traits: { email: `user${i}@example.com`, plan: bad ? 'gold' : 'starter', company: 'Straits Builders' } };
    default:
      if (i % 50 === 2) return { ...base, type: 'track', event: 'Clicked Banner', properties: { banner: 'summer' } };
      return {
        ...base,
        type: 'track',
        event: 'Form Submitted',
        properties: { project_id: `prj_${i % 5000}`, platform: 'web', form_type: bad ? 17 : 'inspection', plan: 'professional', ...(bad ? { debug: true } : {}) },
      };
  }
}

const scenario: BenchScenario = {
  name: 'tracking-enforce',
  description: 'tracking plan enforcement (ajv validators compiled once) over a website mix of calls',
  async run() {
    const t0 = process.hrtime.bigint();
    const plan = loadValidPlan(path.join(__dirname, '../../tracking-plan'));
    const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const calls = Array.from({ length: CALLS }, (_, i) => call(i));
    let withViolations = 0;
    const start = process.hrtime.bigint();
    for (const c of calls) if (enforceCall(c, plan).violations.length > 0) withViolations++;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { records: CALLS, seconds, extra: { compile_ms: compileMs.toFixed(0), with_violations: `${((withViolations / CALLS) * 100).toFixed(1)}%`, us_per_call: ((seconds / CALLS) * 1e6).toFixed(2) } };
  },
};

export default scenario;
