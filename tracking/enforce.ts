import { createHash } from 'node:crypto';
import type { TrackingViolation } from '../connectors/warehouse/types';
import type { CallType, Outcomes } from './plan-files';
import type { CompiledPlan, CompiledSchema } from './plan-compile';
import { maskedSample } from './mask';
import { violationsFromErrors, type SchemaViolation, type ViolationOutcome } from './violations';

/**
 * Enforcement of the tracking plan on one Segment call: a pure function, no I/O, no Temporal.
 *
 *   const plan = loadValidPlan('tracking-plan');          // once: compiles every ajv validator
 *   const r = enforceCall(call, plan);                     // per call: validators only
 *
 * `r.outcome` is `allow` or `block`; `r.call` is the call to deliver (the same object when nothing
 * was omitted, else a copy without the omitted properties or traits); `r.violations` lists every
 * violation with what was done about it.
 *
 * How the pipeline must use the result (issue #23):
 * - Bronze keeps the call as received, whatever the outcome (never `r.call`).
 * - Segment forward (dual tracking) sends the call as received, whatever the outcome: Segment
 *   stays the reference while both run, so it is never filtered by our plan.
 * - `allow`: silver and Amplitude get `r.call` (omitted properties removed).
 * - `block`: not sent to Amplitude, not merged into silver; a dead letter in ops.dead_letters
 *   (flow `segment`, reason from `blockReason(r)`) keeps the call.
 * - Every violation is written to ops.tracking_violations (`violationRows`), blocked or not, and
 *   counted in the metrics.
 *
 * What is checked, per call type:
 * - track: the event must be planned (unplanned_event); its `properties` against the event's schema.
 * - page, screen: a name, when given, must be a planned page name; `properties` against the
 *   plan's page schema. A call without a name is checked on its properties only.
 * - identify: `traits` against the plan's traits schema.
 * - group, alias: not covered by the plan; always allowed.
 */

/** The fields of a Segment call the plan looks at; anything else passes through untouched. */
export interface TrackedCall {
  type: string;
  messageId?: string;
  event?: string | null;
  name?: string | null;
  properties?: Record<string, unknown> | null;
  traits?: Record<string, unknown> | null;
  [key: string]: unknown;
}

export interface CallViolation extends SchemaViolation {
  outcome: ViolationOutcome;
}

export interface EnforcementResult<C extends TrackedCall = TrackedCall> {
  outcome: 'allow' | 'block';
  call: C;
  violations: CallViolation[];
  /** JSON paths of what was removed from `call`. */
  omitted: string[];
  /** How the call is named in violations: the track's event, else its type and name, e.g. `page "Pricing"`. */
  event: string;
  callType: string;
}

const PLANNED_TYPES = new Set<string>(['track', 'page', 'screen', 'identify']);

export function callLabel(call: Pick<TrackedCall, 'type' | 'event' | 'name'>): string {
  if (call.type === 'track') return typeof call.event === 'string' && call.event !== '' ? call.event : 'track (no event name)';
  return typeof call.name === 'string' && call.name !== '' ? `${call.type} "${call.name}"` : call.type;
}

function outcomeOf(v: SchemaViolation, o: Outcomes, present: boolean): ViolationOutcome {
  switch (v.type) {
    case 'unplanned_event':
      return o.unplanned_event === 'block' ? 'blocked' : 'allowed';
    case 'unplanned_property':
      return o.unplanned_property === 'omit' ? 'omitted' : 'allowed';
    default:
      if (o.schema_violation === 'block') return 'blocked';
      // Nothing to remove for a missing property: the call goes on without it, as it came.
      return o.schema_violation === 'omit' && present ? 'omitted' : 'allowed';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function enforceCall<C extends TrackedCall>(call: C, plan: CompiledPlan): EnforcementResult<C> {
  const event = callLabel(call);
  const base = { call, omitted: [] as string[], event, callType: call.type };
  if (!PLANNED_TYPES.has(call.type)) return { ...base, outcome: 'allow', violations: [] };
  const outcomes = plan.outcomes(call.type as CallType);
  const found: SchemaViolation[] = [];
  let schema: CompiledSchema | undefined;
  const field: 'properties' | 'traits' = call.type === 'identify' ? 'traits' : 'properties';

  if (call.type === 'track') {
    const planned = typeof call.event === 'string' ? plan.event(call.event) : undefined;
    if (planned) schema = planned.schema;
      else found.push({ type: 'unplanned_event', path: '$.event', sample: maskedSample(call.event ?? null), detail: 'this event is not in the tracking plan' });
  } else if (call.type === 'identify') schema = plan.traits;
  else {
    if (typeof call.name === 'string' && call.name !== '' && !plan.isPlannedPage(call.name))
      found.push({ type: 'unplanned_event', path: '$.name', sample: maskedSample(call.name), detail: `this ${call.type} name is not in the tracking plan` });
    schema = plan.pageProperties;
  }

  const data = isObject(call[field]) ? call[field] : {};
  if (schema && !schema.validate(data)) found.push(...violationsFromErrors(schema.validate.errors, data, `$.${field}`));

  const violations: CallViolation[] = found.map((v) => ({ ...v, outcome: outcomeOf(v, outcomes, v.property !== undefined && v.property in data) }));
  const omit = new Set(violations.filter((v) => v.outcome === 'omitted' && v.property !== undefined).map((v) => v.property as string));
  const outcome = violations.some((v) => v.outcome === 'blocked') ? 'block' : 'allow';
  if (omit.size === 0) return { ...base, outcome, violations };
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (!omit.has(k)) kept[k] = v;
  return { ...base, outcome, violations, call: { ...call, [field]: kept }, omitted: [...omit].map((k) => `$.${field}${/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`}`) };
}

/** The dead letter reason of a blocked call. */
export function blockReason(r: Pick<EnforcementResult, 'violations' | 'event'>): string {
  const blocked = r.violations.filter((v) => v.outcome === 'blocked');
  return `blocked by the tracking plan: ${blocked.map((v) => `${v.type.replace(/_/g, ' ')} at ${v.path}`).join('; ')}`;
}

/** The rows of ops.tracking_violations for a call's violations; ids are stable, so re-processing a call records nothing twice. */
export function violationRows(r: EnforcementResult, ctx: { messageId: string; receivedAt: Date; planVersion: string }): TrackingViolation[] {
  return r.violations.map((v) => ({
    id: createHash('sha256').update(JSON.stringify([ctx.messageId, v.type, v.path])).digest('hex').slice(0, 32),
    event: r.event,
    callType: r.callType,
    messageId: ctx.messageId,
    type: v.type,
    path: v.path,
    sample: v.sample,
    detail: v.detail,
    outcome: v.outcome,
    planVersion: ctx.planVersion,
    receivedAt: ctx.receivedAt,
  }));
}
