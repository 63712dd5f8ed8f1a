import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { logger } from '../../../config/logger';
import { PermanentError } from '../../../lib/errors';
import { runChecks as runCheckSql, checkResultCells } from '../checks';
import type { RawRow, Statement } from '../dialect';
import { duckdbDialect as d } from '../dialect';
import type { WarehouseHooks, WriteOp } from '../hooks';
import { ensureTable, migrate } from '../migrations';
import type { SchemaTarget } from '../migrations';
import { BRONZE_BATCHES, CHECK_RESULTS, DEAD_LETTERS, SCHEMA_CHANGES, SYNC_RUNS, SYNC_STATE, TRACKING_VIOLATIONS } from '../ops-tables';
import { deadLetterCells, recordPayloadText, syncRunCells, syncRunOf, syncStateCells, trackingViolationCells } from '../records';
import { SerialQueue } from '../serial-queue';
import * as organizeOps from '../organize-ops';
import * as schemaOps from '../schema-ops';
import {
  Params,
  columnDefs,
  countWhereSql,
  dedupedSilverSource,
  distinctOnKey,
  insertMissingSql,
  lookupSilverSql,
  selectWhereSql,
  silverMergeSql,
  upsertRowSql,
} from '../sql';
import type { PhysicalTable } from '../table-defs';
import { SYS, bronzeTable, signature, silverStagingColumns, silverTable } from '../table-defs';
import type {
  AlertState,
  AppendResult,
  BronzeBatch,
  BronzeTableDef,
  CellValue,
  CheckOptions,
  CheckResult,
  DeadLetter,
  JsonValue,
  MergeOptions,
  MergeResult,
  Row,
  SchemaChangeRecord,
  SilverTableDef,
  StreamSchema,
  SyncRun,
  TrackingViolation,
  TrackingViolationSummary,
  UnmergedBronze,
  Warehouse,
} from '../types';
import { decodeCell, decodeLoose, decodeRow } from '../values';
import type { ColumnSource } from './chunks';
import { appendRows, timestampValue } from './chunks';

export interface DuckDBWarehouseOptions {
  /** Database file (its directory is created), or `:memory:`. */
  path: string;
  /** Opens without write access: for a second process reading a file nobody writes. */
  readOnly?: boolean;
  /** DuckDB worker threads (default: all cores). */
  threads?: number;
  /** DuckDB memory cap, e.g. `1GB` (default: 80% of RAM); bounds the buffer pool of big merges. */
  memoryLimit?: string;
  /**
   * WAL size that triggers a checkpoint (DuckDB's default is 16MB). Each checkpoint compresses and
   * rewrites the row groups written since the last; with batches of tens of thousands of rows the
   * default checkpoints on nearly every commit, so the adapter uses 128MB unless told otherwise (measured best for 50k-row batches).
   */
  checkpointThreshold?: string;
  hooks?: WarehouseHooks;
}

/** The storage format of new warehouse files (the version of @duckdb/node-api the project pins). */
const STORAGE_VERSION = 'v1.5.0';

/** Text DuckDB may accept as JSON where JSON.parse would not: nan, inf(inity), a comma before ] or }. */
const LAX_JSON = '(?i)nan|inf|,\\s*[\\]}]';

/**
 * Named parameters as positional ones (`$name` -> `$<n>`). DuckDB finds a named parameter's index by
 * walking every name of the statement, so binding a multi-row insert by name costs the square of
 * its parameter count (500 ops rows of 10 columns: a quarter of a busy worker's main thread); by
 * position each bind is direct. Only the statement's own names are replaced: `$` elsewhere (JSON
 * paths in string literals) is left alone.
 */
function positional(stmt: Statement, names: string[]): { sql: string; values: string[] } {
  const index = new Map(names.map((n, i) => [n, i + 1]));
  const sql = stmt.sql.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole: string, name: string) => {
    const i = index.get(name);
    return i === undefined ? whole : `$${i}`;
  });
  return { sql, values: names.map((n) => stmt.params[n]) };
}
const LOOKUP_KEYS_PER_STATEMENT = 1000;

/** The file is locked by another process: DuckDB allows one writer (a worker may wait for it, workers/warehouse-lease.ts). */
export class WarehouseInUseError extends PermanentError {
  constructor(
    readonly file: string,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super('ConfigError', message, opts);
  }
}

function describeOpenError(file: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (/lock/i.test(message))
    return new WarehouseInUseError(
      file,
      `The DuckDB warehouse ${file} is in use by another process (${message.split('\n')[0]}). Only the worker writes it: stop the other process, or point DUCKDB_PATH elsewhere.`,
      { cause: err },
    );
  return new PermanentError('ConfigError', `Cannot open the DuckDB warehouse ${file}: ${message}`, { cause: err });
}

export async function openDuckDBWarehouse(opts: DuckDBWarehouseOptions): Promise<DuckDBWarehouse> {
  const file = opts.path;
  if (file !== ':memory:' && !opts.readOnly) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const config: Record<string, string> = {};
  if (opts.readOnly) config.access_mode = 'READ_ONLY';
  if (opts.threads !== undefined) config.threads = String(opts.threads);
  if (opts.memoryLimit !== undefined) config.memory_limit = opts.memoryLimit;
  if (!opts.readOnly) config.checkpoint_threshold = opts.checkpointThreshold ?? '128MB';
  // Files it creates get the storage format of DuckDB 1.5, which has zstd for the JSON columns (dialect.ts);
  // an existing file keeps its own. Such a file needs DuckDB 1.5 or later to be read.
  config.storage_compatibility_version = STORAGE_VERSION;
  // DuckDB allocates through its own jemalloc, which keeps the pages DuckDB frees (after a MERGE or a
  // checkpoint) until a thread flushes them: with nothing purging in the background, a long backfill's
  // RSS held hundreds of MiB that duckdb_memory() no longer counted. Background threads purge them.
  config.allocator_background_threads = 'true';
  config.allocator_flush_threshold = '32MB';
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file, config);
  } catch (err) {
    throw describeOpenError(file, err);
  }
  const writer = await instance.connect();
  const bronzeWriter = await instance.connect();
  const reader = await instance.connect();
  logger().debug({ path: file, readOnly: opts.readOnly === true }, 'duckdb warehouse opened');
  return new DuckDBWarehouse(instance, { writer, bronzeWriter, reader }, opts);
}

/** A connection and the queue that gives it one task (one transaction) at a time. */
interface Lane {
  conn: DuckDBConnection;
  queue: SerialQueue;
}

/**
 * The embedded warehouse. One process writes the file (the worker). Inside it, writes go through
 * two lanes, each one connection with one queue, so concurrent activities never share a
 * transaction: bronze appends on one, everything else (silver, ops, schema) on the other. The two
 * write disjoint tables, so a bronze load and a silver merge run side by side without conflicts.
 * Reads use a third connection and see committed data only.
 */
export class DuckDBWarehouse implements Warehouse {
  readonly kind = 'duckdb' as const;
  private readonly main: Lane;
  private readonly bronzeLane: Lane;
  private readonly reads = new SerialQueue();
  private readonly reader: DuckDBConnection;
  private readonly ensured = new Set<string>();
  private migrated?: Promise<void>;
  private closed = false;

  constructor(
    private readonly instance: DuckDBInstance,
    connections: { writer: DuckDBConnection; bronzeWriter: DuckDBConnection; reader: DuckDBConnection },
    private readonly opts: DuckDBWarehouseOptions,
  ) {
    this.main = { conn: connections.writer, queue: new SerialQueue() };
    this.bronzeLane = { conn: connections.bronzeWriter, queue: new SerialQueue() };
    this.reader = connections.reader;
  }

  // ---- plumbing ----

  private assertOpen(): void {
    if (this.closed) throw new PermanentError('ConfigError', 'The DuckDB warehouse is closed.');
  }

  private static async exec(conn: DuckDBConnection, stmt: Statement): Promise<{ rows: RawRow[]; changed: number }> {
    const names = Object.keys(stmt.params);
    if (names.length === 0) {
      const reader = await conn.runAndReadAll(stmt.sql);
      return { rows: reader.getRowObjectsJS() as RawRow[], changed: reader.rowsChanged };
    }
    const { sql, values } = positional(stmt, names);
    const reader = await conn.runAndReadAll(sql, values);
    return { rows: reader.getRowObjectsJS() as RawRow[], changed: reader.rowsChanged };
  }

  private async inTransaction<T>(fn: () => Promise<T>, lane: Lane = this.main): Promise<T> {
    await lane.conn.run('BEGIN TRANSACTION');
    try {
      const result = await fn();
      await lane.conn.run('COMMIT');
      return result;
    } catch (err) {
      try {
        await lane.conn.run('ROLLBACK');
      } catch (rollbackErr) {
        logger().warn({ err: rollbackErr }, 'duckdb rollback failed');
      }
      throw err;
    }
  }

  private write<T>(fn: () => Promise<T>, lane: Lane = this.main): Promise<T> {
    this.assertOpen();
    if (this.opts.readOnly) throw new PermanentError('ConfigError', 'This DuckDB warehouse was opened read-only; only the worker writes.');
    return lane.queue.run(fn);
  }

  private read<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.reads.run(() => fn(this.reader));
  }

  private async readRows(stmt: Statement): Promise<RawRow[]> {
    return this.read(async (conn) => (await DuckDBWarehouse.exec(conn, stmt)).rows);
  }

  private schemaTarget(): SchemaTarget {
    return {
      dialect: d,
      run: async (stmt) => (await DuckDBWarehouse.exec(this.main.conn, stmt)).rows,
      atomically: (fn) => this.inTransaction(fn),
    };
  }

  /** Migrates once per process, and creates each table the first time it is used. */
  private ready(tables: PhysicalTable[] = []): Promise<void> {
    if (this.opts.readOnly) return Promise.resolve();
    this.migrated ??= this.write(async () => {
      await migrate(this.schemaTarget());
    }).catch((err: unknown) => {
      this.migrated = undefined;
      throw err;
    });
    const missing = tables.filter((t) => !this.ensured.has(signature(t)));
    if (missing.length === 0) return this.migrated;
    return this.migrated.then(() =>
      this.write(async () => {
        for (const t of missing) {
          if (this.ensured.has(signature(t))) continue;
          await this.inTransaction(() => ensureTable(this.schemaTarget(), t));
          this.ensured.add(signature(t));
        }
      }),
    );
  }

  private async beforeCommit(op: WriteOp, table: string): Promise<void> {
    await this.opts.hooks?.beforeCommit?.(op, table);
  }

  // ---- schema ----

  async ensureSchema(tables: { bronze?: BronzeTableDef[]; silver?: SilverTableDef[] } = {}): Promise<void> {
    await this.ready([...(tables.bronze ?? []).map(bronzeTable), ...(tables.silver ?? []).map(silverTable)]);
  }

  // ---- bronze ----

  async appendBronze(def: BronzeTableDef, batch: BronzeBatch): Promise<AppendResult> {
    const table = bronzeTable(def);
    await this.ready([table]);
    const ingestedAt = batch.ingestedAt ?? new Date();
    const records = batch.records;
    const sources: ColumnSource[] = table.columns.map((c): ColumnSource => {
      switch (c.name) {
        case SYS.payload:
          return { kind: 'text', text: (i) => recordPayloadText(records[i], i, false) };
        case SYS.ingestedAt:
          return { kind: 'constant', value: timestampValue(ingestedAt) };
        case SYS.batchId:
          return { kind: 'constant', value: batch.batchId };
        case SYS.row:
          return { kind: 'cells', cell: (i) => i };
        default:
          return { kind: 'cells', cell: (i) => records[i].keys[c.name] };
      }
    });

    const lane = this.bronzeLane;
    const load = () =>
      this.inTransaction(async () => {
        const seen = await DuckDBWarehouse.exec(lane.conn, selectWhereSql(d, BRONZE_BATCHES, { table_name: def.name, batch_id: batch.batchId }));
        if (seen.rows.length > 0) return { inserted: 0, alreadyLoaded: true };
        if (records.length > 0) {
          const appender = await lane.conn.createAppender(def.name, 'bronze');
          try {
            appendRows(appender, table.columns, sources, records.length);
          } finally {
            appender.closeSync();
          }
          // Given text went in unparsed. DuckDB's parser is laxer than JSON (NaN, Infinity, trailing
          // commas) and stricter on lone surrogate escapes, so it only picks the suspects, in SQL,
          // off the event loop; JSON.parse decides on those few.
          if (records.some((r) => r.payloadJson !== undefined)) {
            const p = d.quote(SYS.payload);
            const suspects = await DuckDBWarehouse.exec(lane.conn, {
              // The batch's constant _ingested_at lets DuckDB skip every committed row group by its
              // min/max (batch ids all share an 8-byte prefix, so their zone maps skip nothing): the
              // check no longer scans the whole table (2,000,000 rows: 9-31 ms -> 2-4 ms, and
              // the former grew with the table).
              sql: `SELECT ${d.quote(SYS.row)} AS r FROM ${d.table('bronze', def.name)} WHERE ${d.quote(SYS.batchId)} = $b AND ${d.quote(SYS.ingestedAt)} = make_timestamp(CAST($at AS BIGINT)) AND (NOT json_valid(${p}) OR regexp_matches(${p}, $re)) ORDER BY 1`,
              params: { b: batch.batchId, at: String(ingestedAt.getTime() * 1000), re: LAX_JSON },
            });
            for (const { r } of suspects.rows) recordPayloadText(records[Number(r)], Number(r), true);
          }
        }
        await DuckDBWarehouse.exec(
          lane.conn,
          upsertRowSql(d, BRONZE_BATCHES, [def.name, batch.batchId, String(records.length), ingestedAt.toISOString(), new Date().toISOString()]),
        );
        await this.beforeCommit('appendBronze', def.name);
        return { inserted: records.length, alreadyLoaded: false };
      }, lane);
    return this.write(load, lane);
  }

  // ---- silver ----

  async mergeSilver(def: SilverTableDef, rows: Row[], opts: MergeOptions = {}): Promise<MergeResult> {
    const table = silverTable(def);
    await this.ready([table]);
    if (rows.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
    const columns = silverStagingColumns(def);
    const deleted = opts.deleted ?? ((row: Row) => row[SYS.deleted] === true);
    const sources: ColumnSource[] = columns.map((c): ColumnSource => {
      if (c.name === SYS.deleted) return { kind: 'cells', cell: (i) => deleted(rows[i]) };
      if (c.name === SYS.ord) return { kind: 'cells', cell: (i) => i };
      return { kind: 'cells', cell: (i) => rows[i][c.name] };
    });
    const staging = `_stg_silver_${def.name}`;

    return this.write(() =>
      this.inTransaction(async () => {
        await this.main.conn.run(`CREATE OR REPLACE TEMP TABLE ${d.quote(staging)} (${columnDefs(d, columns)})`);
        const appender = await this.main.conn.createAppender(staging, 'main', 'temp');
        try {
          appendRows(appender, columns, sources, rows.length);
        } finally {
          appender.closeSync();
        }
        const count = async () => Number((await DuckDBWarehouse.exec(this.main.conn, { sql: `SELECT COUNT(*) AS n FROM ${d.table('silver', def.name)}`, params: {} })).rows[0].n);
        const before = await count();
        const p = new Params(d);
        const mergedAt = p.cast('timestamp', new Date().toISOString());
        const merge = await DuckDBWarehouse.exec(this.main.conn, p.statement(silverMergeSql(d, def, dedupedSilverSource(d, def, `temp.main.${d.quote(staging)}`), mergedAt, { fill: opts.fill, refresh: opts.refresh })));
        const inserted = (await count()) - before;
        await this.main.conn.run(`DROP TABLE temp.main.${d.quote(staging)}`);
        await this.beforeCommit('mergeSilver', def.name);
        const updated = merge.changed - inserted;
        return { inserted, updated, unchanged: rows.length - inserted - updated };
      }),
    );
  }

  async lookupSilver(def: SilverTableDef, keys: string[]): Promise<Row[]> {
    const table = silverTable(def);
    if (def.primaryKey.length !== 1) throw new PermanentError('InvalidRequest', `lookupSilver needs a single-column key; silver.${def.name} has ${def.primaryKey.join(', ')}.`);
    await this.ready([table]);
    const keyType = def.columns.find((c) => c.name === def.primaryKey[0])!.type;
    const out: Row[] = [];
    for (let i = 0; i < keys.length; i += LOOKUP_KEYS_PER_STATEMENT) {
      const rows = await this.readRows(lookupSilverSql(d, table, keyType, keys.slice(i, i + LOOKUP_KEYS_PER_STATEMENT)));
      for (const r of rows) out.push(decodeRow(table.columns, r));
    }
    return out;
  }

  // ---- ops ----

  async getSyncState(stream: string): Promise<JsonValue | undefined> {
    await this.ready();
    const rows = await this.readRows(selectWhereSql(d, SYNC_STATE, { stream }));
    return rows.length === 0 ? undefined : (decodeCell('json', rows[0].cursor) as JsonValue);
  }

  async setSyncState(stream: string, cursor: JsonValue): Promise<void> {
    const stmt = upsertRowSql(d, SYNC_STATE, syncStateCells(stream, cursor, new Date()));
    await this.ready();
    await this.write(async () => {
      await DuckDBWarehouse.exec(this.main.conn, stmt);
    });
  }

  async recordRun(run: SyncRun): Promise<void> {
    const stmt = upsertRowSql(d, SYNC_RUNS, syncRunCells(run, new Date()));
    await this.ready();
    await this.write(async () => {
      await DuckDBWarehouse.exec(this.main.conn, stmt);
    });
  }

  async listRuns(opts: { flow?: string; limit?: number } = {}): Promise<SyncRun[]> {
    await this.ready();
    const limit = Math.max(1, Math.min(Math.floor(opts.limit ?? 50), 10_000));
    const where: Record<string, string> = opts.flow !== undefined ? { flow: opts.flow } : {};
    const rows = await this.readRows(selectWhereSql(d, SYNC_RUNS, where, ` ORDER BY ${d.quote('started_at')} DESC, ${d.quote('run_id')} LIMIT ${limit}`));
    return rows.map(syncRunOf);
  }

  /**
   * Idempotent insert of ops rows, in one transaction: the rows go as text through the Appender into a
   * temp table, then one MERGE casts them and inserts the keys not there yet. (Inline VALUES with a
   * parameter per cell made DuckDB plan thousands of casts: 500 tracking violations took over a
   * second, most of a website flush.)
   */
  private async insertMissing(op: WriteOp, table: PhysicalTable, cells: (string | null)[][]): Promise<number> {
    if (cells.length === 0) return 0;
    await this.ready();
    const staging = `_stg_ops_${table.name}`;
    const stagedColumns = table.columns.map((c) => ({ ...c, type: 'varchar' as const, nullable: true }));
    const typed = table.columns.map((c) => `CAST(${d.quote(c.name)} AS ${d.type(c.type)}) AS ${d.quote(c.name)}`).join(', ');
    const source = distinctOnKey(d, table.columns, table.key, `(SELECT ${typed} FROM temp.main.${d.quote(staging)}) AS src`);
    return this.write(() =>
      this.inTransaction(async () => {
        const conn = this.main.conn;
        await conn.run(`CREATE OR REPLACE TEMP TABLE ${d.quote(staging)} (${columnDefs(d, stagedColumns)})`);
        const appender = await conn.createAppender(staging, 'main', 'temp');
        try {
          appendRows(
            appender,
            stagedColumns,
            stagedColumns.map((_, c): ColumnSource => ({ kind: 'cells', cell: (i) => cells[i][c] })),
            cells.length,
          );
        } finally {
          appender.closeSync();
        }
        const inserted = (await DuckDBWarehouse.exec(conn, { sql: insertMissingSql(d, table, source), params: {} })).changed;
        await conn.run(`DROP TABLE temp.main.${d.quote(staging)}`);
        await this.beforeCommit(op, table.name);
        return inserted;
      }),
    );
  }

  writeDeadLetters(letters: DeadLetter[]): Promise<number> {
    return this.insertMissing('writeDeadLetters', DEAD_LETTERS, deadLetterCells(letters, new Date()));
  }

  async countDeadLetters(opts: { flow?: string } = {}): Promise<number> {
    await this.ready();
    const rows = await this.readRows(countWhereSql(d, DEAD_LETTERS, opts.flow !== undefined ? { flow: opts.flow } : {}));
    return Number(rows[0].n);
  }

  // ---- checks ----

  async runChecks(tables: SilverTableDef[], opts?: CheckOptions): Promise<CheckResult[]> {
    await this.ready();
    return runCheckSql(
      {
        dialect: d,
        run: (stmt) => this.readRows(stmt),
        tableExists: async (layer, name) =>
          (
            await this.readRows({
              sql: 'SELECT 1 AS found FROM information_schema.tables WHERE table_schema = $s AND table_name = $t',
              params: { s: layer, t: name },
            })
          ).length > 0,
        columnsOf: async (layer, name) => d.columnNames(await this.readRows(d.listColumns(layer, name))),
      },
      tables,
      opts,
    );
  }

  async recordChecks(results: CheckResult[]): Promise<void> {
    await this.insertMissing('recordChecks', CHECK_RESULTS, checkResultCells(results));
  }

  // ---- organize, retention, alerts (organize-ops.ts) ----

  private opsTarget(): organizeOps.OpsTarget {
    return {
      dialect: d,
      read: (stmt) => this.readRows(stmt),
      write: (stmt) => this.write(async () => (await DuckDBWarehouse.exec(this.main.conn, stmt)).changed),
    };
  }

  async listAlertStates(scope?: string): Promise<AlertState[]> {
    await this.ready();
    return organizeOps.listAlertStates(this.opsTarget(), scope);
  }

  async saveAlertState(state: AlertState): Promise<void> {
    await this.ready();
    await organizeOps.saveAlertState(this.opsTarget(), state);
  }

  async unmergedBronze(bronze: BronzeTableDef, silver: SilverTableDef, opts: { afterKey?: string; keys: number }): Promise<UnmergedBronze[]> {
    await this.ready([bronzeTable(bronze), silverTable(silver)]);
    return organizeOps.unmergedBronze(this.opsTarget(), bronze, silver, opts);
  }

  async purgeBronze(bronze: BronzeTableDef, before: Date): Promise<number> {
    await this.ready([bronzeTable(bronze)]);
    const stmt = organizeOps.purgeBronzeSql(d, bronze, before);
    return this.write(() => this.inTransaction(async () => (await DuckDBWarehouse.exec(this.main.conn, stmt)).changed));
  }

  async countDeadLettersSince(since: Date): Promise<Record<string, number>> {
    await this.ready();
    return organizeOps.countDeadLettersSince(this.opsTarget(), since);
  }

  writeTrackingViolations(violations: TrackingViolation[]): Promise<number> {
    return this.insertMissing('writeTrackingViolations', TRACKING_VIOLATIONS, trackingViolationCells(violations, new Date()));
  }

  async getStreamSchema(stream: string): Promise<StreamSchema | undefined> {
    await this.ready();
    return schemaOps.getStreamSchema(this.opsTarget(), stream);
  }

  async saveStreamSchema(schema: Omit<StreamSchema, 'updatedAt'>): Promise<void> {
    await this.ready();
    await schemaOps.saveStreamSchema(this.opsTarget(), schema);
  }

  recordSchemaChanges(changes: SchemaChangeRecord[]): Promise<number> {
    return this.insertMissing('recordSchemaChanges', SCHEMA_CHANGES, schemaOps.schemaChangeCells(changes));
  }

  async listSchemaChanges(opts: { stream?: string; limit?: number } = {}): Promise<SchemaChangeRecord[]> {
    await this.ready();
    return schemaOps.listSchemaChanges(this.opsTarget(), opts);
  }

  async silverColumnNames(name: string): Promise<string[] | undefined> {
    await this.ready();
    return schemaOps.silverColumnNames(this.opsTarget(), name);
  }

  async summarizeTrackingViolations(since: Date, opts: { limit?: number } = {}): Promise<TrackingViolationSummary[]> {
    await this.ready();
    return organizeOps.summarizeTrackingViolations(this.opsTarget(), since, opts.limit);
  }

  /** DuckDB compacts on checkpoint by itself; there is no per-table OPTIMIZE. */
  async compact(tables: { bronze?: BronzeTableDef[]; silver?: SilverTableDef[] }): Promise<string[]> {
    void tables;
    return [];
  }

  // ---- ad hoc ----

  async query<T extends Row = Row>(sql: string, params: CellValue[] = []): Promise<T[]> {
    const values = params.map((v): DuckDBValue => {
      if (v instanceof Date) return v.toISOString();
      if (v !== null && typeof v === 'object') return JSON.stringify(v);
      return v;
    });
    const rows = await this.read(async (conn) => (await conn.runAndReadAll(sql, values)).getRowObjectsJS() as RawRow[]);
    return rows.map((r) => {
      const out: Row = {};
      for (const [k, v] of Object.entries(r)) out[k] = decodeLoose(v);
      return out as T;
    });
  }

  /**
   * Staging tables the writing connections hold right now (TEMP tables are visible only to their
   * own connection). Empty between loads: each load drops its staging table, or its rollback does.
   */
  async stagingTables(): Promise<string[]> {
    this.assertOpen();
    const list = (lane: Lane) =>
      lane.queue.run(async () => {
        const rows = (await lane.conn.runAndReadAll("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\\_stg\\_%' ESCAPE '\\'")).getRowObjectsJS();
        return rows.map((r) => String(r.table_name));
      });
    return [...(await list(this.main)), ...(await list(this.bronzeLane))];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.main.queue.drain(), this.bronzeLane.queue.drain(), this.reads.drain()]);
    // Checkpoint asynchronously: closeSync would do it on the event loop's thread.
    if (!this.opts.readOnly)
      await this.main.conn.run('CHECKPOINT').catch((err: unknown) => logger().warn({ err }, 'duckdb checkpoint on close failed'));
    this.main.conn.closeSync();
    this.bronzeLane.conn.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
  }
}
