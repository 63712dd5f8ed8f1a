import type { Dialect, Statement } from '../dialect';
import { Params, columnList, paramsOf, valuesRow } from '../sql';
import type { PhysicalColumn } from '../table-defs';

/**
 * Statements that move rows into a Databricks staging table: parameterized multi-row INSERTs for
 * small batches (the driver takes about 256 parameters per statement), a Volume file loaded with
 * COPY INTO for large ones. Each one is safe to run twice: a doubled INSERT chunk only repeats
 * rows the merge later keeps once (by ordinal), PUT overwrites, COPY INTO skips loaded files.
 */

export interface ChunkLimits {
  maxParams: number;
  /** Bytes of parameter values per statement, so that very long texts travel a few at a time. */
  maxBytes: number;
}

export const DEFAULT_LIMITS: ChunkLimits = { maxParams: 256, maxBytes: 4 * 1024 * 1024 };

function bytesOf(cells: readonly (string | null)[]): number {
  let n = 0;
  for (const c of cells) if (c !== null) n += c.length * 3;
  return n;
}

/** Splits rows into groups that each fit one statement (a single oversize row still gets its own). */
export function chunkRows(rows: readonly (readonly (string | null)[])[], limits: ChunkLimits, reservedParams = 0): (readonly (string | null)[])[][] {
  const chunks: (readonly (string | null)[])[][] = [];
  let current: (readonly (string | null)[])[] = [];
  let params = reservedParams;
  let bytes = 0;
  for (const row of rows) {
    const p = paramsOf(row);
    const b = bytesOf(row);
    if (current.length > 0 && (params + p > limits.maxParams || bytes + b > limits.maxBytes)) {
      chunks.push(current);
      current = [];
      params = reservedParams;
      bytes = 0;
    }
    if (reservedParams + p > limits.maxParams)
      throw new Error(`one staged row needs ${p} parameters, more than the ${limits.maxParams} a statement may carry`);
    current.push(row);
    params += p;
    bytes += b;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export function insertChunkSql(d: Dialect, table: string, columns: readonly PhysicalColumn[], rows: readonly (readonly (string | null)[])[]): Statement {
  const p = new Params(d);
  return p.statement(`INSERT INTO ${table} (${columnList(d, columns)}) VALUES ${rows.map((r) => valuesRow(p, columns, r)).join(', ')}`);
}

const SAFE_PATH = /^[A-Za-z0-9_/.\-]+$/;

function assertSafePath(p: string): string {
  if (!SAFE_PATH.test(p)) throw new Error(`unsafe staging path ${p}`);
  return p;
}

export function volumeFilePath(catalog: string, volume: string, file: string): string {
  return assertSafePath(`/Volumes/${catalog}/ops/${volume}/novade-staging/${file}`);
}

export function putSql(localFile: string, volumeFile: string): string {
  return `PUT '${assertSafePath(localFile)}' INTO '${assertSafePath(volumeFile)}' OVERWRITE`;
}

export function removeSql(volumeFile: string): string {
  return `REMOVE '${assertSafePath(volumeFile)}'`;
}

/** Lists a Volume directory: one row per entry (path, name, size, modification_time). */
export function listSql(volumeDir: string): string {
  return `LIST '${assertSafePath(volumeDir)}'`;
}

export function createVolumeSql(d: Dialect, volume: string): string {
  return `CREATE VOLUME IF NOT EXISTS ${d.schema('ops')}.${d.quote(volume)}`;
}

/**
 * Loads the staged JSON-lines file: every field is text (the same canonical text the INSERT path
 * binds as parameters) cast to the column type, so both paths stage identical values.
 */
export function copyIntoSql(d: Dialect, table: string, columns: readonly PhysicalColumn[], volumeFile: string): string {
  const select = columns.map((c) => `CAST(${d.quote(c.name)} AS ${d.type(c.type)}) AS ${d.quote(c.name)}`).join(', ');
  return (
    `COPY INTO ${table} FROM (SELECT ${select} FROM '${assertSafePath(volumeFile)}') ` +
    `FILEFORMAT = JSON FORMAT_OPTIONS ('primitivesAsString' = 'true', 'multiLine' = 'false') COPY_OPTIONS ('mergeSchema' = 'false')`
  );
}

/** JSON-lines text of staged rows; JSON escaping keeps newlines, quotes and unicode exact. */
export function jsonLines(columns: readonly PhysicalColumn[], rows: readonly (readonly (string | null)[])[]): string {
  const names = columns.map((c) => c.name);
  let out = '';
  for (const r of rows) {
    const o: Record<string, string | null> = {};
    for (let i = 0; i < names.length; i++) o[names[i]] = r[i];
    out += `${JSON.stringify(o)}\n`;
  }
  return out;
}
