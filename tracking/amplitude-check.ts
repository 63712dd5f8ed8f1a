import type { AmplitudeEvent } from '../mappings/amplitude-types';
import type { CompiledPlan } from './plan-compile';
import { maskedSample } from './mask';
import { violationsFromErrors, type SchemaViolation } from './violations';

/**
 * The platform's own Amplitude events (Salesforce, Drift, the Segment backfill and live mapping)
 * against the same plan: the event type must be planned, `event_properties` must match the
 * event's schema (or the page schema for `Viewed <page>`), and user properties (`$set`,
 * `$setOnce`, `$unset` of an identify, or plain `user_properties`) must be planned traits of the
 * right type. A user property update sets some traits, never all: required traits are not asked for.
 */

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const USER_OPS = ['$set', '$setOnce', '$add', '$append', '$prepend'] as const;

function checkUserProperties(props: Record<string, unknown>, plan: CompiledPlan): SchemaViolation[] {
  const out: SchemaViolation[] = [];
  const hasOps = Object.keys(props).some((k) => k.startsWith('$'));
  const groups: [string, Record<string, unknown>][] = hasOps
    ? USER_OPS.filter((op) => isObject(props[op])).map((op) => [`$.user_properties.${op}`, props[op] as Record<string, unknown>])
    : [['$.user_properties', props]];
  for (const [base, values] of groups)
    if (!plan.traits.validatePartial(values)) out.push(...violationsFromErrors(plan.traits.validatePartial.errors, values, base));
  if (isObject(props.$unset)) {
    // Unsetting asks nothing of the value: only whether the trait is planned.
    const unplanned = Object.keys(props.$unset).filter((k) => !plan.traits.validatePartial({ [k]: null }) && plan.traits.validatePartial.errors?.some((e) => e.keyword === 'additionalProperties'));
    for (const k of unplanned) out.push({ type: 'unplanned_property', path: `$.user_properties.$unset.${k}`, sample: null, detail: 'not in the plan', property: k });
  }
  return out;
}

export function checkAmplitudeEvent(e: Pick<AmplitudeEvent, 'event_type' | 'event_properties' | 'user_properties'>, plan: CompiledPlan): SchemaViolation[] {
  const out: SchemaViolation[] = [];
  const planned = plan.amplitudeEvent(e.event_type);
  if (!planned) out.push({ type: 'unplanned_event', path: '$.event_type', sample: maskedSample(e.event_type), detail: 'this event type is not in the tracking plan' });
  else if (planned.kind !== 'identify') {
    const schema = planned.kind === 'page' ? plan.pageProperties : planned.event.schema;
    const props = e.event_properties ?? {};
    if (!schema.validate(props)) out.push(...violationsFromErrors(schema.validate.errors, props, '$.event_properties'));
  }
  if (e.user_properties && Object.keys(e.user_properties).length > 0) out.push(...checkUserProperties(e.user_properties, plan));
  return out;
}
