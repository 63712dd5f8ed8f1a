import { knownFieldKinds } from '../mappings/salesforce-known-fields';
import { columnName, recordSchema, silverColumns, toSilverRow, type SfFieldSpec, type SfKind, type SfRecord } from '../mappings/salesforce-fields';
import { compileObjectRules, ruleEvents, targetState } from '../mappings/salesforce-rules';
import type { Row } from '../connectors/warehouse/types';
import { defaultSalesforceStreamName, type SalesforceObjectConfig, type SalesforceSection } from './config/schema';
import { durationMs } from './full-reread';
import type { ListedFields, StreamDeclaration } from './types';

/**
 * The Salesforce streams of config/streams.yaml. Each is keyed on Id and ordered by (cursor field,
 * Id); silver's version column is the cursor's (system_modstamp), so an older version never
 * overwrites a newer one. Events come from the object's rules (mappings/salesforce-rules.ts).
 *
 * Field types: the fields of the four standard objects Novade has always synced are known here
 * (mappings/salesforce-known-fields.ts), so the default file needs no call to Salesforce. Any other
 * selection (a custom field or object, `all`, `all_except`) takes its fields and types from
 * Salesforce's describe at each run (`fromDescribe`), so a worker still starts while Salesforce is
 * down, and fields added in Salesforce become columns (schema evolution).
 */

export interface SalesforceStreamOptions {
  /** SALESFORCE_USER_ID_FIELD when set: replaces the field of every `user_id` identity. */
  userIdField?: string;
}

/** Every field the object's rules, identity and traits read. */
export function fieldsReadByRules(config: SalesforceObjectConfig): string[] {
  const out = new Set<string>();
  const id = config.identity;
  if (id?.user_id) out.add(id.user_id);
  for (const t of [id?.device_id, id?.device_id_fallback]) for (const m of (t ?? '').matchAll(/\{([A-Za-z][A-Za-z0-9_]*)\}/g)) out.add(m[1]);
  for (const f of Object.values(id?.groups ?? {})) out.add(f);
  for (const f of Object.values(config.traits ?? {})) out.add(f);
  for (const rule of config.events ?? []) {
    if (rule.time) out.add(rule.time);
    for (const v of Object.values(rule.properties ?? {})) out.add(typeof v === 'string' ? v : 'previous' in v ? v.previous : '');
    if (rule.on === 'changed') {
      if (rule.field) out.add(rule.field);
      if (rule.first_seen_time) out.add(rule.first_seen_time);
      for (const f of Object.keys(targetState(rule) ?? {})) out.add(f);
    }
  }
  out.delete('');
  return [...out];
}

/** The fields the stream needs whatever the selection: key, cursor, delete flag, and what the rules read. */
function requiredFields(config: SalesforceObjectConfig, userIdField: string | undefined): string[] {
  const cursor = config.cursor ?? 'SystemModstamp';
  return [
    'Id',
    cursor,
    ...(config.deletes === false ? [] : ['IsDeleted']),
    ...(config.events?.some((r) => r.on === 'created') || config.events?.some((r) => r.on === 'changed' && r.first_seen_time) ? ['CreatedDate'] : []),
    ...fieldsReadByRules(config),
    ...(userIdField && config.identity?.user_id ? [userIdField] : []),
  ];
}

/**
 * The field specs of an object: the selection in file order (or describe's order for `all`), then
 * whatever the stream needs that the selection left out. `kinds` maps API names to kinds; a field
 * without a kind is not a field of the object (or not readable) and is reported.
 */
function resolveSpecs(config: SalesforceObjectConfig, kinds: ReadonlyMap<string, SfKind>, order: readonly string[], userIdField?: string): { specs: SfFieldSpec[]; unknown: string[] } {
  const cursor = config.cursor ?? 'SystemModstamp';
  const sel = config.fields;
  const selected = sel === 'all' ? [...order] : Array.isArray(sel) ? sel : order.filter((f) => !sel.all_except.includes(f));
  const names: string[] = [];
  const seen = new Set<string>();
  const add = (f: string) => {
    const key = f.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      names.push(f);
    }
  };
  for (const f of selected) add(f);
  for (const f of requiredFields(config, userIdField)) add(f);
  const unknown: string[] = [];
  const specs: SfFieldSpec[] = [];
  for (const field of names) {
    let kind = kinds.get(field);
    // The user-id field is read as text, as SALESFORCE_USER_ID_FIELD always was.
    if (kind === undefined && (field === userIdField || field === config.identity?.user_id)) kind = 'text';
    if (kind === undefined) {
      unknown.push(field);
      continue;
    }
    specs.push({ field, kind, ...(field === 'Id' || field === cursor ? { required: true } : {}) });
  }
  return { specs, unknown };
}

/** Whether the built-in list knows every field the object's config needs (no describe). */
function staticSpecs(config: SalesforceObjectConfig, userIdField: string | undefined): SfFieldSpec[] | undefined {
  if (!Array.isArray(config.fields)) return undefined;
  const kinds = knownFieldKinds(config.object);
  const { specs, unknown } = resolveSpecs(config, kinds, [], userIdField);
  return unknown.length === 0 ? specs : undefined;
}

/** The stream of an object for a resolved field list. */
export function buildSalesforceDeclaration(config: SalesforceObjectConfig, specs: readonly SfFieldSpec[], userIdField?: string): StreamDeclaration<SfRecord> {
  const name = config.stream ?? defaultSalesforceStreamName(config.object);
  const cursor = config.cursor ?? 'SystemModstamp';
  const rules = compileObjectRules(config, new Map(specs.map((s) => [s.field, s.kind])), { userIdField });
  const deletes = config.deletes !== false;
  // The pipeline asks for a record's row, then for its events: build the row once.
  const rows = new WeakMap<SfRecord, Row>();
  const toRow = (record: SfRecord) => {
    let row = rows.get(record);
    if (!row) {
      row = toSilverRow(specs, record);
      if (!deletes) row._deleted = false;
      rows.set(record, row);
    }
    return row;
  };
  return {
    name,
    source: 'salesforce',
    object: config.object,
    primaryKey: 'Id',
    cursorField: cursor,
    fields: specs.map((s) => s.field),
    schema: recordSchema(specs, { versionField: cursor }),
    bronze: { name, keyColumns: [{ name: 'id', type: 'varchar' }] },
    silver: { name, columns: silverColumns(specs), primaryKey: ['id'], versionColumn: columnName(cursor) },
    toRow,
    isDeleted: (record) => deletes && record.IsDeleted === true,
    // Read with query rather than queryAll: records in the recycle bin never come (the default file sets none).
    ...(deletes ? {} : { deletes: false }),
    toEvents: (record, previous, ctx) => ruleEvents(rules, record, toRow(record), previous, ctx),
    ...(config.full_reread ? { fullRereadMs: durationMs(config.full_reread) } : {}),
  };
}

/**
 * A declaration whose fields come from describe: each run resolves them against the live describe
 * and evolves silver first (activities/sync.ts, streams/schema-sync.ts). The fields the rules read
 * and the user-id field are part of the selection, so describe reports them when unreadable.
 */
function describedDeclaration(config: SalesforceObjectConfig, opts: SalesforceStreamOptions): StreamDeclaration<SfRecord> {
  const fields = Array.isArray(config.fields) ? [...new Set([...config.fields, ...requiredFields(config, opts.userIdField)])] : config.fields;
  const selection = { object: config.object, fields, cursor: config.cursor, deletes: config.deletes };
  const build = (specs: readonly SfFieldSpec[]) => buildSalesforceDeclaration(config, specs, opts.userIdField);
  // Until resolved, the declaration knows its names and key only: the activities build the rest.
  return { ...build([]), fromDescribe: { config: selection, build } };
}

/**
 * A declaration whose fields are all of the built-in list: it runs as is, and keeps what it needs
 * to leave out a field that becomes unreadable (activities/sync.ts, streams/listed-schema-sync.ts).
 */
function listedDeclaration(config: SalesforceObjectConfig, specs: readonly SfFieldSpec[], opts: SalesforceStreamOptions): StreamDeclaration<SfRecord> {
  const listed: ListedFields<SfRecord> = {
    object: config.object,
    cursor: config.cursor ?? 'SystemModstamp',
    specs,
    build: (s) => ({ ...buildSalesforceDeclaration(config, s, opts.userIdField), listedFields: listed }),
  };
  return listed.build(specs);
}

export function salesforceDeclarations(section: SalesforceSection | undefined, opts: SalesforceStreamOptions = {}): StreamDeclaration<SfRecord>[] {
  return (section?.objects ?? []).map((config) => {
    const specs = staticSpecs(config, opts.userIdField);
    return specs ? listedDeclaration(config, specs, opts) : describedDeclaration(config, opts);
  });
}
