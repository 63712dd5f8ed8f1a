import fs from 'node:fs';
import path from 'node:path';
import YAML, { isMap, isScalar, isSeq, LineCounter, type Node } from 'yaml';
import type { z } from 'zod';
import { DRIFT_STREAM_EVENTS, defaultSalesforceStreamName, driftSection, salesforceObjectConfig, streamsFile, type DriftSection, type DriftStreamName, type SalesforceObjectConfig, type StreamsFile } from './schema';

/**
 * Reads config/streams.yaml: YAML (anchors and merge keys allowed), then the zod schema, then the
 * checks across keys (rule ids, fields the rules read, identity). Every problem comes back at once,
 * one line each: `<file>: <yaml path>: <what is wrong> (<what to do>)`, so a user fixes the file in
 * one pass; the worker refuses to start on any of them.
 */

export class StreamsFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'StreamsFileError';
  }
}

export type ParseResult = { ok: true; file: StreamsFile } | { ok: false; problems: string[] };

type PathPart = string | number;

/** `salesforce.objects[2].events[0].on` */
export function yamlPath(parts: readonly PathPart[]): string {
  let out = '';
  for (const p of parts) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out === '' ? '(top level)' : out;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** The closest of `known` to `word`, when close enough to be a typo. */
export function suggest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = levenshtein(word, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

const quote = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'nothing' : Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'a mapping' : String(v));

function valueAt(data: unknown, parts: readonly PathPart[]): unknown {
  let v = data;
  for (const p of parts) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PathPart, unknown>)[p];
  }
  return v;
}

/** The keys a mapping at this path accepts, read from the schema itself so they never drift apart. */
function keysAt(data: unknown, parts: readonly PathPart[]): string[] {
  let schema: z.ZodType = streamsFile;
  let at: unknown = data;
  const unwrap = (s: z.ZodType): z.ZodType => {
    let cur = s as z.ZodType & { def: { type: string; innerType?: z.ZodType } };
    while (cur.def.type === 'optional' || cur.def.type === 'default' || cur.def.type === 'nullable') cur = cur.def.innerType as typeof cur;
    return cur;
  };
  const objectKeys = (s: z.ZodType, value: unknown): string[] => {
    const u = unwrap(s) as z.ZodType & { def: { type: string; options?: z.ZodType[]; shape?: Record<string, z.ZodType>; keyType?: z.ZodType } };
    if (u.def.type === 'object') return Object.keys((u as unknown as z.ZodObject).shape);
    if (u.def.type === 'union') {
      // Discriminated by `on` for event rules: the keys of the matching option, else of all.
      const on = value !== null && typeof value === 'object' ? (value as Record<string, unknown>).on : undefined;
      const options = (u.def.options ?? []).filter((o) => objectKeys(o, undefined).length > 0);
      const matching = options.filter((o) => {
        const shape = (unwrap(o) as unknown as z.ZodObject).shape as Record<string, z.ZodType & { def: { type: string; values?: unknown[] } }>;
        return shape.on?.def.values?.includes(on);
      });
      return [...new Set((matching.length > 0 ? matching : options).flatMap((o) => objectKeys(o, value)))];
    }
    if (u.def.type === 'record') {
      const keyType = u.def.keyType as (z.ZodType & { def: { type: string; entries?: Record<string, string> } }) | undefined;
      if (keyType?.def.type === 'enum') return Object.values(keyType.def.entries ?? {});
    }
    return [];
  };
  for (const p of parts) {
    const u = unwrap(schema) as z.ZodType & { def: { type: string; element?: z.ZodType; options?: z.ZodType[]; valueType?: z.ZodType } };
    const next = valueAt(at, [p]);
    if (u.def.type === 'object') schema = ((u as unknown as z.ZodObject).shape as Record<string, z.ZodType>)[String(p)];
    else if (u.def.type === 'array') schema = u.def.element as z.ZodType;
    else if (u.def.type === 'record') schema = u.def.valueType as z.ZodType;
    else if (u.def.type === 'union') {
      const on = at !== null && typeof at === 'object' ? (at as Record<string, unknown>).on : undefined;
      const options = u.def.options ?? [];
      const match = options.find((o) => {
        const shape = (unwrap(o) as unknown as z.ZodObject).shape as Record<string, z.ZodType & { def: { values?: unknown[] } }> | undefined;
        return shape?.on?.def.values?.includes(on) && shape[String(p)] !== undefined;
      }) ?? options.find((o) => (unwrap(o) as unknown as { shape?: Record<string, z.ZodType> }).shape?.[String(p)] !== undefined);
      if (!match) return [];
      schema = ((unwrap(match) as unknown as z.ZodObject).shape as Record<string, z.ZodType>)[String(p)];
    } else return [];
    if (!schema) return [];
    at = next;
  }
  return objectKeys(schema, at);
}

const HINTS: Record<string, string> = {
  version: 'add `version: 1` at the top',
  object: 'add `object: <API name>`, e.g. `object: Opportunity`',
  fields: 'add `fields: [Id, Name, ...]`, `fields: all` or `fields: { all_except: [...] }`',
  objects: 'add `objects:` with a list of objects',
  streams: 'add `streams:` with the Drift streams to configure',
  id: 'add `id: <name>` (the insert_id suffix: unique per object, never renamed)',
  name: 'add `name: <Amplitude event name>`',
  on: 'add `on: created`, `on: changed` or `on: deleted`',
};

/** One line per zod issue, with the YAML path and what to do. */
function issueLines(issue: z.core.$ZodIssue, data: unknown): string[] {
  const where = yamlPath(issue.path as PathPart[]);
  const got = valueAt(data, issue.path as PathPart[]);
  const last = issue.path[issue.path.length - 1];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = keysAt(data, issue.path as PathPart[]);
      return issue.keys.map((key) => {
        const near = suggest(key, known);
        const fix = near ? `did you mean "${near}"?` : known.length > 0 ? `known keys: ${known.join(', ')}` : 'remove it';
        return `${yamlPath([...(issue.path as PathPart[]), key])}: unknown key "${key}" (${fix})`;
      });
    }
    case 'invalid_union': {
      const disc = (issue as { discriminator?: string }).discriminator;
      const options = (issue as { options?: unknown[] }).options;
      if (disc && options) return [`${where}: expected ${orList(options.map(String))} (got ${quote(got)})`];
      if (got === undefined && typeof last === 'string' && HINTS[last]) return [`${where}: missing (${HINTS[last]})`];
      return [`${where}: ${unionHint(issue.path as PathPart[], got)}`];
    }
    case 'invalid_type':
      if (got === undefined) return [`${where}: missing (${typeof last === 'string' && HINTS[last] ? HINTS[last] : 'add it'})`];
      return [`${where}: expected ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : issue.expected} (got ${quote(got)})`];
    case 'invalid_value':
      if (got === undefined && typeof last === 'string' && HINTS[last]) return [`${where}: missing (${HINTS[last]})`];
      return [`${where}: expected ${orList(issue.values.map((v) => String(v)))} (got ${quote(got)})`];
    default:
      return [`${where}: ${issue.message}${got !== undefined && typeof got !== 'object' ? ` (got ${quote(got)})` : ''}`];
  }
}

function orList(values: string[]): string {
  return values.length <= 1 ? (values[0] ?? 'nothing') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

/** What a failed union at a known place expects, in the file's words. */
function unionHint(parts: readonly PathPart[], got: unknown): string {
  const key = [...parts].reverse().find((p) => typeof p === 'string');
  const inProperties = parts.includes('properties');
  if (key === 'fields') return `expected all, a list of API names, or { all_except: [...] } (got ${quote(got)})`;
  if (key === 'to') return `expected a mapping of field: value, or a value with \`field\` (got ${quote(got)})`;
  if (inProperties) return `expected a field's API name, { previous: Field } or { value: <literal> } (got ${quote(got)})`;
  return `unexpected value ${quote(got)}`;
}

/** Checks across keys, once the shape is right. */
function crossChecks(file: StreamsFile): string[] {
  const problems: string[] = [];
  const streamNames = new Map<string, string>();
  const claim = (name: string, where: string) => {
    const first = streamNames.get(name);
    if (first) problems.push(`${where}: stream name "${name}" is already used by ${first} (give one of them another \`stream:\`)`);
    else streamNames.set(name, where);
  };
  for (const [i, o] of (file.salesforce?.objects ?? []).entries()) {
    const at = `salesforce.objects[${i}]`;
    claim(o.stream ?? defaultSalesforceStreamName(o.object), at);
    problems.push(...objectChecks(o, at));
  }
  for (const name of Object.keys(file.drift?.streams ?? {})) claim(name, `drift.streams.${name}`);
  problems.push(...driftChecks(file.drift));
  return problems;
}

function driftChecks(drift: DriftSection | undefined): string[] {
  const problems: string[] = [];
  for (const [name, cfg] of Object.entries(drift?.streams ?? {})) {
    const known: readonly string[] = DRIFT_STREAM_EVENTS[name as DriftStreamName];
    for (const key of Object.keys(cfg?.events ?? {}))
      if (!known.includes(key)) {
        const near = suggest(key, known);
        problems.push(`drift.streams.${name}.events.${key}: ${name} sends no "${key}" event (${near ? `did you mean "${near}"?` : `its events: ${known.join(', ')}`})`);
      }
  }
  return problems;
}

function objectChecks(o: SalesforceObjectConfig, at: string): string[] {
  const problems: string[] = [];
  const id = o.identity;
  const events = o.events ?? [];
  if (id) {
    if (id.user_id !== undefined && id.device_id !== undefined) problems.push(`${at}.identity: both user_id and device_id (keep user_id for a person, device_id for a record that is no person)`);
    if (id.user_id === undefined && id.device_id === undefined) problems.push(`${at}.identity: neither user_id nor device_id (add \`user_id: Email\` for a person, or \`device_id: "sf-${o.object.toLowerCase()}:{Id}"\`)`);
    if (id.device_id_fallback !== undefined && id.device_id === undefined) problems.push(`${at}.identity.device_id_fallback: only used with device_id (add device_id, or remove it)`);
  } else {
    if (events.length > 0) problems.push(`${at}.events: events need an identity (add \`identity: { user_id: Email }\` for a person, or \`identity: { device_id: "..." }\`)`);
  }
  if (o.traits && Object.keys(o.traits).length > 0 && id?.user_id === undefined)
    problems.push(`${at}.traits: traits are sent with $identify, which needs a user_id identity (add \`identity: { user_id: Email }\`, or remove traits)`);
  if (o.cursor === 'LastModifiedDate' && o.fields === 'all') {
    // Fine: describe gives the field; nothing to check here.
  }
  const seen = new Map<string, number>();
  for (const [j, rule] of events.entries()) {
    const r = `${at}.events[${j}]`;
    const first = seen.get(rule.id);
    if (first !== undefined) problems.push(`${r}.id: "${rule.id}" is already the id of events[${first}] (rule ids are insert_id suffixes: make each unique within the object)`);
    else seen.set(rule.id, j);
    if (rule.on === 'changed') {
      const objectTo = rule.to !== undefined && rule.to !== null && typeof rule.to === 'object';
      if (rule.field === undefined && rule.to === undefined) problems.push(`${r}: a changed rule needs \`field: X\` (any change of X) or \`to: { X: value }\` (a state reached)`);
      if (rule.field === undefined && rule.to !== undefined && !objectTo) problems.push(`${r}.to: a single value needs \`field:\` (or write \`to: { Field: ${quote(rule.to)} }\`)`);
      if (rule.field !== undefined && objectTo) problems.push(`${r}: \`field\` with \`to: { ... }\` (use \`to: { ${rule.field}: value, ... }\` alone, or \`field\` with a single \`to\` value)`);
      if (objectTo && Object.keys(rule.to as object).length === 0) problems.push(`${r}.to: empty (list at least one field: value)`);
    } else if ('first_seen_time' in rule) {
      problems.push(`${r}.first_seen_time: only for changed rules`);
    }
    if (rule.on === 'deleted' && o.deletes === false) problems.push(`${r}: a deleted rule needs deletes tracked (remove \`deletes: false\` from ${at})`);
  }
  if (Array.isArray(o.fields)) {
    const list = o.fields;
    const listed = new Set(list);
    const spelled = new Map(list.map((f) => [f.toLowerCase(), f]));
    const implicit = new Set(['id', (o.cursor ?? 'SystemModstamp').toLowerCase(), 'isdeleted', 'createddate']);
    const dupes = list.filter((f, k) => list.indexOf(f) !== k);
    if (dupes.length > 0) problems.push(`${at}.fields: ${[...new Set(dupes)].join(', ')} listed twice (list each field once)`);
    for (const { where, field } of fieldsRead(o, at)) {
      if (listed.has(field) || implicit.has(field.toLowerCase())) continue;
      const listedAs = spelled.get(field.toLowerCase());
      if (listedAs !== undefined) {
        // Salesforce does not mind the case, but the column name derives from the spelling.
        problems.push(`${where}: ${field} is listed as ${listedAs} in ${at}.fields (spell it ${listedAs})`);
        continue;
      }
      const near = suggest(field, list);
      problems.push(`${where}: ${field} is not in ${at}.fields (${near ? `did you mean ${near}? ` : ''}add ${field} to the list, or read another field)`);
    }
  } else if (typeof o.fields === 'object') {
    const cursor = o.cursor ?? 'SystemModstamp';
    for (const f of o.fields.all_except)
      if (['Id', cursor].includes(f) || (f === 'IsDeleted' && o.deletes !== false)) problems.push(`${at}.fields.all_except: ${f} is always read (remove it from the list)`);
  }
  return problems;
}

/** Every field reference of an object's config, with where it is written. */
function fieldsRead(o: SalesforceObjectConfig, at: string): { where: string; field: string }[] {
  const out: { where: string; field: string }[] = [];
  const id = o.identity;
  if (id?.user_id) out.push({ where: `${at}.identity.user_id`, field: id.user_id });
  for (const key of ['device_id', 'device_id_fallback'] as const)
    for (const m of (id?.[key] ?? '').matchAll(/\{([A-Za-z][A-Za-z0-9_]*)\}/g)) out.push({ where: `${at}.identity.${key}`, field: m[1] });
  for (const [g, f] of Object.entries(id?.groups ?? {})) out.push({ where: `${at}.identity.groups.${g}`, field: f });
  for (const [t, f] of Object.entries(o.traits ?? {})) out.push({ where: `${at}.traits.${t}`, field: f });
  for (const [j, rule] of (o.events ?? []).entries()) {
    const r = `${at}.events[${j}]`;
    if (rule.time) out.push({ where: `${r}.time`, field: rule.time });
    for (const [p, v] of Object.entries(rule.properties ?? {})) {
      if (typeof v === 'string') out.push({ where: `${r}.properties.${p}`, field: v });
      else if ('previous' in v) out.push({ where: `${r}.properties.${p}.previous`, field: v.previous });
    }
    if (rule.on === 'changed') {
      if (rule.field) out.push({ where: `${r}.field`, field: rule.field });
      if (rule.first_seen_time) out.push({ where: `${r}.first_seen_time`, field: rule.first_seen_time });
      if (rule.to !== null && typeof rule.to === 'object') for (const f of Object.keys(rule.to)) out.push({ where: `${r}.to.${f}`, field: f });
    }
  }
  return out;
}

/** Parses and checks the text of a streams file; `display` names the file in every line. */
export function parseStreamsFile(text: string, display: string): ParseResult {
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, { merge: true, uniqueKeys: true, lineCounter, prettyErrors: true });
  if (doc.errors.length > 0)
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const message = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
        return `${display}:${pos ? `${pos.line}:${pos.col}:` : ''} ${message} (fix the YAML syntax there)`;
      }),
    };
  const data: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (data === null || data === undefined) return { ok: false, problems: [`${display}: the file is empty (start with \`version: 1\`; docs/streams.md shows a complete file)`] };
  const parsed = streamsFile.safeParse(data);
  if (!parsed.success) {
    const lines = parsed.error.issues.flatMap((i) => issueLines(i, data));
    // The checks across keys of every object whose own shape is right, so one pass shows everything.
    const objects = valueAt(data, ['salesforce', 'objects']);
    if (Array.isArray(objects))
      for (const [i, o] of objects.entries()) {
        const one = salesforceObjectConfig.safeParse(o);
        if (one.success) lines.push(...objectChecks(one.data, `salesforce.objects[${i}]`));
      }
    const drift = driftSection.safeParse(valueAt(data, ['drift']));
    if (drift.success) lines.push(...driftChecks(drift.data));
    return { ok: false, problems: [...new Set(lines)].map((l) => `${display}: ${l}${lineOf(doc.contents, l, lineCounter)}`) };
  }
  const problems = crossChecks(parsed.data);
  if (problems.length > 0) return { ok: false, problems: problems.map((p) => `${display}: ${p}${lineOf(doc.contents, p, lineCounter)}`) };
  return { ok: true, file: parsed.data };
}

/** ` [line N]` of the node a problem's YAML path names, when the document has it. */
function lineOf(contents: Node | null, line: string, counter: LineCounter): string {
  const pathText = line.split(': ')[0];
  if (!contents || pathText === '(top level)') return '';
  const parts: PathPart[] = [];
  for (const m of pathText.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) parts.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  let node: unknown = contents;
  let offset: number | undefined;
  for (const p of parts) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && it.key.value === p);
      if (!pair) break;
      offset = (pair.key as Node).range?.[0];
      node = pair.value;
    } else if (isSeq(node) && typeof p === 'number') {
      node = node.items[p];
      offset = (node as Node | undefined)?.range?.[0];
    } else break;
  }
  return offset !== undefined ? ` [line ${counter.linePos(offset).line}]` : '';
}

/** The project-relative name used in messages (`config/streams.yaml`), or the path as given. */
function displayName(file: string, root: string): string {
  const rel = path.relative(root, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

/** Reads and checks a streams file; throws StreamsFileError with every problem. */
export function loadStreamsFile(file: string, opts: { root?: string } = {}): StreamsFile {
  const display = displayName(path.resolve(file), opts.root ?? process.cwd());
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StreamsFileError(display, [
      code === 'ENOENT' ? `${display}: no such file (create it, or point STREAMS_FILE at yours; the project ships config/streams.yaml)` : `${display}: cannot be read (${(err as Error).message})`,
    ]);
  }
  const result = parseStreamsFile(text, display);
  if (!result.ok) throw new StreamsFileError(display, result.problems);
  return result.file;
}
