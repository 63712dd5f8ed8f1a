import type { JsonValue } from '../../ports/json';

/**
 * The one warehouse seam every flow writes through (DESIGN.md, "Warehouse"). Two adapters implement
 * it: DuckDB (embedded default) and Databricks. Flows never write SQL of their own.
 *
 * Layers, same names in both adapters:
 *   bronze.<source>_<object>  append-only, as received, idempotent per batch id
 *   silver.<source>_<object>  typed current state, merged on the primary key, deletes kept as flags
 *   ops.*                     sync state, run audit, dead letters, check results, migrations
 */

export type ColumnType = 'varchar' | 'bigint' | 'double' | 'boolean' | 'timestamp' | 'json';

export interface ColumnDef {
  name: string;
  type: ColumnType;
  /** Keys are NOT NULL; everything else defaults to nullable. */
  nullable?: boolean;
}

/** A silver table: typed columns of the current state of one object, merged on `primaryKey`. */
export interface SilverTableDef {
  /** `<source>_<object>`, e.g. `salesforce_contact`; lives in schema `silver`. */
  name: string;
  columns: ColumnDef[];
  primaryKey: string[];
  /**
   * Column that orders versions of one key (e.g. system_modstamp). A merge keeps the row with the
   * highest version, so a re-delivered or out-of-order older batch never overwrites a newer one.
   */
  versionColumn: string;
}

/** A bronze table: key columns + the record as received. Lives in schema `bronze`, same name as silver. */
export interface BronzeTableDef {
  name: string;
  /** Key columns copied out of the payload, for reconciliation with silver. */
  keyColumns: ColumnDef[];
}

export type { JsonValue };

/** Values the adapters accept in a typed column. Timestamps as Date or ISO-8601 text; json as any JSON value. */
export type CellValue = string | number | bigint | boolean | Date | null | JsonValue;
export type Row = Record<string, CellValue>;

export interface BronzeRecord {
  /** Values of the bronze key columns (booleans for boolean key columns, Date or ISO text for timestamps). */
  keys: Record<string, string | number | boolean | Date | null>;
  /** The record as received, stored as its JSON text. */
  payload?: unknown;
  /**
   * The record's JSON text as received (e.g. an HTTP body), stored exactly as given instead of
   * serializing `payload` again (on a large load, serializing is a good part of the cost). Must be
   * valid JSON: a batch holding invalid text is refused. When set, `payload` is not read.
   */
  payloadJson?: string;
}

export interface BronzeBatch {
  /**
   * Deterministic id of this batch (e.g. `salesforce_contact:2024-01-01T00:00:00Z:003xx`). Appending a
   * batch id that is already loaded adds nothing.
   */
  batchId: string;
  records: BronzeRecord[];
  /** Defaults to now. */
  ingestedAt?: Date;
}

export interface AppendResult {
  inserted: number;
  /** True when the batch id had been loaded before and nothing was added. */
  alreadyLoaded: boolean;
}

export interface MergeOptions {
  /**
   * Column names set by the merge besides the table's columns:
   * `_deleted` (boolean, soft delete flag) and `_merged_at` (timestamp) exist in every silver table.
   */
  deleted?: (row: Row) => boolean;
  /**
   * Columns a row of the same version may fill where silver has them empty (a re-read after silver
   * gained them). Without it a row only replaces an older version.
   */
  fill?: readonly string[];
  /**
   * A row of the same version replaces silver's values (a periodic full re-read of an object whose
   * formula fields change without the version moving). Without it a row only replaces an older version.
   */
  refresh?: boolean;
}

export interface MergeResult {
  inserted: number;
  updated: number;
  /** Rows whose version was not newer than the stored one. */
  unchanged: number;
}

export interface SyncRun {
  runId: string;
  flow: string;
  stream: string;
  startedAt: Date;
  finishedAt?: Date;
  status: 'running' | 'succeeded' | 'failed' | 'stopped';
  read: number;
  written: number;
  sent: number;
  rejected: number;
  cursorBefore?: JsonValue;
  cursorAfter?: JsonValue;
  apiCallsUsed?: number;
  error?: string;
}

export interface DeadLetter {
  flow: string;
  stream: string;
  recordKey: string;
  reason: string;
  payload: unknown;
  /** Deterministic; re-recording the same dead letter (same id) is a no-op. */
  id?: string;
}

export type CheckName = 'duplicate_keys' | 'null_keys' | 'bronze_silver_reconciliation' | 'freshness';

export interface CheckResult {
  check: CheckName;
  table: string;
  passed: boolean;
  /** E.g. number of duplicate keys, number of missing keys, age in seconds. */
  observed: number;
  detail?: string;
  checkedAt: Date;
}

export interface CheckOptions {
  /** Freshness threshold in seconds per silver table name; tables not listed only report their age. */
  freshnessSeconds?: Record<string, number>;
}

/** A row of ops.alert_state (see ops-tables.ts). */
export interface AlertState {
  key: string;
  /** The part of the platform that reports this problem; a reconcile only touches its own scope. */
  scope: string;
  status: 'open' | 'resolved' | 'observed';
  title: string;
  detail?: string;
  /** Temporal Web UI link of the run concerned. */
  link?: string;
  since: Date;
  lastSeen: Date;
  notifiedAt?: Date;
  resolvedAt?: Date;
}

/** A row of ops.tracking_violations: one violation of the tracking plan by one call (tracking/enforce.ts). */
export interface TrackingViolation {
  /** Deterministic per (call, type, path): recording it again is a no-op. */
  id: string;
  event: string;
  callType: string;
  messageId: string;
  type: 'unplanned_event' | 'unplanned_property' | 'missing_required' | 'wrong_type' | 'value_not_allowed';
  /** JSON path into the call, e.g. `$.properties.plan`. */
  path: string;
  /** Masked sample of the value; null when there is none. */
  sample: string | null;
  detail: string;
  outcome: 'allowed' | 'omitted' | 'blocked';
  planVersion: string;
  receivedAt: Date;
}

/** Violations of one (event, type, path) within a time window. */
export interface TrackingViolationSummary {
  event: string;
  callType: string;
  type: TrackingViolation['type'];
  path: string;
  count: number;
  /** Distinct calls (message ids). */
  calls: number;
  blocked: number;
  firstSeen: Date;
  lastSeen: Date;
  sample: string | null;
  detail: string | null;
}

/** A silver column of a stream as the platform last read it (ops.stream_schemas). */
export interface KnownField {
  /** Source API name, e.g. `Region__c`. */
  field: string;
  column: string;
  /** How the value is checked (mappings/salesforce-fields.ts SfKind). */
  kind: string;
  type: ColumnType;
}

/** What the platform last read for a stream; `version` counts the schema changes applied. */
export interface StreamSchema {
  stream: string;
  version: number;
  fields: KnownField[];
  updatedAt: Date;
}

/** A row of ops.schema_changes: one change of a stream's source schema and what was done about it. */
export interface SchemaChangeRecord {
  /** Deterministic: recording the same change again is a no-op. */
  id: string;
  stream: string;
  object: string;
  change: 'field_added' | 'field_gone' | 'type_changed';
  field: string;
  column: string;
  fromType: string | null;
  toType: string | null;
  /** `column_added`, `column_kept`, `stream_stopped`, `compatible`, `column_recreated`. */
  action: string;
  detail: string;
  detectedAt: Date;
}

/** A bronze record whose key has no silver row yet (organize merges it). */
export interface UnmergedBronze {
  /** The key, as text. */
  key: string;
  payload: unknown;
}

export interface Warehouse {
  readonly kind: 'duckdb' | 'databricks';

  /** Applies pending versioned migrations (ops tables) and creates the given tables if missing. Idempotent. */
  ensureSchema(tables?: { bronze?: BronzeTableDef[]; silver?: SilverTableDef[] }): Promise<void>;

  /** Appends a batch to bronze.<table>, atomically; a batch id seen before adds nothing. */
  appendBronze(table: BronzeTableDef, batch: BronzeBatch): Promise<AppendResult>;

  /**
   * Upserts rows into silver.<table> on its primary key. Several rows with the same key in one call
   * are collapsed to the one with the highest version first. Atomic: all or nothing.
   */
  mergeSilver(table: SilverTableDef, rows: Row[], opts?: MergeOptions): Promise<MergeResult>;

  /** Current silver rows for the given primary key values (single-column keys). */
  lookupSilver(table: SilverTableDef, keys: string[]): Promise<Row[]>;

  getSyncState(stream: string): Promise<JsonValue | undefined>;
  setSyncState(stream: string, cursor: JsonValue): Promise<void>;

  /** Inserts or updates (by runId) a row of ops.sync_runs. */
  recordRun(run: SyncRun): Promise<void>;
  listRuns(opts?: { flow?: string; limit?: number }): Promise<SyncRun[]>;

  writeDeadLetters(letters: DeadLetter[]): Promise<number>;
  countDeadLetters(opts?: { flow?: string }): Promise<number>;

  /** Runs the data-quality checks on the given silver tables (and their bronze twins). */
  runChecks(tables: SilverTableDef[], opts?: CheckOptions): Promise<CheckResult[]>;

  /**
   * Appends results of runChecks to ops.check_results (one row per check, table and checkedAt;
   * recording the same results again adds nothing). Both adapters implement it.
   */
  recordChecks?(results: CheckResult[]): Promise<void>;

  /** ops.alert_state rows, of one scope or all. */
  listAlertStates(scope?: string): Promise<AlertState[]>;
  /** Inserts or replaces (by key) a row of ops.alert_state. */
  saveAlertState(state: AlertState): Promise<void>;

  /**
   * Every bronze record of the first `keys` keys (in key order, after `afterKey`) that have no
   * silver row: all versions of a key come in the same call, so a caller merging page by page never
   * loses a newer version to a key it merged a page before. Records without a key are left out
   * (the checks report them). Single-column keys.
   */
  unmergedBronze(bronze: BronzeTableDef, silver: SilverTableDef, opts: { afterKey?: string; keys: number }): Promise<UnmergedBronze[]>;
  /** Retention: deletes bronze rows ingested before `before`; answers how many. The batch ledger is kept, so a re-delivered old batch stays a no-op. */
  purgeBronze(bronze: BronzeTableDef, before: Date): Promise<number>;
  /** Dead letters recorded since `since`, per flow. */
  countDeadLettersSince(since: Date): Promise<Record<string, number>>;

  /** Appends to ops.tracking_violations the rows whose id is not there yet; answers how many were added. */
  writeTrackingViolations(violations: TrackingViolation[]): Promise<number>;
  /** Violations of calls received since `since`, per (event, type, path), most frequent first (at most `limit`, default 1,000). */
  summarizeTrackingViolations(since: Date, opts?: { limit?: number }): Promise<TrackingViolationSummary[]>;
  /** The fields last read for a stream (ops.stream_schemas); undefined before the first. */
  getStreamSchema(stream: string): Promise<StreamSchema | undefined>;
  saveStreamSchema(schema: Omit<StreamSchema, 'updatedAt'>): Promise<void>;
  /** Appends to ops.schema_changes the rows whose id is not there yet; answers how many were added. */
  recordSchemaChanges(changes: SchemaChangeRecord[]): Promise<number>;
  /** Recorded schema changes, newest first (at most `limit`, default 100). */
  listSchemaChanges(opts?: { stream?: string; limit?: number }): Promise<SchemaChangeRecord[]>;
  /** Column names of silver.<name> as they are in the warehouse; undefined when the table does not exist. */
  silverColumnNames(name: string): Promise<string[] | undefined>;
  /** Compacts the tables where the engine supports it (OPTIMIZE on Databricks); answers the tables compacted. */
  compact(tables: { bronze?: BronzeTableDef[]; silver?: SilverTableDef[] }): Promise<string[]>;

  /** Read-only SQL for tests, status and reconciliation. Never used by flows to write. */
  query<T extends Row = Row>(sql: string, params?: CellValue[]): Promise<T[]>;

  close(): Promise<void>;
}
