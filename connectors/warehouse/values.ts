import { PermanentError } from '../../lib/errors';
import type { CellValue, ColumnType, JsonValue, Row } from './types';
import type { PhysicalColumn } from './table-defs';

/**
 * Conversions between what flows hand the warehouse (CellValue) and what the engines store. Writes
 * go through one canonical text per type (the SQL casts it), reads come back as the same JS shapes
 * from both adapters: Date for timestamps, number (or bigint beyond 2^53) for integers, parsed JSON.
 */

function bad(column: string, type: ColumnType, value: unknown, why = ''): PermanentError {
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value) : String(value);
  return new PermanentError('InvalidRequest', `Column "${column}" (${type}) cannot take ${typeof value} ${shown}${why ? `: ${why}` : ''}.`);
}

export function toDate(column: string, value: unknown): Date {
  const d = value instanceof Date ? value : typeof value === 'number' ? new Date(value) : typeof value === 'string' ? new Date(parseTimestampText(value)) : undefined;
  if (!d || Number.isNaN(d.getTime())) throw bad(column, 'timestamp', value, 'expected a Date, epoch milliseconds or ISO-8601 text');
  return d;
}

/** ISO text without an offset is UTC here, as engines print it (`2024-01-01 10:00:00`). */
function parseTimestampText(s: string): number {
  // The common case (toISOString, most APIs) carries its zone: no need to look closer.
  if (s.charCodeAt(s.length - 1) === 90 /* Z */) return Date.parse(s);
  const t = s.trim();
  if (/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(t)) return Date.parse(`${t.replace(' ', 'T')}${t.length > 10 ? 'Z' : 'T00:00:00Z'}`);
  return Date.parse(t);
}

export function toBigInt(column: string, value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return BigInt(value.trim());
  if (typeof value === 'boolean') return value ? 1n : 0n;
  throw bad(column, 'bigint', value, 'expected a whole number');
}

export function toDouble(column: string, value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') {
    const n = Number(value);
    if (value.trim() !== '' && (!Number.isNaN(n) || value.trim() === 'NaN')) return n;
  }
  throw bad(column, 'double', value, 'expected a number');
}

export function toBoolean(column: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 1) return true;
  if (value === 'false' || value === 0) return false;
  throw bad(column, 'boolean', value, 'expected true or false');
}

export function toVarchar(column: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  throw bad(column, 'varchar', value, 'expected text');
}

/** JSON text of a json cell. Rejects what JSON cannot hold instead of storing something else. */
export function toJsonText(column: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw bad(column, 'json', typeof value === 'object' ? '[object]' : value, (err as Error).message);
  }
  if (text === undefined) throw bad(column, 'json', value, 'not representable as JSON');
  return text;
}

/** Canonical text of a cell for SQL parameters and staged files; null stays null. */
export function encodeCell(column: string, type: ColumnType, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'varchar':
      return toVarchar(column, value);
    case 'bigint':
      return toBigInt(column, value).toString();
    case 'double':
      return String(toDouble(column, value));
    case 'boolean':
      return toBoolean(column, value) ? 'true' : 'false';
    case 'timestamp':
      return toDate(column, value).toISOString();
    case 'json':
      return toJsonText(column, value);
  }
}

function toNumberOrBigInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** A value read from an engine, in the JS shape of its column type. */
export function decodeCell(type: ColumnType, value: unknown): CellValue {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'varchar':
      return typeof value === 'string' ? value : String(value);
    case 'bigint':
      if (typeof value === 'bigint') return toNumberOrBigInt(value);
      if (typeof value === 'number') return value;
      return toNumberOrBigInt(BigInt(String(value)));
    case 'double':
      return typeof value === 'number' ? value : Number(value);
    case 'boolean':
      return typeof value === 'boolean' ? value : value === 'true' || value === 1;
    case 'timestamp':
      return value instanceof Date ? value : new Date(parseTimestampText(String(value)));
    case 'json':
      return typeof value === 'string' ? (JSON.parse(value) as JsonValue) : (value as JsonValue);
  }
}

export function decodeRow(columns: readonly PhysicalColumn[], raw: Record<string, unknown>): Row {
  const row: Row = {};
  for (const c of columns) row[c.name] = decodeCell(c.type, raw[c.name]);
  return row;
}

/** A value of an ad-hoc query, typed by what the driver returned. */
export function decodeLoose(value: unknown): CellValue {
  if (typeof value === 'bigint') return toNumberOrBigInt(value);
  if (value === undefined) return null;
  if (value instanceof Date || value === null || typeof value !== 'object') return value as CellValue;
  return value as JsonValue;
}
