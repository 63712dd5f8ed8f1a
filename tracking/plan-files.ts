import { z } from 'zod';

/**
 * The files of the tracking plan (`tracking-plan/` at the project root), as zod schemas: the
 * structure of each YAML file. The JSON Schemas they hold (`properties`, `traits`) are checked by
 * ajv when the plan is compiled (plan-compile.ts), not here.
 *
 *   tracking-plan/settings.yaml        outcomes per category (Segment Protocols / Amplitude Data style)
 *   tracking-plan/identify.yaml        the traits of identify calls (= Amplitude user properties)
 *   tracking-plan/pages.yaml           planned page names and the properties of page calls
 *   tracking-plan/events/<name>.yaml   one file per event
 */

/** Who sends an event: the website (Segment calls) or one of the platform's own flows. */
export const EVENT_SOURCES = ['website', 'salesforce', 'drift'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

export const UNPLANNED_EVENT = ['allow', 'block'] as const;
export const UNPLANNED_PROPERTY = ['keep', 'omit'] as const;
export const SCHEMA_VIOLATION = ['allow', 'omit', 'block'] as const;

const outcomes = z.strictObject({
  /** A track whose event name, or a page whose name, the plan does not list. */
  unplanned_event: z.enum(UNPLANNED_EVENT),
  /** A property (or trait) the event's schema does not list. */
  unplanned_property: z.enum(UNPLANNED_PROPERTY),
  /** Missing required property, wrong type, value not allowed. */
  schema_violation: z.enum(SCHEMA_VIOLATION),
});
export type Outcomes = z.infer<typeof outcomes>;

export const CALL_TYPES = ['track', 'page', 'screen', 'identify', 'group', 'alias'] as const;
export type CallType = (typeof CALL_TYPES)[number];

export const settingsFileSchema = z.strictObject({
  /** Changes with every edit of the plan that matters to its readers; recorded with each violation. */
  version: z.union([z.string().min(1), z.number()]).transform(String),
  outcomes,
  /** Per call type: replaces some of `outcomes` for that type only. */
  overrides: z.partialRecord(z.enum(['track', 'page', 'screen', 'identify']), outcomes.partial()).optional(),
});
export type SettingsFile = z.infer<typeof settingsFileSchema>;

const jsonSchema = z.record(z.string(), z.unknown());
const text = z.string().trim().min(1);

export const eventFileSchema = z.strictObject({
  name: text.max(1024),
  description: text,
  owner: text,
  source: z.enum(EVENT_SOURCES).default('website'),
  /** A JSON Schema (draft-07, or 2020-12 with `$schema`) of the event's properties. */
  properties: jsonSchema,
});
export type EventFile = z.infer<typeof eventFileSchema>;

export const identifyFileSchema = z.strictObject({
  description: text,
  owner: text,
  /** A JSON Schema of the traits (the user properties in Amplitude). */
  traits: jsonSchema,
});
export type IdentifyFile = z.infer<typeof identifyFileSchema>;

const pageName = z.union([text, z.strictObject({ name: text, description: text.optional() })]).transform((v) => (typeof v === 'string' ? { name: v } : v));

export const pagesFileSchema = z.strictObject({
  description: text,
  owner: text,
  names: z.array(pageName),
  /** A JSON Schema of the properties of page (and screen) calls. */
  properties: jsonSchema,
});
export type PagesFile = z.infer<typeof pagesFileSchema>;
