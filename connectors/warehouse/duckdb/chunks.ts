import os from 'node:os';
import { BIGINT, BOOLEAN, DOUBLE, DuckDBDataChunk, DuckDBTimestampValue, DuckDBVarCharType, TIMESTAMP, VARCHAR } from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBType, DuckDBValue, DuckDBVector } from '@duckdb/node-api';
import { PermanentError } from '../../../lib/errors';
import type { PhysicalColumn } from '../table-defs';
import type { ColumnType } from '../types';
import { toBigInt, toBoolean, toDate, toDouble, toJsonText, toVarchar } from '../values';

/**
 * Typed DuckDB data chunks built straight from the flows' values, for the Appender. Numbers,
 * booleans and timestamps are written into the vectors' memory; only text crosses into DuckDB one
 * value at a time. Chunks hold at most 2,048 rows (DuckDB's vector size).
 */
export const CHUNK_ROWS = 2048;

const CHUNK_TYPES: Record<ColumnType, DuckDBType> = {
  varchar: VARCHAR,
  bigint: BIGINT,
  double: DOUBLE,
  boolean: BOOLEAN,
  timestamp: TIMESTAMP,
  // JSON is VARCHAR underneath. Typed plain VARCHAR, the Appender would cast each text to a JSON
  // string value ("{\"a\":1}"); with the alias it stores the text as given.
  json: DuckDBVarCharType.create('JSON'),
};

/**
 * A column's values for rows [start, start + n): `cell(i)` answers row i's value, converted to the
 * column type; `text(i)` answers text already in its stored form (e.g. a payload's JSON).
 */
export type ColumnSource =
  | { kind: 'cells'; cell: (row: number) => unknown }
  | { kind: 'text'; text: (row: number) => string }
  | { kind: 'constant'; value: DuckDBValue };

function converter(c: PhysicalColumn): (v: unknown) => DuckDBValue {
  switch (c.type) {
    case 'varchar':
      return (v) => (typeof v === 'string' ? v : toVarchar(c.name, v));
    case 'bigint':
      return (v) => toBigInt(c.name, v);
    case 'double':
      return (v) => toDouble(c.name, v);
    case 'boolean':
      return (v) => toBoolean(c.name, v);
    case 'timestamp':
      return (v) => {
        const ms = v instanceof Date ? v.getTime() : NaN;
        return new DuckDBTimestampValue(BigInt(ms === ms ? ms : toDate(c.name, v).getTime()) * 1000n);
      };
    case 'json':
      return (v) => toJsonText(c.name, v);
  }
}

export function timestampValue(d: Date): DuckDBTimestampValue {
  return new DuckDBTimestampValue(BigInt(d.getTime()) * 1000n);
}

const LITTLE_ENDIAN = os.endianness() === 'LE';
const TWO_32 = 4294967296;

/**
 * BIGINT and TIMESTAMP vectors keep their items in a BigInt64Array; going through setItem costs a
 * BigInt per value, which at a million rows is mostly garbage collection. Safe integers are written
 * as two 32-bit halves into the same memory instead. Falls back to setItem if the vector does not
 * look as expected (another @duckdb/node-api version).
 */
function int64Halves(vector: DuckDBVector): Int32Array | undefined {
  if (!LITTLE_ENDIAN) return undefined;
  const items = (vector as unknown as { items?: unknown }).items;
  return items instanceof BigInt64Array ? new Int32Array(items.buffer, items.byteOffset, items.length * 2) : undefined;
}

function writeInt64(halves: Int32Array, i: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  halves[2 * i] = (value - hi * TWO_32) | 0;
  halves[2 * i + 1] = hi | 0;
}

const digits = (s: string, from: number, n: number): number => {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
};

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysInMonth = (y: number, mo: number): number => (mo === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0) ? 29 : MONTH_DAYS[mo - 1]);

/**
 * `2024-01-01T10:00:00.000Z`, the shape toISOString and most APIs write, read without Date.parse
 * (a third of a bronze load's time went there). Anything else answers NaN and takes the general path.
 */
export function isoUtcMs(s: string): number {
  if (s.length !== 24 || s.charCodeAt(23) !== 90 /* Z */ || s.charCodeAt(10) !== 84 /* T */ || s.charCodeAt(19) !== 46 /* . */) return NaN;
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  const y = digits(s, 0, 4);
  if (!(mo >= 1 && mo <= 12 && d >= 1 && h <= 23 && mi <= 59 && sec <= 59) || s[4] !== '-' || s[7] !== '-' || s[13] !== ':' || s[16] !== ':') return NaN;
  // Past the month's end (2023-02-30) takes the general path, whatever Date.parse makes of it.
  if (d > 28 && d > daysInMonth(y, mo)) return NaN;
  return Date.UTC(y, mo - 1, d, h, mi, sec, digits(s, 20, 3));
}

/** Epoch milliseconds of a timestamp cell (NaN-free), or undefined when it is not one. */
function epochMs(c: PhysicalColumn, v: unknown): number {
  if (v instanceof Date) {
    const ms = v.getTime();
    if (ms === ms) return ms;
  } else if (typeof v === 'string') {
    const ms = isoUtcMs(v);
    if (ms === ms) return ms;
  }
  return toDate(c.name, v).getTime();
}

/** Builds the chunk of rows [start, start + n). Throws PermanentError naming the row on a bad value. */
export function buildChunk(columns: readonly PhysicalColumn[], sources: readonly ColumnSource[], start: number, n: number): DuckDBDataChunk {
  const chunk = DuckDBDataChunk.create(
    columns.map((c) => CHUNK_TYPES[c.type]),
    n,
  );
  // Written straight into the vectors: no per-column arrays to allocate and collect.
  for (let ci = 0; ci < columns.length; ci++) {
    const c = columns[ci];
    const src = sources[ci];
    const vector = chunk.getColumnVector(ci);
    if (src.kind === 'constant') for (let i = 0; i < n; i++) vector.setItem(i, src.value);
    else if (src.kind === 'text') for (let i = 0; i < n; i++) vector.setItem(i, src.text(start + i));
    else {
      const halves = c.type === 'bigint' || c.type === 'timestamp' ? int64Halves(vector) : undefined;
      const convert = converter(c);
      for (let i = 0; i < n; i++) {
        const v = src.cell(start + i);
        if (v === null || v === undefined) {
          if (!c.nullable) throw new PermanentError('InvalidRequest', `Row ${start + i}: column "${c.name}" must not be null.`);
          vector.setItem(i, null);
        } else if (halves && c.type === 'timestamp') writeInt64(halves, i, epochMs(c, v) * 1000);
        else if (halves && typeof v === 'number' && Number.isSafeInteger(v)) writeInt64(halves, i, v);
        else vector.setItem(i, convert(v));
      }
    }
    vector.flush();
  }
  return chunk;
}

/**
 * Converts and appends `rows` rows chunk by chunk, then flushes. Built one chunk at a time, the
 * converted values (payload texts above all) die young instead of surviving into the old heap.
 */
export function appendRows(appender: DuckDBAppender, columns: readonly PhysicalColumn[], sources: readonly ColumnSource[], rows: number): void {
  for (let start = 0; start < rows; start += CHUNK_ROWS) appender.appendDataChunk(buildChunk(columns, sources, start, Math.min(CHUNK_ROWS, rows - start)));
  appender.flushSync();
}
