import { PermanentError } from '../../lib/errors';

/**
 * The SQL of the Segment reader, kept in one place because it must mean the same on BigQuery and on
 * goccy/bigquery-emulator (GoogleSQL translated to SQLite). What the emulator does not support or
 * gets wrong, and this SQL therefore avoids:
 * - row comparisons `(timestamp, id) > (@ts, @id)`: written out as `ts > @ts OR (ts = @ts AND id > @id)`;
 * - INT64 query parameters (the Node client sends them as JSON numbers, the emulator wants strings):
 *   LIMIT is a validated literal;
 * - TIMESTAMP parameters given as strings with `types: TIMESTAMP` (the emulator binds NULL and every
 *   comparison is silently false): timestamps are passed as BigQueryTimestamp values.
 * QUALIFY, ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...), CTEs and COUNT(DISTINCT) work on both.
 */
export interface KeysetPosition {
  /** Canonical UTC timestamp of the last row read. */
  timestamp: string;
  /** Segment message id of the last row read. */
  id: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,1023}$/;
const PROJECT = /^[a-z][a-z0-9-]{4,61}[a-z0-9]$|^[a-z0-9.-]+:[a-z][a-z0-9-]{4,61}[a-z0-9]$/;
/** A page bigger than this holds too much in one activity's memory anyway. */
export const MAX_PAGE_ROWS = 100_000;

export function tablePath(projectId: string, dataset: string, table: string): string {
  if (!PROJECT.test(projectId)) throw new PermanentError('ConfigError', `BigQuery project id ${JSON.stringify(projectId)} is not valid (lower-case letters, digits and hyphens, 6 to 30 characters)`);
  if (!IDENT.test(dataset)) throw new PermanentError('ConfigError', `BigQuery dataset name ${JSON.stringify(dataset)} is not valid (letters, digits and underscores)`);
  if (!IDENT.test(table)) throw new PermanentError('ConfigError', `BigQuery table name ${JSON.stringify(table)} is not valid (letters, digits and underscores)`);
  return `\`${projectId}.${dataset}.${table}\``;
}

export function pageLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_ROWS) throw new PermanentError('InvalidRequest', `page limit must be a whole number from 1 to ${MAX_PAGE_ROWS}, got ${limit}`);
  return limit;
}

/**
 * One keyset page of a time window with duplicate ids removed. Deduplication happens over the
 * whole window before the keyset condition, so every id of the window is returned exactly once
 * whatever the page boundaries: the kept copy (latest loaded_at, then uuid_ts, then timestamp) has
 * one fixed (timestamp, id) position, and (timestamp, id) is a total order on the deduplicated rows.
 * An id whose copies carry timestamps in two different windows is returned once per window; the
 * backfill's destinations are idempotent on id (Amplitude insert_id, warehouse merge).
 * With `limit` null the query returns the rest of the window, to be paged with page tokens.
 */
export function keysetPageSql(path: string, limit: number | null, hasAfter: boolean): string {
  return [
    'WITH deduplicated AS (',
    `  SELECT * FROM ${path}`,
    '  WHERE timestamp >= @window_start AND timestamp < @window_end',
    '  QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY loaded_at DESC, uuid_ts DESC, timestamp DESC) = 1',
    ')',
    'SELECT * FROM deduplicated',
    ...(hasAfter ? ['WHERE timestamp > @after_timestamp OR (timestamp = @after_timestamp AND id > @after_id)'] : []),
    'ORDER BY timestamp, id',
    ...(limit === null ? [] : [`LIMIT ${pageLimit(limit)}`]),
  ].join('\n');
}

export function countSql(path: string): string {
  return `SELECT COUNT(*) AS row_count, COUNT(DISTINCT id) AS distinct_ids FROM ${path} WHERE timestamp >= @window_start AND timestamp < @window_end`;
}

export function timestampRangeSql(path: string): string {
  return `SELECT MIN(timestamp) AS min_timestamp, MAX(timestamp) AS max_timestamp, COUNT(*) AS row_count FROM ${path}`;
}

/**
 * One row per id of a time window, with only what the parity report needs: the id, its timestamp
 * and the column that names the call (`label`: a track's event, a page's or screen's name). The
 * kept copy of a duplicated id is the one the backfill keeps (latest loaded_at, then uuid_ts).
 */
export function callIdsSql(path: string, labelColumn: string | null): string {
  if (labelColumn !== null && !IDENT.test(labelColumn)) throw new PermanentError('InvalidRequest', `not a column name: ${JSON.stringify(labelColumn)}`);
  return [
    `SELECT id, timestamp, ${labelColumn ?? 'CAST(NULL AS STRING)'} AS label FROM ${path}`,
    '  WHERE timestamp >= @window_start AND timestamp < @window_end AND id IS NOT NULL',
    '  QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY loaded_at DESC, uuid_ts DESC, timestamp DESC) = 1',
  ].join('\n');
}
