import { eventColumn } from '../mappings/segment-live';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { CallType, EventFile, EventSource, Outcomes, SettingsFile } from './plan-files';
import { loadPlanDir, type Located, type LoadedPlan, type PlanProblem } from './plan-load';

/**
 * The tracking plan compiled for use: one ajv validator per schema, built once, and the lookups
 * enforcement needs (event by name, page names, Amplitude event types). Compiling is also the
 * plan's lint: every schema that does not compile, every duplicate name, every required property
 * the schema does not define is a problem with its file and line.
 *
 * Schemas are JSON Schema draft-07 unless they say `"$schema": "https://json-schema.org/draft/2020-12/schema"`;
 * formats (date-time, email, uri...) come from ajv-formats. ajv's strict mode is on, so a typo in a
 * keyword (`requird`) is a lint error rather than a silently ignored rule.
 *
 * A schema's root must be `type: object`. When the root says nothing about extra keys
 * (additionalProperties, unevaluatedProperties, patternProperties), the plan adds
 * `additionalProperties: false`: a property the schema does not list is "unplanned". Write
 * `additionalProperties: true` to accept any extra property without a violation.
 */

export interface CompiledSchema {
  validate: ValidateFunction;
  /** The same schema with nothing required: for partial updates (Amplitude `$set` of some traits). */
  validatePartial: ValidateFunction;
}

export interface PlannedEvent {
  name: string;
  source: EventSource;
  owner: string;
  schema: CompiledSchema;
}

export interface CompiledPlan {
  version: string;
  /** Outcomes for a call type: the plan's, with that type's overrides applied. */
  outcomes(type: CallType): Outcomes;
  /** A track's planned event, by the name the caller sends. */
  event(name: string): PlannedEvent | undefined;
  isPlannedPage(name: string): boolean;
  pageProperties: CompiledSchema;
  traits: CompiledSchema;
  /** What the platform sends Amplitude (mappings' event_type) as the plan names it. */
  amplitudeEvent(eventType: string): { kind: 'event'; event: PlannedEvent } | { kind: 'page'; name?: string } | { kind: 'identify' } | undefined;
  eventNames(): string[];
}

export interface CompileResult {
  plan?: CompiledPlan;
  problems: PlanProblem[];
}

/** Segment names a track's warehouse column after its event this way; the backfill and the live mapping send it to Amplitude as event_type. */
export const segmentEventColumn = eventColumn;

/** Amplitude event type of a page call (mappings/segment.ts: `Viewed <name>`, or `Page Viewed` without a name). */
export const PAGE_EVENT_PREFIX = 'Viewed ';
export const UNNAMED_PAGE_EVENT = 'Page Viewed';

const AJV_OPTIONS = { allErrors: true, strict: true, strictTypes: false, strictRequired: false, strictTuples: false } as const;
const DRAFT_2020 = /json-schema\.org\/draft\/2020-12\/schema/;

type AnyAjv = Ajv | Ajv2020;

function makeAjv(): { draft7: AnyAjv; draft2020: AnyAjv } {
  const draft7 = new Ajv(AJV_OPTIONS);
  const draft2020 = new Ajv2020(AJV_OPTIONS);
  addFormats(draft7);
  addFormats(draft2020);
  return { draft7, draft2020 };
}

const OPEN_KEYWORDS = ['additionalProperties', 'unevaluatedProperties', 'patternProperties'];

function withClosedRoot(schema: Record<string, unknown>): Record<string, unknown> {
  if (OPEN_KEYWORDS.some((k) => k in schema)) return schema;
  return { ...schema, additionalProperties: false };
}

function withoutRequired(schema: Record<string, unknown>): Record<string, unknown> {
  const { required: _ignored, ...rest } = schema;
  void _ignored;
  return rest;
}

/** One message per schema location: ajv's meta-schema answers with several for one typo. */
function metaSchemaMessages(errors: readonly ErrorObject[]): { at: string[]; message: string }[] {
  const byPath = new Map<string, ErrorObject>();
  for (const e of errors) {
    const prev = byPath.get(e.instancePath);
    if (!prev || (e.keyword === 'enum' && prev.keyword !== 'enum')) byPath.set(e.instancePath, e);
  }
  return [...byPath.values()].map((e) => {
    const at = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const allowed = e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})` : '';
    return { at, message: `${at.length ? at.join('.') : '(root)'} ${e.message ?? 'is not valid'}${allowed}` };
  });
}

interface SchemaSource {
  file: Located<unknown>;
  /** Where the schema sits in its file, e.g. ['properties']. */
  at: string[];
  schema: Record<string, unknown>;
}

function compileSchema(ajvs: { draft7: AnyAjv; draft2020: AnyAjv }, src: SchemaSource, problems: PlanProblem[]): CompiledSchema | undefined {
  const { schema, file, at } = src;
  const problem = (message: string, path: (string | number)[] = []) => problems.push({ file: file.file, line: file.lineOf([...at, ...path]), message });
  const ajv = typeof schema.$schema === 'string' && DRAFT_2020.test(schema.$schema) ? ajvs.draft2020 : ajvs.draft7;
  let valid: boolean;
  try {
    valid = ajv.validateSchema(schema) as boolean;
  } catch (err) {
    problem(`${at.join('.')}: bad JSON Schema: ${(err as Error).message} (use draft-07 or 2020-12)`, ['$schema']);
    return undefined;
  }
  if (!valid) {
    for (const m of metaSchemaMessages(ajv.errors ?? [])) problem(`${at.join('.')}: bad JSON Schema: ${m.message}`, m.at);
    return undefined;
  }
  if (schema.type !== 'object') {
    problem(`${at.join('.')}: the schema's root must be \`type: object\` (it describes an object of properties)`, ['type']);
    return undefined;
  }
  const declared = schema.properties && typeof schema.properties === 'object' ? Object.keys(schema.properties) : [];
  const open = schema.additionalProperties !== undefined && schema.additionalProperties !== false;
  if (Array.isArray(schema.required) && !open)
    for (const r of schema.required)
      if (typeof r === 'string' && !declared.includes(r)) problem(`${at.join('.')}.required: "${r}" is required but not defined under properties`, ['required']);
  try {
    return { validate: ajv.compile(withClosedRoot(schema)), validatePartial: ajv.compile(withoutRequired(withClosedRoot(schema))) };
  } catch (err) {
    problem(`${at.join('.')}: bad JSON Schema: ${(err as Error).message}`);
    return undefined;
  }
}

function resolveOutcomes(settings: SettingsFile): (type: CallType) => Outcomes {
  const byType = new Map<CallType, Outcomes>();
  for (const [type, o] of Object.entries(settings.overrides ?? {})) byType.set(type as CallType, { ...settings.outcomes, ...o });
  return (type) => byType.get(type) ?? (type === 'screen' ? (byType.get('page') ?? settings.outcomes) : settings.outcomes);
}

/** Compiles a loaded plan; `plan` is set only when there is no problem at all. */
export function compilePlan(loaded: LoadedPlan): CompileResult {
  const problems = [...loaded.problems];
  const ajvs = makeAjv();
  const traits = loaded.identify ? compileSchema(ajvs, { file: loaded.identify, at: ['traits'], schema: loaded.identify.value.traits }, problems) : undefined;
  const pageProperties = loaded.pages ? compileSchema(ajvs, { file: loaded.pages, at: ['properties'], schema: loaded.pages.value.properties }, problems) : undefined;

  const pageNames = new Map<string, number>();
  loaded.pages?.value.names.forEach((p, i) => {
    if (pageNames.has(p.name)) problems.push({ file: loaded.pages!.file, line: loaded.pages!.lineOf(['names', i]), message: `page name "${p.name}" is listed twice` });
    pageNames.set(p.name, i);
  });

  const events = new Map<string, PlannedEvent>();
  const byColumn = new Map<string, { name: string; file: string }>();
  const byAmplitude = new Map<string, PlannedEvent>();
  const firstFile = new Map<string, string>();
  for (const f of loaded.events) {
    const e: EventFile = f.value;
    const schema = compileSchema(ajvs, { file: f, at: ['properties'], schema: e.properties }, problems);
    const clash = firstFile.get(e.name);
    if (clash) {
      problems.push({ file: f.file, line: f.lineOf(['name']), message: `duplicate event name "${e.name}" (also in ${clash})` });
      continue;
    }
    firstFile.set(e.name, f.file);
    if (e.source === 'website') {
      // Amplitude receives a website event under its warehouse column name: two names with one column would merge there.
      const column = segmentEventColumn(e.name);
      const other = byColumn.get(column);
      if (other) problems.push({ file: f.file, line: f.lineOf(['name']), message: `event "${e.name}" and "${other.name}" (${other.file}) reach Amplitude under the same name "${column}": rename one` });
      byColumn.set(column, { name: e.name, file: f.file });
    }
    if (e.name.startsWith(PAGE_EVENT_PREFIX) && pageNames.has(e.name.slice(PAGE_EVENT_PREFIX.length)))
      problems.push({ file: f.file, line: f.lineOf(['name']), message: `event "${e.name}" is also what the page "${e.name.slice(PAGE_EVENT_PREFIX.length)}" becomes in Amplitude: rename the event or the page` });
    if (!schema) continue;
    const planned: PlannedEvent = { name: e.name, source: e.source, owner: e.owner, schema };
    events.set(e.name, planned);
    byAmplitude.set(e.source === 'website' ? segmentEventColumn(e.name) : e.name, planned);
  }

  if (problems.length > 0 || !loaded.settings || !traits || !pageProperties) return { problems };
  const outcomes = resolveOutcomes(loaded.settings.value);
  const plan: CompiledPlan = {
    version: loaded.settings.value.version,
    outcomes,
    event: (name) => events.get(name),
    isPlannedPage: (name) => pageNames.has(name),
    pageProperties,
    traits,
    amplitudeEvent: (eventType) => {
      if (eventType === '$identify') return { kind: 'identify' };
      if (eventType === UNNAMED_PAGE_EVENT) return { kind: 'page' };
      if (eventType.startsWith(PAGE_EVENT_PREFIX) && pageNames.has(eventType.slice(PAGE_EVENT_PREFIX.length))) return { kind: 'page', name: eventType.slice(PAGE_EVENT_PREFIX.length) };
      const event = byAmplitude.get(eventType) ?? events.get(eventType);
      return event ? { kind: 'event', event } : undefined;
    },
    eventNames: () => [...events.keys()].sort(),
  };
  return { plan, problems };
}

/** Loads and compiles the plan of a directory. */
export function loadPlan(dir: string): CompileResult {
  return compilePlan(loadPlanDir(dir));
}

/** Loads a plan that must be valid: throws one message listing every problem. */
export function loadValidPlan(dir: string): CompiledPlan {
  const { plan, problems } = loadPlan(dir);
  if (!plan)
    throw new Error(
      `The tracking plan in ${dir} has ${problems.length} problem${problems.length === 1 ? '' : 's'} (run \`npx novade tracking plan lint\`):\n` +
        problems.map((p) => `  ${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.message}`).join('\n'),
    );
  return plan;
}
