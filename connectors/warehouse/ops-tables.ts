import type { PhysicalColumn, PhysicalTable } from './table-defs';
import type { ColumnType } from './types';

/**
 * The ops tables, in their current shape: the one definition both adapters read and write.
 * Changing a shape means adding a migration (migrations.ts) that brings existing warehouses to it.
 */

const col = (name: string, type: ColumnType, nullable = false): PhysicalColumn => ({ name, type, nullable });
const ops = (name: string, key: string[], columns: PhysicalColumn[]): PhysicalTable => ({ layer: 'ops', name, key, columns });

export const SCHEMA_MIGRATIONS = ops('schema_migrations', ['version'], [
  col('version', 'bigint'),
  col('name', 'varchar'),
  col('applied_at', 'timestamp'),
]);

export const SYNC_STATE = ops('sync_state', ['stream'], [
  col('stream', 'varchar'),
  col('cursor', 'json'),
  col('updated_at', 'timestamp'),
]);

export const SYNC_RUNS = ops('sync_runs', ['run_id'], [
  col('run_id', 'varchar'),
  col('flow', 'varchar'),
  col('stream', 'varchar'),
  col('started_at', 'timestamp'),
  col('finished_at', 'timestamp', true),
  col('status', 'varchar'),
  col('read_count', 'bigint'),
  col('written_count', 'bigint'),
  col('sent_count', 'bigint'),
  col('rejected_count', 'bigint'),
  col('cursor_before', 'json', true),
  col('cursor_after', 'json', true),
  col('api_calls_used', 'bigint', true),
  col('error', 'varchar', true),
  col('updated_at', 'timestamp'),
]);

export const DEAD_LETTERS = ops('dead_letters', ['id'], [
  col('id', 'varchar'),
  col('flow', 'varchar'),
  col('stream', 'varchar'),
  col('record_key', 'varchar'),
  col('reason', 'varchar'),
  col('payload', 'json', true),
  col('recorded_at', 'timestamp'),
]);

export const CHECK_RESULTS = ops('check_results', ['check_name', 'table_name', 'checked_at'], [
  col('check_name', 'varchar'),
  col('table_name', 'varchar'),
  col('passed', 'boolean'),
  col('observed', 'double'),
  col('detail', 'varchar', true),
  col('checked_at', 'timestamp'),
]);

/** Ledger of loaded bronze batches: makes "was this batch id loaded?" one indexed lookup. */
export const BRONZE_BATCHES = ops('bronze_batches', ['table_name', 'batch_id'], [
  col('table_name', 'varchar'),
  col('batch_id', 'varchar'),
  col('row_count', 'bigint'),
  col('ingested_at', 'timestamp'),
  col('loaded_at', 'timestamp'),
]);

/**
 * Durable alert state (migration 2): one row per problem key. `open` rows are the problems alerted
 * and not yet recovered (so each is alerted once); `observed` rows remember a progress reading and
 * since when it has not moved (backfill stall detection). A recovered problem becomes `resolved`.
 */
export const ALERT_STATE = ops('alert_state', ['alert_key'], [
  col('alert_key', 'varchar'),
  col('scope', 'varchar'),
  col('status', 'varchar'),
  col('title', 'varchar'),
  col('detail', 'varchar', true),
  col('link', 'varchar', true),
  col('since', 'timestamp'),
  col('last_seen', 'timestamp'),
  col('notified_at', 'timestamp', true),
  col('resolved_at', 'timestamp', true),
  col('updated_at', 'timestamp'),
]);

/**
 * Violations of the tracking plan (migration 3): one row per (call, violation type, JSON path), so
 * re-processing a call records nothing twice. `event` names the call as people read it (the track's
 * event, or e.g. `page "Pricing"`); `sample` is already masked (tracking/mask.ts).
 */
export const TRACKING_VIOLATIONS = ops('tracking_violations', ['id'], [
  col('id', 'varchar'),
  col('event', 'varchar'),
  col('call_type', 'varchar'),
  col('message_id', 'varchar'),
  col('violation_type', 'varchar'),
  col('path', 'varchar'),
  col('sample', 'varchar', true),
  col('detail', 'varchar', true),
  col('outcome', 'varchar'),
  col('plan_version', 'varchar', true),
  col('received_at', 'timestamp'),
  col('recorded_at', 'timestamp'),
]);

/**
 * Source schema changes (migration 4): one row per change of a stream's fields (a field added,
 * gone, or retyped) with what the platform did (column added and object re-read, column kept,
 * stream stopped). The id is deterministic per stream schema version, so a retried run adds nothing.
 */
export const SCHEMA_CHANGES = ops('schema_changes', ['id'], [
  col('id', 'varchar'),
  col('stream', 'varchar'),
  col('object_name', 'varchar'),
  col('change', 'varchar'),
  col('field', 'varchar'),
  col('column_name', 'varchar'),
  col('from_type', 'varchar', true),
  col('to_type', 'varchar', true),
  col('action', 'varchar'),
  col('detail', 'varchar'),
  col('detected_at', 'timestamp'),
]);

/** The fields last read per stream (migration 4): what the next describe is compared with. */
export const STREAM_SCHEMAS = ops('stream_schemas', ['stream'], [
  col('stream', 'varchar'),
  col('version', 'bigint'),
  col('fields', 'json'),
  col('updated_at', 'timestamp'),
]);

export const OPS_TABLES: readonly PhysicalTable[] = [SCHEMA_MIGRATIONS, SYNC_STATE, SYNC_RUNS, DEAD_LETTERS, CHECK_RESULTS, BRONZE_BATCHES, ALERT_STATE, TRACKING_VIOLATIONS, SCHEMA_CHANGES, STREAM_SCHEMAS];
