import { z } from 'zod';
import type { ColumnType } from '../connectors/warehouse/types';
import { columnName, sfColumnType, type SfFieldSpec, type SfKind } from './salesforce-fields';

/**
 * Salesforce describe → what a stream reads and how silver stores it. Pure: the describe answer
 * comes from connectors/salesforce/describe.ts, the selection from config/streams.yaml.
 *
 * - Field types map to an SfKind (the record check) and from it to a silver column type, the same
 *   for DuckDB and Databricks (connectors/warehouse/dialect.ts spells them per engine).
 * - Compound fields (an address such as BillingAddress, a geolocation such as Site_Location__c) are
 *   never selected: their components (BillingCity, Site_Location__Latitude__s, ...) are, so each
 *   part gets a typed column and Bulk API queries (which refuse compounds) work. Naming a compound
 *   in a field list selects its components.
 * - Formula fields (`calculated`) are flagged: their value can change without SystemModstamp
 *   moving, so an incremental read misses those changes until the record changes for another
 *   reason.
 * - A listed field that describe does not return is unreadable: missing in this org or hidden from
 *   the integration user by field-level security. It is reported and left out, never guessed.
 */

export const describeFieldSchema = z.looseObject({
  name: z.string().min(1),
  label: z.string().optional(),
  type: z.string().min(1),
  soapType: z.string().optional(),
  nillable: z.boolean().optional(),
  calculated: z.boolean().optional(),
  calculatedFormula: z.string().nullish(),
  compoundFieldName: z.string().nullish(),
  custom: z.boolean().optional(),
  length: z.number().optional(),
  precision: z.number().optional(),
  scale: z.number().optional(),
  referenceTo: z.array(z.string()).nullish(),
  externalId: z.boolean().nullish(),
  picklistValues: z.array(z.looseObject({ value: z.string(), active: z.boolean().optional() })).nullish(),
});

export const describeAnswerSchema = z.looseObject({
  name: z.string().min(1),
  label: z.string().optional(),
  custom: z.boolean().optional(),
  queryable: z.boolean().optional(),
  fields: z.array(describeFieldSchema),
});

export type DescribeField = z.infer<typeof describeFieldSchema>;
export type SObjectDescribe = z.infer<typeof describeAnswerSchema>;

/** Which fields an object's stream reads, as config/streams.yaml declares it. */
export type FieldSelection = 'all' | readonly string[] | { all_except: readonly string[] };

/** The part of an object's declaration (streams/config/schema.ts) that field resolution reads. */
export interface ObjectFieldsConfig {
  object: string;
  fields: FieldSelection;
  /** Default SystemModstamp. */
  cursor?: string;
  /** Default true: IsDeleted is read (queryAll), for soft deletes in silver. */
  deletes?: boolean;
}

export type FieldOutcome = { kind: SfKind } | { skip: string };

/** Describe types whose values have no single column shape, and why they are left out. */
const SKIPPED_TYPES: Record<string, string> = {
  address: 'compound address: its components are read instead',
  location: 'compound geolocation: its latitude and longitude are read instead',
  base64: 'binary content: read through the record blob URL, not a query',
  anytype: 'values of varying type (history objects)',
  complexvalue: 'structured metadata value, not a query column',
  json: 'structured value, not a query column',
};

const KINDS: Record<string, SfKind> = {
  id: 'id',
  reference: 'ref',
  string: 'text',
  textarea: 'text',
  email: 'text',
  phone: 'text',
  url: 'text',
  picklist: 'text',
  multipicklist: 'text',
  combobox: 'text',
  encryptedstring: 'text',
  boolean: 'bool',
  int: 'int',
  long: 'int',
  double: 'double',
  currency: 'double',
  percent: 'double',
  date: 'date',
  datetime: 'datetime',
  time: 'time',
};

/** The SfKind of a describe field, or why it cannot be a column. */
export function fieldKind(field: Pick<DescribeField, 'type'>): FieldOutcome {
  const type = field.type.toLowerCase();
  const kind = KINDS[type];
  if (kind) return { kind };
  return { skip: SKIPPED_TYPES[type] ?? `type ${field.type} is not supported yet` };
}

/** The silver column type of a describe field (undefined for a field that is never a column). */
export function columnTypeOf(field: Pick<DescribeField, 'type'>): ColumnType | undefined {
  const outcome = fieldKind(field);
  return 'kind' in outcome ? sfColumnType(outcome.kind) : undefined;
}

export const isCompoundField = (field: Pick<DescribeField, 'type'>): boolean => {
  const type = field.type.toLowerCase();
  return type === 'address' || type === 'location';
};

export interface ResolvedFields {
  /** What to read and store, in order: Id first, the cursor and IsDeleted always among them. */
  specs: SfFieldSpec[];
  /** Listed in the file, absent from describe: missing in the org or hidden by field-level security. */
  unreadable: string[];
  /** Selected formula fields: they change without SystemModstamp moving. */
  formulas: string[];
  /** Fields describe offers that are not read, with the reason (compounds, binary, ...). */
  skipped: { field: string; reason: string }[];
}

/**
 * The fields an object's stream reads, from its declaration and the live describe. Names are
 * matched case-insensitively (as SOQL does) and come out spelled as describe spells them.
 */
export function resolveFields(config: ObjectFieldsConfig, describe: SObjectDescribe): ResolvedFields {
  const byName = new Map(describe.fields.map((f) => [f.name.toLowerCase(), f]));
  const componentsOf = new Map<string, DescribeField[]>();
  for (const f of describe.fields) {
    if (!f.compoundFieldName) continue;
    const key = f.compoundFieldName.toLowerCase();
    componentsOf.set(key, [...(componentsOf.get(key) ?? []), f]);
  }
  const cursor = config.cursor ?? 'SystemModstamp';
  const specs: SfFieldSpec[] = [];
  const chosen = new Set<string>();
  const columns = new Map<string, string>();
  const unreadable: string[] = [];
  const skipped: { field: string; reason: string }[] = [];
  const skippedNames = new Set<string>();
  const skip = (field: string, reason: string) => {
    if (skippedNames.has(field.toLowerCase())) return;
    skippedNames.add(field.toLowerCase());
    skipped.push({ field, reason });
  };

  const take = (field: DescribeField) => {
    const key = field.name.toLowerCase();
    if (chosen.has(key)) return;
    const outcome = fieldKind(field);
    if ('skip' in outcome) {
      // A compound named on purpose stands for its parts.
      const parts = componentsOf.get(key);
      if (isCompoundField(field) && parts) parts.forEach(take);
      skip(field.name, outcome.skip);
      return;
    }
    const column = columnName(field.name);
    const clash = columns.get(column);
    if (clash !== undefined) {
      skip(field.name, `its column ${column} is already ${clash}'s: rename one of them in Salesforce, or leave one out`);
      return;
    }
    chosen.add(key);
    columns.set(column, field.name);
    specs.push({ field: field.name, kind: outcome.kind });
  };

  const excluded = new Set<string>();
  if (config.fields === 'all' || !Array.isArray(config.fields)) {
    if (config.fields !== 'all') for (const name of (config.fields as { all_except: readonly string[] }).all_except) excluded.add(name.toLowerCase());
    for (const field of describe.fields) {
      const key = field.name.toLowerCase();
      if (excluded.has(key) || (field.compoundFieldName && excluded.has(field.compoundFieldName.toLowerCase()))) {
        skip(field.name, 'excluded by all_except');
        continue;
      }
      // Under `all`, a compound's parts are taken where describe lists them.
      if (isCompoundField(field)) {
        skip(field.name, SKIPPED_TYPES[field.type.toLowerCase()] ?? 'compound field');
        continue;
      }
      take(field);
    }
  } else {
    for (const name of config.fields as readonly string[]) {
      const field = byName.get(name.toLowerCase());
      if (!field) {
        if (!unreadable.includes(name)) unreadable.push(name);
        continue;
      }
      take(field);
    }
  }

  // The key, the cursor and the delete flag are read whatever the selection says.
  const id = byName.get('id');
  if (id && !chosen.has('id')) {
    chosen.add('id');
    columns.set('id', id.name);
    specs.unshift({ field: id.name, kind: 'id' });
  }
  const always = [cursor, ...(config.deletes === false ? [] : ['IsDeleted'])];
  for (const name of always) {
    const field = byName.get(name.toLowerCase());
    if (field) take(field);
    else if (!unreadable.includes(name)) unreadable.push(name);
  }
  for (const spec of specs) if (spec.field === 'Id' || spec.field.toLowerCase() === cursor.toLowerCase()) spec.required = true;

  const formulas = specs.filter((s) => byName.get(s.field.toLowerCase())?.calculated === true).map((s) => s.field);
  return { specs, unreadable, formulas, skipped };
}

/** Silver column names of resolved specs (for `streams list`, `discover` and schema evolution). */
export function specColumns(specs: readonly SfFieldSpec[]): { field: string; column: string; type: ColumnType }[] {
  return specs.map((s) => ({ field: s.field, column: columnName(s.field), type: sfColumnType(s.kind) }));
}
