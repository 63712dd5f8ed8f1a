import type { Row } from '../connectors/warehouse/types';
import type { ChangedRule, EventRule, Identity, PropertyValue, Scalar, SalesforceObjectConfig } from '../streams/config/schema';
import type { AmplitudeEvent, IdentifyCall } from './amplitude-types';
import { AMPLITUDE_MAX_STRING, isEmailField, normalizeEmail, resolveUserId } from './identity';
import { columnName, epochMs, type SfKind, type SfRecord } from './salesforce-fields';
import type { MappedEvents, MappingContext } from './types';

/**
 * The event rules of config/streams.yaml, run on one Salesforce record: pure, no I/O.
 *
 * Inputs are the validated record, its silver row, and silver's row before this change
 * (`previous`, undefined on first sight). Rules:
 * - `created`: first sight of a live record.
 * - `changed` with `field` only: a known record whose value differs from silver's (never on first sight).
 * - `changed` with `to`: a state reached, i.e. every listed field equals its value now and not all
 *   did before; first sight included (an initial load of a closed deal says it was won).
 * - `deleted`: a record silver knew alive is now in the recycle bin. A deleted record sends nothing else.
 *
 * Subject: `user_id` identity (a person: the field's value, an email by default, with the same
 * rules as every source; no usable id → nothing is sent and the record is dead-lettered when
 * there was something to say), or `device_id` (a record that is no person, e.g. a deal, on a
 * device of its own so it never merges with a real profile) with optional groups. Traits go out
 * as one `$identify` whenever one of them (or the user id) changed, nulls unsetting what was set.
 *
 * Time: the rule's `time` field; by default CreatedDate for `created` and SystemModstamp otherwise;
 * a state first seen already reached takes `first_seen_time` (ConvertedDate, CloseDate) kept within
 * [CreatedDate, SystemModstamp]. insert_id: `sf:<Object>:<Id>:<rule id>` for facts that happen
 * once (`created`, `deleted`, `once: true`), `sf:<Object>:<Id>:<SystemModstamp>:<rule id>` otherwise,
 * so a retry or a re-read is deduplicated by Amplitude.
 */

export interface CompiledObjectRules {
  object: string;
  /** Field whose value versions the record (SystemModstamp, or LastModifiedDate where it lacks one). */
  versionField: string;
  /** Kind of every field the rules read, to send numbers as numbers and booleans as booleans. */
  kinds: ReadonlyMap<string, SfKind>;
  /** The user-id field in force (the file's, or SALESFORCE_USER_ID_FIELD when set). */
  userIdField?: string;
  identity?: Identity;
  traits?: Readonly<Record<string, string>>;
  events: readonly EventRule[];
}

type Value = string | number | boolean | null;
type Props = Record<string, Value>;

/** Compiles an object's config: the user-id override applies to every `user_id` identity. */
export function compileObjectRules(config: SalesforceObjectConfig, kinds: ReadonlyMap<string, SfKind>, opts: { userIdField?: string } = {}): CompiledObjectRules {
  const userIdField = config.identity?.user_id !== undefined ? (opts.userIdField ?? config.identity.user_id) : undefined;
  return {
    object: config.object,
    versionField: config.cursor ?? 'SystemModstamp',
    kinds,
    userIdField,
    identity: config.identity,
    traits: config.traits,
    events: config.events ?? [],
  };
}

const str = (v: unknown): string | null => {
  if (v === null || v === undefined || v === '') return null;
  const s = typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : String(v);
  return s.length > AMPLITUDE_MAX_STRING ? s.slice(0, AMPLITUDE_MAX_STRING) : s;
};
const num = (v: unknown): number | null =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : null;
const isTrue = (v: unknown) => v === true || v === 'true';
const bool = (v: unknown): boolean | null => (v === null || v === undefined || v === '' ? null : isTrue(v));

/** A field's value as Amplitude gets it: numbers as numbers, booleans as booleans, the rest as (truncated) text. */
function valueOf(rules: CompiledObjectRules, field: string, row: Row | undefined): Value {
  const v = row?.[columnName(field)];
  switch (rules.kinds.get(field)) {
    case 'double':
    case 'int':
      return num(v);
    case 'bool':
      return bool(v);
    default:
      return str(v);
  }
}

function propertyOf(rules: CompiledObjectRules, value: PropertyValue, row: Row, previous: Row | undefined): Value {
  if (typeof value === 'string') return valueOf(rules, value, row);
  if ('previous' in value) return valueOf(rules, value.previous, previous);
  return value.value;
}

/** Drops nulls: Amplitude property values must not be null. */
function compact(props: Props): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(props)) if (v !== null) out[k] = v;
  return out;
}

function propertiesOf(rules: CompiledObjectRules, rule: EventRule, row: Row, previous: Row | undefined): Record<string, string | number | boolean> {
  const props: Props = {};
  for (const [name, value] of Object.entries(rule.properties ?? {})) props[name] = propertyOf(rules, value, row, previous);
  return compact(props);
}

/** A field of a row equals a rule's literal: booleans by truth (null is false), numbers by value, the rest as text. */
function equals(rules: CompiledObjectRules, field: string, row: Row, literal: Scalar): boolean {
  const v = row[columnName(field)];
  if (literal === null) return v === null || v === undefined || v === '';
  if (typeof literal === 'boolean') return isTrue(v) === literal;
  if (typeof literal === 'number') return num(v) === literal;
  return valueOf(rules, field, row) === literal;
}

/** The state a `to` rule waits for, as field → literal. */
export function targetState(rule: ChangedRule): Record<string, Scalar> | undefined {
  if (rule.to === undefined) return undefined;
  if (rule.to !== null && typeof rule.to === 'object') return rule.to;
  return rule.field !== undefined ? { [rule.field]: rule.to } : undefined;
}

function reached(rules: CompiledObjectRules, state: Record<string, Scalar>, row: Row | undefined): boolean {
  if (!row) return false;
  return Object.entries(state).every(([field, literal]) => equals(rules, field, row, literal));
}

/** A date (YYYY-MM-DD, midnight UTC) or datetime as epoch ms. */
function instant(v: unknown): number | undefined {
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return Date.parse(`${v}T00:00:00Z`);
  return epochMs(v);
}

/** For states first seen already reached: the record's own date for it, kept within its lifetime. */
function clampedTime(value: unknown, record: SfRecord, stamp: number): number {
  const created = epochMs(record.CreatedDate) ?? stamp;
  const at = instant(value);
  if (at === undefined || Number.isNaN(at)) return stamp;
  return Math.min(stamp, Math.max(created, at));
}

interface Firing {
  rule: EventRule;
  time: number;
}

/** Which rules fire for this version of the record, with their times. */
function firings(rules: CompiledObjectRules, record: SfRecord, row: Row, previous: Row | undefined, stamp: number): Firing[] {
  const out: Firing[] = [];
  const deleted = record.IsDeleted === true;
  const wasDeleted = previous !== undefined && (previous._deleted === true || isTrue(previous.is_deleted));
  const timeOf = (rule: EventRule, fallback: number) => (rule.time !== undefined ? (instant(record[rule.time]) ?? fallback) : fallback);
  for (const rule of rules.events) {
    if (rule.on === 'deleted') {
      if (deleted && previous !== undefined && !wasDeleted) out.push({ rule, time: timeOf(rule, stamp) });
      continue;
    }
    if (deleted) continue;
    if (rule.on === 'created') {
      if (!previous) out.push({ rule, time: timeOf(rule, epochMs(record.CreatedDate) ?? stamp) });
      continue;
    }
    const state = targetState(rule);
    if (state) {
      if (reached(rules, state, row) && !reached(rules, state, previous)) {
        const time = previous ? stamp : rule.first_seen_time !== undefined ? clampedTime(record[rule.first_seen_time], record, stamp) : stamp;
        out.push({ rule, time: timeOf(rule, time) });
      }
    } else if (rule.field !== undefined && previous && valueOf(rules, rule.field, previous) !== valueOf(rules, rule.field, row)) {
      out.push({ rule, time: timeOf(rule, stamp) });
    }
  }
  return out;
}

function insertIdOf(rules: CompiledObjectRules, rule: EventRule, record: SfRecord): string {
  const once = rule.on === 'created' || rule.on === 'deleted' || rule.once === true;
  return once ? `sf:${rules.object}:${record.Id}:${rule.id}` : `sf:${rules.object}:${record.Id}:${String(record[rules.versionField])}:${rule.id}`;
}

type Subject = Pick<AmplitudeEvent, 'user_id' | 'device_id' | 'groups'>;

/** A template's text with every `{Field}` filled, or undefined when one of them is empty. */
function fill(template: string, record: SfRecord): string | undefined {
  let empty = false;
  const text = template.replace(/\{([A-Za-z][A-Za-z0-9_]*)\}/g, (_m, field: string) => {
    const v = record[field];
    if (v === null || v === undefined || v === '') empty = true;
    return v === null || v === undefined ? '' : String(v);
  });
  return empty ? undefined : text;
}

function deviceSubject(identity: Identity, record: SfRecord): Subject | { unsendable: string } {
  const deviceId = fill(identity.device_id as string, record) ?? (identity.device_id_fallback !== undefined ? fill(identity.device_id_fallback, record) : undefined);
  if (deviceId === undefined) return { unsendable: `no device id: a field of "${identity.device_id}" is empty` };
  const groups: Record<string, string> = {};
  for (const [type, field] of Object.entries(identity.groups ?? {})) if (typeof record[field] === 'string') groups[type] = record[field];
  return { device_id: deviceId, ...(Object.keys(groups).length > 0 ? { groups } : {}) };
}

function traitsOf(rules: CompiledObjectRules, row: Row): Props {
  const props: Props = {};
  for (const [name, field] of Object.entries(rules.traits ?? {})) props[name] = valueOf(rules, field, row);
  return props;
}

const sameProps = (a: Props, b: Props) => Object.keys(a).every((k) => a[k] === b[k]);

/** The previous version's user id value, when silver holds the field. */
function previousUserValue(previous: Row | undefined, field: string): string | null {
  if (!previous) return null;
  const v = previous[columnName(field)];
  if (typeof v !== 'string') return null;
  return isEmailField(field) ? normalizeEmail(v) : v.trim();
}

/**
 * The `$identify` of a person whose traits (or user id) changed. Operations only, since
 * Amplitude ignores plain keys mixed with operations.
 */
function identifyIfChanged(rules: CompiledObjectRules, record: SfRecord, userId: string, props: Props, previousProps: Props | undefined, userIdChanged: boolean): IdentifyCall | undefined {
  if (previousProps && !userIdChanged && sameProps(props, previousProps)) return undefined;
  const $set = compact(props);
  const unset = previousProps && !userIdChanged ? Object.keys(props).filter((k) => props[k] === null && previousProps[k] !== null) : [];
  const stamp = String(record[rules.versionField]);
  return {
    user_id: userId,
    insert_id: `sf:${rules.object}:${record.Id}:${stamp}:identify`,
    time: epochMs(record[rules.versionField]) as number,
    user_properties: unset.length > 0 ? { $set, $unset: Object.fromEntries(unset.map((k) => [k, '-'])) } : { $set },
  };
}

/** What one version of a record sends to Amplitude under the object's rules. */
export function ruleEvents(rules: CompiledObjectRules, record: SfRecord, row: Row, previous: Row | undefined, ctx: Pick<MappingContext, 'minIdLength'>): MappedEvents {
  const identity = rules.identity;
  if (!identity) return { events: [] };
  const stamp = epochMs(record[rules.versionField]) ?? (epochMs(record.SystemModstamp) as number);
  const fired = firings(rules, record, row, previous, stamp);
  const deleted = record.IsDeleted === true;
  const build = (subject: Subject): AmplitudeEvent[] =>
    fired.map(({ rule, time }) => {
      const event_properties = propertiesOf(rules, rule, row, previous);
      return { event_type: rule.name, ...subject, time, insert_id: insertIdOf(rules, rule, record), ...(rule.properties !== undefined ? { event_properties } : {}) };
    });

  if (rules.userIdField !== undefined) {
    const field = rules.userIdField;
    const hasTraits = rules.traits !== undefined && Object.keys(rules.traits).length > 0;
    const props = hasTraits && !deleted ? traitsOf(rules, row) : undefined;
    const previousProps = props && previous ? traitsOf(rules, previous) : undefined;
    const id = resolveUserId(record[field], { field, minIdLength: ctx.minIdLength });
    if (!id.ok) {
      // Only worth a dead letter when there was something to say about this person.
      const wouldSend = fired.length > 0 || (!deleted && (!previous || (props !== undefined && previousProps !== undefined && !sameProps(props, previousProps))));
      return wouldSend ? { events: [], unsendable: `${rules.object} ${record.Id} not sent to Amplitude: ${id.reason}` } : { events: [] };
    }
    const previousId = previousUserValue(previous, field);
    const identify = props ? identifyIfChanged(rules, record, id.userId, props, previousProps, previous !== undefined && previousId !== null && previousId !== id.userId) : undefined;
    return { ...(identify ? { identify } : {}), events: build({ user_id: id.userId }) };
  }

  if (fired.length === 0) return { events: [] };
  const subject = deviceSubject(identity, record);
  if ('unsendable' in subject) return { events: [], unsendable: `${rules.object} ${record.Id} not sent to Amplitude: ${subject.unsendable}` };
  return { events: build(subject) };
}
