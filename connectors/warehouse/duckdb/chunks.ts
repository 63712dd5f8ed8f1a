import { BIGINT, BOOLEAN, DOUBLE, DuckDBDataChunk, DuckDBTimestampValue, DuckDBVarCharType, TIMESTAMP, VARCHAR } from '@duckdb/node-api';
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
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
      return (v) => new DuckDBTimestampValue(BigInt(toDate(c.name, v).getTime()) * 1000n);
    case 'json':
      return (v) => toJsonText(c.name, v);
  }
}

export function timestampValue(d: Date): DuckDBTimestampValue {
  return new DuckDBTimestampValue(BigInt(d.getTime()) * 1000n);
}

/** Builds the chunk of rows [start, start + n). Throws PermanentError naming the row on a bad value. */
export function buildChunk(columns: readonly PhysicalColumn[], sources: readonly ColumnSource[], start: number, n: number): DuckDBDataChunk {
  const values: DuckDBValue[][] = [];
  for (let ci = 0; ci < columns.length; ci++) {
    const c = columns[ci];
    const src = sources[ci];
    const out: DuckDBValue[] = new Array<DuckDBValue>(n);
    if (src.kind === 'constant') out.fill(src.value);
    else if (src.kind === 'text') for (let i = 0; i < n; i++) out[i] = src.text(start + i);
    else {
      const convert = converter(c);
      for (let i = 0; i < n; i++) {
        const v = src.cell(start + i);
        if (v === null || v === undefined) {
          if (!c.nullable) throw new PermanentError('InvalidRequest', `Row ${start + i}: column "${c.name}" must not be null.`);
          out[i] = null;
        } else out[i] = convert(v);
      }
    }
    values.push(out);
  }
  const chunk = DuckDBDataChunk.create(
    columns.map((c) => CHUNK_TYPES[c.type]),
    n,
  );
  chunk.setColumns(values);
  return chunk;
}

/** All chunks of `rows` rows. */
export function buildChunks(columns: readonly PhysicalColumn[], sources: readonly ColumnSource[], rows: number): DuckDBDataChunk[] {
  const chunks: DuckDBDataChunk[] = [];
  for (let start = 0; start < rows; start += CHUNK_ROWS) chunks.push(buildChunk(columns, sources, start, Math.min(CHUNK_ROWS, rows - start)));
  return chunks;
}
