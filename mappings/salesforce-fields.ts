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

/** How a value is checked and stored; mappings/salesforce-describe.ts maps describe's types to these. */
export type SfKind = 'id' | 'ref' | 'text' | 'bool' | 'double' | 'int' | 'datetime' | 'date' | 'time';
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

const columnNames = new Map<string, string>();

/**
 * `SystemModstamp` → `system_modstamp`, `Account_Name__c` → `account_name`, a geolocation part
 * `Site_Location__Latitude__s` → `site_location_latitude`. Memoised: it runs per field per record.
 */
export function columnName(field: string): string {
  let name = columnNames.get(field);
  if (name === undefined) {
    name = field
      .replace(/__[cs]$/, '')
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
      .toLowerCase()
      .replace(/_+/g, '_');
    columnNames.set(field, name);
  }
  return name;
}

const ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?Z?$/;

/** ISO-8601 UTC with milliseconds, or undefined when the text is not a Salesforce datetime. */
export function normalizeSfDateTime(text: string): string | undefined {
  if (!DATE_TIME.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

const NUMBER = /^-?\d+(\.\d+)?(E[+-]?\d+)?$/i;
const INTEGER = /^-?\d+$/;

/** A field's value in the normalised shape, or the reason it is not one. */
type Check = (v: unknown) => SfValue | { error: string };
const fail = (error: string) => ({ error });

const CHECKS: Record<SfKind, Check> = {
  id: (v) => (typeof v === 'string' && ID.test(v) ? v : fail('not a Salesforce id')),
  // Reference fields are kept even if odd: refusing the whole record for a bad lookup loses more than it protects.
  ref: (v) => (typeof v === 'string' ? v : fail('expected text')),
  text: (v) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fail('expected text')),
  bool: (v) => {
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
    return fail('expected true or false');
  },
  double: (v) => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && NUMBER.test(v) ? Number(v) : fail('not a number')),
  int: (v) => (typeof v === 'number' && Number.isInteger(v) ? v : typeof v === 'string' && INTEGER.test(v) ? Number(v) : fail('not a whole number')),
  datetime: (v) => {
    const iso = typeof v === 'string' ? normalizeSfDateTime(v) : undefined;
    return iso ?? fail(`not a Salesforce datetime: ${JSON.stringify(typeof v === 'string' ? v.slice(0, 40) : v)}`);
  },
  date: (v) => (typeof v === 'string' && DATE.test(v) ? v : fail('not a date (YYYY-MM-DD)')),
  time: (v) => (typeof v === 'string' && TIME.test(v) ? v : fail('not a time of day (HH:MM:SS.sssZ)')),
};

/**
 * Builds the record schema; Id and the version field (SystemModstamp) are always required (no key, no cursor). One
 * zod step with a loop over the fields: a zod node per field costs several times more, and a full
 * initial load validates hundreds of thousands of records.
 */
export function recordSchema(specs: readonly SfFieldSpec[], opts: { versionField?: string } = {}): z.ZodType<SfRecord> {
  // Objects without SystemModstamp are versioned by LastModifiedDate (the stream's cursor).
  const version = opts.versionField ?? 'SystemModstamp';
  const checks = specs
    .filter((s) => s.field !== 'Id' && s.field !== version)
    .map((s) => ({ field: s.field, check: CHECKS[s.kind], required: s.required === true }));
  checks.unshift({ field: 'Id', check: CHECKS.id, required: true }, { field: version, check: CHECKS.datetime, required: true });
  return z.record(z.string(), z.unknown()).transform((raw, ctx): SfRecord => {
    const out: Record<string, SfValue> = {};
    for (const { field, check, required } of checks) {
      const v = raw[field];
      // CSV writes null as an empty field; REST never sends '' for a Salesforce value, so '' is null.
      if (v === undefined || v === null || v === '') {
        if (required) ctx.addIssue({ code: 'custom', path: [field], message: 'required' });
        out[field] = null;
        continue;
      }
      const value = check(v);
      if (typeof value === 'object' && value !== null) ctx.addIssue({ code: 'custom', path: [field], message: value.error });
      else out[field] = value;
    }
    return out as SfRecord;
  });
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
  // A time of day has no date: kept as Salesforce writes it (`13:30:00.000Z`).
  time: 'varchar',
};

export function sfColumnType(kind: SfKind): ColumnType {
  return COLUMN_TYPES[kind];
}

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
