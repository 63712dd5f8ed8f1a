import { z } from 'zod';
import type { ColumnDef, ColumnType, Row } from '../connectors/warehouse/types';

/**
 * Salesforce fields as data: one spec per field gives the SOQL field list, the zod schema, the
 * silver column and the row value, so the four objects cannot drift apart.
 *
 * Records arrive in two shapes: REST JSON (typed values, datetimes `2024-01-02T03:04:05.000+0000`)
 * and Bulk API 2.0 CSV (every value a string, null as an empty field, datetimes `…Z`). The schemas
 * accept both and output one normalised shape, so bronze can keep each exactly as received.
 */

export type SfKind = 'id' | 'ref' | 'text' | 'bool' | 'double' | 'int' | 'datetime' | 'date';
export type SfValue = string | number | boolean | null;

export interface SfFieldSpec {
  /** API name, e.g. `SystemModstamp`. */
  field: string;
  kind: SfKind;
  /** A record without it is invalid (kept in bronze, dead-lettered). */
  required?: boolean;
}

/** A validated record: normalised values by API name (datetimes as ISO-8601 UTC with ms). */
export interface SfRecord {
  Id: string;
  SystemModstamp: string;
  [field: string]: SfValue;
}

/** `SystemModstamp` → `system_modstamp`, `Account_Name__c` → `account_name`. */
export function columnName(field: string): string {
  return field
    .replace(/__c$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/_+/g, '_');
}

const ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** CSV writes null as an empty field; REST never sends '' for a Salesforce value, so '' is null. */
const blankToNull = (v: unknown) => (v === undefined || v === '' ? null : v);

/** ISO-8601 UTC with milliseconds, or undefined when the text is not a Salesforce datetime. */
export function normalizeSfDateTime(text: string): string | undefined {
  if (!DATE_TIME.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

const dateTime = z.string().transform((s, ctx) => {
  const iso = normalizeSfDateTime(s);
  if (iso === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a Salesforce datetime: ${JSON.stringify(s.slice(0, 40))}` });
    return z.NEVER;
  }
  return iso;
});

const schemas: Record<SfKind, z.ZodType<SfValue>> = {
  id: z.string().regex(ID, 'not a Salesforce id'),
  // Reference fields are kept even if odd: refusing the whole record for a bad lookup loses more than it protects.
  ref: z.string(),
  text: z.union([z.string(), z.number().transform(String)]),
  bool: z.union([z.boolean(), z.enum(['true', 'false', 'TRUE', 'FALSE']).transform((s) => s.toLowerCase() === 'true')]),
  double: z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?(E[+-]?\d+)?$/i, 'not a number').transform(Number)]),
  int: z.union([z.number().int(), z.string().regex(/^-?\d+$/, 'not a whole number').transform(Number)]),
  datetime: dateTime,
  date: z.string().regex(DATE, 'not a date (YYYY-MM-DD)'),
};

function fieldSchema(spec: SfFieldSpec): z.ZodType<SfValue> {
  const base = schemas[spec.kind];
  return spec.required ? base : z.preprocess(blankToNull, base.nullable());
}

/** Builds the record schema; Id and SystemModstamp are always required (no key, no cursor). */
export function recordSchema(specs: readonly SfFieldSpec[]): z.ZodType<SfRecord> {
  const shape: Record<string, z.ZodType<SfValue>> = {};
  for (const spec of specs) shape[spec.field] = fieldSchema(spec);
  return z
    .object({ ...shape, Id: z.string().regex(ID, 'not a Salesforce id'), SystemModstamp: dateTime })
    .transform((r): SfRecord => r as SfRecord);
}

const COLUMN_TYPES: Record<SfKind, ColumnType> = {
  id: 'varchar',
  ref: 'varchar',
  text: 'varchar',
  bool: 'boolean',
  double: 'double',
  int: 'bigint',
  datetime: 'timestamp',
  // Date-only values stay ISO text: a timestamp would invent a time zone the data does not have.
  date: 'varchar',
};

export function silverColumns(specs: readonly SfFieldSpec[]): ColumnDef[] {
  return specs.map((s) => ({ name: columnName(s.field), type: COLUMN_TYPES[s.kind], ...(s.field === 'Id' ? { nullable: false } : {}) }));
}

/** The silver row of a validated record; `_deleted` drives the merge's soft delete. */
export function toSilverRow(specs: readonly SfFieldSpec[], record: SfRecord): Row {
  const row: Row = {};
  for (const s of specs) row[columnName(s.field)] = record[s.field] ?? null;
  row._deleted = record.IsDeleted === true;
  return row;
}

/** Epoch ms of a normalised datetime (or of a Date/ISO value read back from the warehouse). */
export function epochMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
