import { stringify } from 'yaml';
import { maskText } from './mask';
import { segmentEventColumn } from './plan-compile';

/**
 * A first tracking plan written from what the Segment history actually holds: every event seen,
 * each property with the types observed, how often it is present and, when there are few, its
 * values. Pure: `observe` the property objects of each event, then `draftPlanFiles` turns the
 * observations into the plan's YAML files (which pass `tracking plan lint`).
 *
 * The draft is a starting point for people, not a verdict: a property present in every call seen
 * becomes required, a property with at most MAX_ENUM values over at least MIN_ENUM_CALLS calls gets
 * an enum, and values that look like personal data (tracking/mask.ts) are never copied into it.
 */

export const MAX_ENUM = 10;
export const MIN_ENUM_CALLS = 20;
/** Enough to tell "few values" from "many"; keeps the stats small (they cross Temporal as one payload). */
const MAX_TRACKED_VALUES = MAX_ENUM + 1;
const MAX_VALUE_LENGTH = 200;

export type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null';

export interface PropertyStats {
  key: string;
  /** Calls that had the key. */
  present: number;
  types: Partial<Record<JsonType, number>>;
  /** Distinct scalar values while they are few (and short); undefined beyond. */
  values?: (string | number | boolean)[];
  /** The first few distinct values that do not look like personal data. */
  examples: (string | number | boolean)[];
  /** Whether every string value seen is a date-time. */
  allDateTime: boolean;
}

export interface SubjectStats {
  /** How the plan names it: an event name, or a page name. */
  name: string;
  /** Calls in the history (all of them, not only those read for properties). */
  count: number;
  /** Calls whose properties were read. */
  sampled: number;
  firstSeen?: string;
  lastSeen?: string;
  properties: PropertyStats[];
}

export interface DraftStats {
  from: string;
  to: string;
  events: SubjectStats[];
  pages: SubjectStats[];
  /** All identify calls' traits together. */
  identify?: SubjectStats;
}

const looksPersonal = (v: string | number | boolean) => typeof v === 'string' && maskText(v) !== v;
const typeOf = (v: unknown): JsonType => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : (typeof v as JsonType));
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** Accumulates the property objects of one event (or page, or the identifies). */
export class SubjectObserver {
  private readonly props = new Map<string, PropertyStats>();
  private sampled = 0;

  observe(properties: Record<string, unknown>): void {
    this.sampled++;
    for (const [key, v] of Object.entries(properties)) {
      let p = this.props.get(key);
      if (!p) this.props.set(key, (p = { key, present: 0, types: {}, values: [], examples: [], allDateTime: true }));
      p.present++;
      const t = typeOf(v);
      p.types[t] = (p.types[t] ?? 0) + 1;
      if (t !== 'string' || !DATE_TIME.test(v as string)) p.allDateTime = false;
      if (t === 'string' || t === 'integer' || t === 'number' || t === 'boolean') {
        const value = v as string | number | boolean;
        if (p.examples.length < 3 && !p.examples.includes(value) && !looksPersonal(value) && String(value).length <= MAX_VALUE_LENGTH) p.examples.push(value);
      }
      if (p.values && (t === 'string' || t === 'integer' || t === 'number' || t === 'boolean')) {
        const value = v as string | number | boolean;
        if (!p.values.includes(value)) {
          if (p.values.length >= MAX_TRACKED_VALUES || (typeof value === 'string' && value.length > MAX_VALUE_LENGTH)) p.values = undefined;
          else p.values.push(value);
        }
      }
    }
  }

  stats(name: string, count: number, seen: { firstSeen?: string; lastSeen?: string } = {}): SubjectStats {
    return { name, count, sampled: this.sampled, ...seen, properties: [...this.props.values()].sort((a, b) => a.key.localeCompare(b.key)) };
  }
}

const pct = (x: number) => `${(x * 100).toFixed(x >= 0.995 || x < 0.1 ? 1 : 0)}%`;

function propertySchema(p: PropertyStats, sampled: number): Record<string, unknown> {
  const types = (Object.keys(p.types) as JsonType[]).sort();
  // integer is a kind of number: a property seen as both is a number.
  const merged = types.includes('number') ? types.filter((t) => t !== 'integer') : types;
  const schema: Record<string, unknown> = { type: merged.length === 1 ? merged[0] : merged };
  const seenAs = types.map((t) => `${t} ${pct((p.types[t] ?? 0) / p.present)}`).join(', ');
  schema.description = `Present in ${pct(p.present / Math.max(sampled, 1))} of ${sampled.toLocaleString('en-US')} calls read; seen as ${seenAs}.`;
  if (merged.length === 1 && merged[0] === 'string' && p.allDateTime) schema.format = 'date-time';
  const values = p.values;
  const fewAndPlain = values !== undefined && values.length > 0 && values.length <= MAX_ENUM && !values.some(looksPersonal);
  if (fewAndPlain && p.present >= MIN_ENUM_CALLS && !merged.includes('object') && !merged.includes('array') && !schema.format) schema.enum = [...values].sort((a, b) => String(a).localeCompare(String(b)));
  else if (p.examples.length > 0) schema.examples = [...p.examples];
  return schema;
}

export function objectSchema(s: SubjectStats): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const p of s.properties) {
    properties[p.key] = propertySchema(p, s.sampled);
    if (s.sampled > 0 && p.present === s.sampled && !p.types.null) required.push(p.key);
  }
  return { type: 'object', ...(required.length ? { required } : {}), properties };
}

const seenText = (s: SubjectStats) =>
  `Seen ${s.count.toLocaleString('en-US')} time${s.count === 1 ? '' : 's'}${s.firstSeen ? ` from ${s.firstSeen.slice(0, 10)} to ${(s.lastSeen ?? s.firstSeen).slice(0, 10)}` : ''}`;

function fileName(name: string, taken: Set<string>): string {
  const base = segmentEventColumn(name).replace(/_/g, '-') || 'event';
  let file = `${base}.yaml`;
  for (let i = 2; taken.has(file); i++) file = `${base}-${i}.yaml`;
  taken.add(file);
  return file;
}

const HEADER = (stats: DraftStats) => `# Drafted by \`npx novade tracking plan draft --from ${stats.from} --to ${stats.to}\` from the Segment history: review it.\n`;
const yaml = (stats: DraftStats, value: unknown) => HEADER(stats) + stringify(value, { lineWidth: 120 });

/** The plan's files, by path relative to the plan's directory. */
export function draftPlanFiles(stats: DraftStats): Map<string, string> {
  const files = new Map<string, string>();
  files.set('settings.yaml', yaml(stats, { version: `draft-${stats.from}-${stats.to}`, outcomes: { unplanned_event: 'allow', unplanned_property: 'keep', schema_violation: 'allow' } }));
  const identify = stats.identify ?? { name: 'identify', count: 0, sampled: 0, properties: [] };
  const identifySchema = objectSchema(identify);
  // An identify sets some traits, often not all: the draft requires none.
  delete identifySchema.required;
  files.set('identify.yaml', yaml(stats, { description: `Traits of identify calls. ${seenText(identify)}.`, owner: 'TODO', traits: identifySchema }));

  const pageStats = stats.pages.reduce<SubjectStats>(
    (acc, p) => ({ ...acc, count: acc.count + p.count, sampled: acc.sampled + p.sampled, properties: mergeProperties(acc.properties, p.properties) }),
    { name: 'pages', count: 0, sampled: 0, properties: [] },
  );
  const pagesSchema = objectSchema(pageStats);
  files.set(
    'pages.yaml',
    yaml(stats, {
      description: `Pages that send a page call. ${seenText(pageStats)} in all.`,
      owner: 'TODO',
      names: stats.pages.filter((p) => p.name !== '').map((p) => ({ name: p.name, description: seenText(p) })),
      properties: pagesSchema,
    }),
  );

  const taken = new Set<string>();
  for (const e of stats.events)
    files.set(
      `events/${fileName(e.name, taken)}`,
      yaml(stats, { name: e.name, description: `TODO: what this event means. ${seenText(e)}.`, owner: 'TODO', source: 'website', properties: objectSchema(e) }),
    );
  return files;
}

/** Properties of several subjects as if observed together (the page schema covers every page). */
export function mergeProperties(a: PropertyStats[], b: PropertyStats[]): PropertyStats[] {
  const out = new Map(a.map((p) => [p.key, { ...p, types: { ...p.types }, examples: [...p.examples], values: p.values ? [...p.values] : undefined }]));
  for (const p of b) {
    const q = out.get(p.key);
    if (!q) {
      out.set(p.key, { ...p, types: { ...p.types }, examples: [...p.examples], values: p.values ? [...p.values] : undefined });
      continue;
    }
    q.present += p.present;
    for (const [t, n] of Object.entries(p.types) as [JsonType, number][]) q.types[t] = (q.types[t] ?? 0) + n;
    q.allDateTime &&= p.allDateTime;
    for (const v of p.examples) if (q.examples.length < 3 && !q.examples.includes(v)) q.examples.push(v);
    if (q.values && p.values) {
      for (const v of p.values) if (!q.values.includes(v)) q.values.push(v);
      if (q.values.length > MAX_TRACKED_VALUES) q.values = undefined;
    } else q.values = undefined;
  }
  return [...out.values()].sort((x, y) => x.key.localeCompare(y.key));
}
