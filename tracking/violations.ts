import type { ErrorObject } from 'ajv';
import { maskedSample } from './mask';

/** The kinds of violation, as Segment Protocols and Amplitude Data name them. */
export const VIOLATION_TYPES = ['unplanned_event', 'unplanned_property', 'missing_required', 'wrong_type', 'value_not_allowed'] as const;
export type ViolationType = (typeof VIOLATION_TYPES)[number];

/** What happened to the call because of a violation. */
export type ViolationOutcome = 'allowed' | 'omitted' | 'blocked';

export interface SchemaViolation {
  type: ViolationType;
  /** JSON path into the call, e.g. `$.properties.items[2].price`. */
  path: string;
  /** The value found there, PII-looking parts masked; null when there is none (a missing property). */
  sample: string | null;
  /** What the plan expected, in words. */
  detail: string;
  /** The top-level key of the checked object the violation is about (what `omit` removes). */
  property?: string;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** `$.properties` + JSON pointer segments -> `$.properties.items[2].price`. */
export function jsonPath(base: string, segments: readonly (string | number)[]): string {
  let out = base;
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += IDENT.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** The segments of an ajv instancePath, array indexes as numbers (found by walking the data). */
function segmentsOf(data: unknown, pointer: string): (string | number)[] {
  if (pointer === '') return [];
  const out: (string | number)[] = [];
  let at: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(at)) {
      out.push(Number(key));
      at = at[Number(key)];
    } else {
      out.push(key);
      at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
    }
  }
  return out;
}

function valueAt(data: unknown, segments: readonly (string | number)[]): unknown {
  let at: unknown = data;
  for (const s of segments) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[s];
  }
  return at;
}

const COMPOSITE = new Set(['anyOf', 'oneOf']);
/** Keywords whose failure ajv also reports through the inner keywords that failed. */
const REDUNDANT = new Set(['if', 'then', 'else', 'allOf']);

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);

/**
 * ajv's errors for `data` (the object checked: a call's properties or traits) as violations. The
 * inner errors of a failed anyOf/oneOf are folded into one: a value that is neither a string nor a
 * number is one wrong type, not two.
 */
export function violationsFromErrors(errors: readonly ErrorObject[] | null | undefined, data: unknown, base: string): SchemaViolation[] {
  if (!errors?.length) return [];
  const composites = errors.filter((e) => COMPOSITE.has(e.keyword));
  const inside = (e: ErrorObject) => composites.some((c) => c !== e && e.schemaPath.startsWith(`${c.schemaPath}/`));
  const out: SchemaViolation[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (REDUNDANT.has(e.keyword) || inside(e)) continue;
    let segments = segmentsOf(data, e.instancePath);
    let type: SchemaViolation['type'];
    let detail = e.message ?? 'does not match the plan';
    if (e.keyword === 'required') {
      segments = [...segments, (e.params as { missingProperty: string }).missingProperty];
      type = 'missing_required';
      detail = 'required by the plan';
    } else if (e.keyword === 'additionalProperties' || e.keyword === 'unevaluatedProperties') {
      const p = e.params as { additionalProperty?: string; unevaluatedProperty?: string };
      segments = [...segments, (p.additionalProperty ?? p.unevaluatedProperty) as string];
      type = 'unplanned_property';
      detail = 'not in the plan';
    } else if (e.keyword === 'type') {
      type = 'wrong_type';
      detail = `expected ${String((e.params as { type: string | string[] }).type)}, got ${typeName(valueAt(data, segments))}`;
    } else if (COMPOSITE.has(e.keyword)) {
      const branches = errors.filter((x) => x.schemaPath.startsWith(`${e.schemaPath}/`));
      type = branches.length > 0 && branches.every((b) => b.keyword === 'type') ? 'wrong_type' : 'value_not_allowed';
      if (type === 'wrong_type') detail = `expected ${branches.map((b) => String((b.params as { type: string }).type)).join(' or ')}, got ${typeName(valueAt(data, segments))}`;
    } else {
      type = 'value_not_allowed';
      if (e.keyword === 'enum') detail = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    const path = jsonPath(base, segments);
    const key = `${type}|${path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      type,
      path,
      sample: type === 'missing_required' ? null : maskedSample(valueAt(data, segments)),
      detail,
      ...(typeof segments[0] === 'string' ? { property: segments[0] } : {}),
    });
  }
  return out;
}
