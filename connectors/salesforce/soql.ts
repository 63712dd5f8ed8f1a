import { PermanentError } from '../../lib/errors';

/**
 * SOQL for keyset pagination. SystemModstamp is not unique (bulk imports and nightly jobs give
 * thousands of records one value), so a position is (SystemModstamp, Id) and the next page starts
 * strictly after it: `(SystemModstamp > :ts) OR (SystemModstamp = :ts AND Id > :id)`, ordered the
 * same way. A position without an id (the start of a lookback window) reads `>= :ts`.
 */

export interface KeysetPosition {
  /** ISO-8601 UTC. */
  ts: string;
  /** Null at the start of a window: every record at `ts` is included. */
  id: string | null;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/**
 * The query resource a stream reads with: `queryAll` (REST `/queryAll`, Bulk operation `queryAll`)
 * also answers records in the recycle bin, which a stream that tracks deletes needs; `query` never
 * answers them, so a stream with `deletes: false` reads only live records.
 */
export function queryResource(stream: { deletes?: boolean }): 'query' | 'queryAll' {
  return stream.deletes === false ? 'query' : 'queryAll';
}

function checkName(name: string, what: string): string {
  if (!NAME.test(name)) throw new PermanentError('InvalidRequest', `Invalid Salesforce ${what} name "${name}" in a stream declaration.`);
  return name;
}

/**
 * A SOQL datetime literal. Salesforce audit fields have second precision; should a value carry
 * milliseconds, flooring to the second can only make a page re-read a record, never skip one.
 */
export function soqlDateTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new PermanentError('InvalidRequest', `Invalid cursor timestamp "${iso}".`);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function soqlId(id: string): string {
  // Ids go into the query text: accept nothing but an id, so a corrupted cursor cannot inject SOQL.
  if (!ID.test(id)) throw new PermanentError('InvalidRequest', `Invalid Salesforce id "${id}" in a stream cursor.`);
  return `'${id}'`;
}

export function keysetQuery(opts: { object: string; fields: readonly string[]; cursorField: string; primaryKey: string; after: KeysetPosition | null; limit: number }): string {
  const object = checkName(opts.object, 'object');
  const ts = checkName(opts.cursorField, 'field');
  const pk = checkName(opts.primaryKey, 'field');
  const select = [...new Set([pk, ts, ...opts.fields])].map((f) => checkName(f, 'field')).join(', ');
  let where = '';
  if (opts.after) {
    const at = soqlDateTime(opts.after.ts);
    where = opts.after.id === null ? ` WHERE ${ts} >= ${at}` : ` WHERE (${ts} > ${at}) OR (${ts} = ${at} AND ${pk} > ${soqlId(opts.after.id)})`;
  }
  return `SELECT ${select} FROM ${object}${where} ORDER BY ${ts} ASC, ${pk} ASC LIMIT ${opts.limit}`;
}

/** Everything, for a Bulk API 2.0 job (unordered: Bulk does not promise an order). */
export function fullQuery(opts: { object: string; fields: readonly string[]; cursorField: string; primaryKey: string }): string {
  const select = [...new Set([opts.primaryKey, opts.cursorField, ...opts.fields])].map((f) => checkName(f, 'field')).join(', ');
  return `SELECT ${select} FROM ${checkName(opts.object, 'object')}`;
}

export function countQuery(object: string): string {
  return `SELECT COUNT() FROM ${checkName(object, 'object')}`;
}

/** Orders positions as the query does: by time, then by id (codepoint order, as Salesforce ids sort). */
export function comparePositions(a: KeysetPosition, b: KeysetPosition): number {
  const d = Date.parse(a.ts) - Date.parse(b.ts);
  if (d !== 0) return d;
  if (a.id === b.id) return 0;
  if (a.id === null) return -1;
  if (b.id === null) return 1;
  return a.id < b.id ? -1 : 1;
}
