import { z } from 'zod';

/**
 * The shape of `config/streams.yaml`: which Salesforce objects and fields are read, how a record
 * names its Amplitude subject, which events its changes send, and which Drift streams run under
 * which event names. Pure: the loader (streams/config/load.ts) reads the file and turns zod's
 * issues into one line per problem; the rule engine (mappings/salesforce-rules.ts) runs the rules.
 *
 * Every object is strict: an unknown key is a typo that would otherwise silently do nothing.
 */

export const STREAMS_FILE_VERSION = 1;

/** A Salesforce API name: standard (`StageName`) or custom (`Account_Name__c`, `Project__c`). */
export const sfApiName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]*$/, { message: 'expected a Salesforce API name (letters, digits and _, e.g. StageName or Region__c)' });

/** Names a rule, a property, a trait or a stream: lower-case snake case keeps warehouse and Amplitude names portable. */
const snakeName = z.string().regex(/^[a-z][a-z0-9_]*$/, { message: 'expected a lower-case name (letters, digits and _, e.g. stage_changed)' });

/** An Amplitude property or trait name: anything printable, but not empty. */
const propertyName = z.string().min(1, { message: 'a property name must not be empty' });

/** A literal a rule compares with or sends. */
export const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type Scalar = z.infer<typeof scalar>;

/** A property's value: a field of the record, the field's value before this change, or a literal. */
export const propertyValue = z.union([
  sfApiName,
  z.strictObject({ previous: sfApiName }),
  z.strictObject({ value: z.union([z.string(), z.number(), z.boolean()]) }),
]);
export type PropertyValue = z.infer<typeof propertyValue>;

export const properties = z.record(propertyName, propertyValue);
export type Properties = z.infer<typeof properties>;

const eventName = z.string().trim().min(1, { message: 'an event name must not be empty' }).max(1024, { message: "longer than Amplitude's 1024-character limit" });

const ruleBase = {
  /** insert_id suffix: unique per object and never renamed once events were sent (their ids depend on it). */
  id: snakeName,
  name: eventName,
  /** The record's datetime field giving the event time (default: CreatedDate for `created`, SystemModstamp otherwise). */
  time: sfApiName.optional(),
  properties: properties.optional(),
  /** A fact that happens once per record: its insert_id leaves out the version. */
  once: z.boolean().optional(),
};

export const createdRule = z.strictObject({ ...ruleBase, on: z.literal('created') });
export const deletedRule = z.strictObject({ ...ruleBase, on: z.literal('deleted') });
export const changedRule = z.strictObject({
  ...ruleBase,
  on: z.literal('changed'),
  /** Fires when a known record's value of this field differs from silver's (never on first sight). */
  field: sfApiName.optional(),
  /** A state reached: every listed field equals its value now and not all did before (first sight included). `field` + a scalar is short for `{ field: scalar }`. */
  to: z.union([z.record(sfApiName, scalar), scalar]).optional(),
  /** When the state is reached on first sight: this date or datetime field gives the time, kept within [CreatedDate, SystemModstamp]. */
  first_seen_time: sfApiName.optional(),
});

export const eventRule = z.discriminatedUnion('on', [createdRule, deletedRule, changedRule]);
export type CreatedRule = z.infer<typeof createdRule>;
export type DeletedRule = z.infer<typeof deletedRule>;
export type ChangedRule = z.infer<typeof changedRule>;
export type EventRule = z.infer<typeof eventRule>;

/** `all`, a list of API names, or all but a list. */
export const fieldSelection = z.union([z.literal('all'), z.array(sfApiName).min(1, { message: 'list at least one field, or write `all`' }), z.strictObject({ all_except: z.array(sfApiName) })]);
export type FieldSelection = z.infer<typeof fieldSelection>;

/** A template over API field names: `sf-account:{AccountId}`. */
export const idTemplate = z.string().regex(/^(?:[^{}]|\{[A-Za-z][A-Za-z0-9_]*\})+$/, { message: 'expected text with {Field} placeholders, e.g. "sf-account:{AccountId}"' });

/**
 * Who the object's events are about. `user_id`: a person whose field value (an email by default)
 * is the Amplitude user id shared with the other sources; SALESFORCE_USER_ID_FIELD, when set,
 * overrides it. `device_id`: a record that is no person (an opportunity), attributed to a device
 * so it never merges with a real profile. `groups`: Amplitude group type → field.
 */
export const identity = z.strictObject({
  user_id: sfApiName.optional(),
  device_id: idTemplate.optional(),
  device_id_fallback: idTemplate.optional(),
  groups: z.record(snakeName, sfApiName).optional(),
});
export type Identity = z.infer<typeof identity>;

/** A duration such as `7d`, `12h` or `30m`. */
export const duration = z.string().regex(/^[1-9]\d*(m|h|d)$/, { message: 'expected a duration such as 30m, 12h or 7d' });

export const salesforceObjectConfig = z.strictObject({
  object: sfApiName,
  stream: snakeName.optional(),
  fields: fieldSelection,
  cursor: z.enum(['SystemModstamp', 'LastModifiedDate']).optional(),
  deletes: z.boolean().optional(),
  full_reread: duration.optional(),
  identity: identity.optional(),
  /** Amplitude user property → field; sent with `$identify` when any changed. user_id identity only. */
  traits: z.record(propertyName, sfApiName).optional(),
  events: z.array(eventRule).optional(),
});
export type SalesforceObjectConfig = z.infer<typeof salesforceObjectConfig>;

export const salesforceSection = z.strictObject({ objects: z.array(salesforceObjectConfig) });
export type SalesforceSection = z.infer<typeof salesforceSection>;

/** The Drift streams the file may name, and the events each can send. */
export const DRIFT_STREAM_EVENTS = {
  drift_contacts: ['email_captured'],
  drift_conversations: ['conversation_started'],
  drift_messages: ['message_received'],
  drift_meetings: ['meeting_booked'],
  drift_playbook_goals: ['playbook_goal_met'],
} as const;
export type DriftStreamName = keyof typeof DRIFT_STREAM_EVENTS;
export type DriftEventKey = (typeof DRIFT_STREAM_EVENTS)[DriftStreamName][number];

export const driftStreamConfig = z.strictObject({
  enabled: z.boolean().optional(),
  /** Event key → Amplitude event name. */
  events: z.record(z.string(), eventName).optional(),
});
export type DriftStreamConfig = z.infer<typeof driftStreamConfig>;

export const driftSection = z.strictObject({
  streams: z.partialRecord(z.enum(Object.keys(DRIFT_STREAM_EVENTS) as [DriftStreamName, ...DriftStreamName[]]), driftStreamConfig),
});
export type DriftSection = z.infer<typeof driftSection>;

export const streamsFile = z.strictObject({
  version: z.literal(STREAMS_FILE_VERSION),
  salesforce: salesforceSection.optional(),
  drift: driftSection.optional(),
});
export type StreamsFile = z.infer<typeof streamsFile>;

/** Default stream name of an object: `salesforce_opportunity`, `salesforce_project` for `Project__c`. */
export function defaultSalesforceStreamName(object: string): string {
  return `salesforce_${object.replace(/__c$/i, '').toLowerCase()}`;
}
