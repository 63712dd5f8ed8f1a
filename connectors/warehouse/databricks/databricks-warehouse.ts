import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { logger } from '../../../config/logger';
import { PermanentError, TransientError } from '../../../lib/errors';
import { checkResultCells, runChecks as runCheckSql } from '../checks';
import type { Dialect, RawRow, Statement } from '../dialect';
import { databricksDialect } from '../dialect';
import type { WarehouseHooks, WriteOp } from '../hooks';
import { ensureTable, migrate } from '../migrations';
import { BRONZE_BATCHES, CHECK_RESULTS, DEAD_LETTERS, SCHEMA_CHANGES, SYNC_RUNS, SYNC_STATE, TRACKING_VIOLATIONS } from '../ops-tables';
import * as organizeOps from '../organize-ops';
import * as schemaOps from '../schema-ops';
import { deadLetterCells, recordPayloadText, syncRunCells, syncRunOf, syncStateCells, trackingViolationCells } from '../records';
import {
  Params,
  bronzeMergeSql,
  columnDefs,
  countWhereSql,
  dedupedSilverSource,
  distinctOnKey,
  inlineTable,
  insertMissingSql,
  lookupSilverSql,
  selectWhereSql,
  silverMergeSql,
  upsertRowSql,
} from '../sql';
import type { PhysicalColumn, PhysicalTable } from '../table-defs';
import { SYS, bronzeStagingColumns, bronzeTable, signature, silverStagingColumns, silverTable } from '../table-defs';
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
import { decodeCell, decodeLoose, decodeRow, encodeCell } from '../values';
import type { SqlExecutor } from './sql-executor';
import type { ChunkLimits } from './staging';
import { STAGING_PREFIX, abandonedStagingTables, stagingTableName, stagingToken } from './staging-names';
import { DEFAULT_LIMITS, chunkRows, copyIntoSql, createVolumeSql, insertChunkSql, jsonLines, listSql, putSql, removeSql, volumeFilePath } from './staging';

export interface DatabricksWarehouseOptions {
  executor: SqlExecutor;
  /** Unity Catalog name; `spark_catalog` on open-source Spark. */
  catalog: string;
  /** Volume in <catalog>.ops for bulk loads (created if missing); without one, batches go by INSERT chunks. */
  volume?: string;
  /** Batches with more rows than this go through the Volume (when there is one). */
  volumeAboveRows?: number;
  limits?: Partial<ChunkLimits>;
  hooks?: WarehouseHooks;
  /** Names staging tables; creation time + random by default so concurrent attempts never share one. */
  stagingToken?: () => string;
  /**
   * Staging tables older than this (by the time in their name) are dropped when the adapter starts:
   * what a worker killed mid-load left behind. Default 6 hours, above any load's activity timeout.
   */
  abandonedStagingAfterMs?: number;
  /** Clock for the age of staging tables (tests). */
  now?: () => number;
  tmpDir?: string;
}

type Cells = (string | null)[];

interface StageSpec {
  purpose: string;
  columns: readonly PhysicalColumn[];
  /** Column numbering the rows 0..n-1: how the adapter knows a staging table holds the whole batch. */
  ordinal: string;
  rows: readonly Cells[];
  /** Parameters the final statement adds besides the rows'. */
  reserved: number;
  op: WriteOp;
  table: string;
}

const metric = (rows: RawRow[], name: string): number => Number(rows[0]?.[name] ?? 0);

/**
 * The Databricks adapter: Unity Catalog three-level names, Delta tables, MERGE with explicit
 * column lists. Nothing is transactional across statements there, so each write is one final
 * MERGE over a complete staged source, and every statement on the way is safe to re-run: the
 * driver does not retry ExecuteStatement, the Temporal activity retries the whole write.
 */
export class DatabricksWarehouse implements Warehouse {
  readonly kind = 'databricks' as const;
  private readonly d: Dialect;
  private readonly limits: ChunkLimits;
  private readonly ensured = new Set<string>();
  private migrated?: Promise<void>;
  private closed = false;

  constructor(private readonly opts: DatabricksWarehouseOptions) {
    this.d = databricksDialect({ catalog: opts.catalog });
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
  }

  get dialect(): Dialect {
    return this.d;
  }

  // ---- plumbing ----

  private exec(stmt: Statement): Promise<RawRow[]> {
    if (this.closed) throw new PermanentError('ConfigError', 'The Databricks warehouse is closed.');
    return this.opts.executor.execute(stmt.sql, stmt.params);
  }

  private sql(sql: string): Promise<RawRow[]> {
    return this.exec({ sql, params: {} });
  }

  private ready(tables: PhysicalTable[] = []): Promise<void> {
    this.migrated ??= (async () => {
      await migrate({ dialect: this.d, run: (s) => this.exec(s), atomically: (fn) => fn() });
      if (this.opts.volume) await this.sql(createVolumeSql(this.d, this.opts.volume));
      await this.dropAbandonedStaging();
    })().catch((err: unknown) => {
      this.migrated = undefined;
      throw err;
    });
    const missing = tables.filter((t) => !this.ensured.has(signature(t)));
    if (missing.length === 0) return this.migrated;
    return this.migrated.then(async () => {
      for (const t of missing) {
        await ensureTable({ dialect: this.d, run: (s) => this.exec(s), atomically: (fn) => fn() }, t);
        this.ensured.add(signature(t));
      }
    });
  }

  private stagingName(purpose: string): string {
    return stagingTableName(purpose, this.opts.stagingToken?.() ?? stagingToken(this.now()));
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** Drops the staging tables a killed load left behind (never one a live load may still use). */
  private async dropAbandonedStaging(): Promise<void> {
    const d = this.d;
    try {
      const rows = await this.sql(`SHOW TABLES IN ${d.schema('ops')} LIKE '${STAGING_PREFIX}*'`);
      const names = rows.map((r) => String(r.tableName ?? r.table_name ?? ''));
      for (const name of abandonedStagingTables(names, this.now(), this.opts.abandonedStagingAfterMs ?? 6 * 3600_000)) {
        await this.sql(`DROP TABLE IF EXISTS ${d.table('ops', name)}`);
        logger().info({ staging: name }, 'dropped an abandoned staging table');
      }
    } catch (err) {
      // Housekeeping only: a missing permission here must not stop the loads.
      logger().warn({ err }, 'could not sweep abandoned staging tables');
    }
    if (!this.opts.volume) return;
    const dir = volumeFilePath(this.opts.catalog, this.opts.volume, '');
    let files: RawRow[];
    try {
      files = await this.opts.executor.execute(listSql(dir));
    } catch (err) {
      // The directory exists only once a load has staged a file there.
      logger().debug({ err, dir }, 'no staged Volume files to sweep');
      return;
    }
    const names = files.map((f) => String(f.name ?? '').replace(/\.json$/, ''));
    for (const name of abandonedStagingTables(names, this.now(), this.opts.abandonedStagingAfterMs ?? 6 * 3600_000)) {
      const file = volumeFilePath(this.opts.catalog, this.opts.volume, `${name}.json`);
      // The driver performs a Volume operation only when given an allowed local path, even for REMOVE.
      await this.opts.executor
        .execute(removeSql(file), undefined, { stagingAllowedLocalPath: this.opts.tmpDir ?? os.tmpdir() })
        .then(() => logger().info({ file }, 'removed an abandoned staged Volume file'))
        .catch((err: unknown) => logger().warn({ err, file }, 'could not remove an abandoned staged Volume file'));
    }
  }

  /**
   * Runs `final` over the rows as its source: inline VALUES when they fit in one statement,
   * otherwise a staging table filled by INSERT chunks or from a Volume file. The final statement
   * reads the staging table only if it holds the whole batch, so a half-filled one never shows.
   */
  private async withSource(spec: StageSpec, final: (p: Params, from: string) => string): Promise<RawRow[]> {
    const d = this.d;
    if (chunkRows(spec.rows, this.limits, spec.reserved).length === 1) {
      const p = new Params(d);
      const sql = final(p, `(SELECT * FROM ${inlineTable(d, p, spec.columns, spec.rows)}) AS src`);
      await this.opts.hooks?.beforeCommit?.(spec.op, spec.table);
      return this.exec(p.statement(sql));
    }

    const name = this.stagingName(spec.purpose);
    const staging = d.table('ops', name);
    const n = spec.rows.length;
    let volumeFile: string | undefined;
    let localDir: string | undefined;
    try {
      await this.sql(`CREATE TABLE IF NOT EXISTS ${staging} (${columnDefs(d, spec.columns)}) USING DELTA`);
      if (this.opts.volume && n > (this.opts.volumeAboveRows ?? 2000)) {
        localDir = fs.mkdtempSync(path.join(this.opts.tmpDir ?? os.tmpdir(), 'novade-stage-'));
        const localFile = path.join(localDir, `${name}.json`);
        const fd = fs.openSync(localFile, 'w');
        try {
          for (let i = 0; i < n; i += 5000) fs.writeSync(fd, jsonLines(spec.columns, spec.rows.slice(i, i + 5000)));
        } finally {
          fs.closeSync(fd);
        }
        volumeFile = volumeFilePath(this.opts.catalog, this.opts.volume, `${name}.json`);
        await this.opts.executor.execute(putSql(localFile, volumeFile), undefined, { stagingAllowedLocalPath: localDir });
        await this.sql(copyIntoSql(d, staging, spec.columns, volumeFile));
      } else {
        for (const chunk of chunkRows(spec.rows, this.limits)) await this.exec(insertChunkSql(d, staging, spec.columns, chunk));
      }
      const ord = d.quote(spec.ordinal);
      const [{ n: staged }] = await this.sql(`SELECT COUNT(DISTINCT ${ord}) AS n FROM ${staging}`);
      if (Number(staged) !== n) throw new TransientError(`Staging table ${name} holds ${String(staged)} of ${n} rows (a concurrent attempt interfered); will retry.`);
      const p = new Params(d);
      const sql = final(p, `(SELECT * FROM ${staging} WHERE (SELECT COUNT(DISTINCT ${ord}) FROM ${staging}) = ${n}) AS src`);
      await this.opts.hooks?.beforeCommit?.(spec.op, spec.table);
      return await this.exec(p.statement(sql));
    } finally {
      await this.sql(`DROP TABLE IF EXISTS ${staging}`).catch((err: unknown) => logger().warn({ err, staging: name }, 'could not drop a staging table'));
      if (volumeFile) {
        const file = volumeFile;
        await this.opts.executor
          .execute(removeSql(file), undefined, { stagingAllowedLocalPath: localDir })
          .catch((err: unknown) => logger().warn({ err, file }, 'could not remove a staged Volume file'));
      }
      if (localDir) fs.rmSync(localDir, { recursive: true, force: true });
    }
  }

  // ---- schema ----

  async ensureSchema(tables: { bronze?: BronzeTableDef[]; silver?: SilverTableDef[] } = {}): Promise<void> {
    await this.ready([...(tables.bronze ?? []).map(bronzeTable), ...(tables.silver ?? []).map(silverTable)]);
  }

  // ---- bronze ----

  async appendBronze(def: BronzeTableDef, batch: BronzeBatch): Promise<AppendResult> {
    const table = bronzeTable(def);
    const staged = bronzeStagingColumns(def);
    const ingestedAt = (batch.ingestedAt ?? new Date()).toISOString();
    const cells: Cells[] = batch.records.map((r, i) =>
      staged.map((c) => {
        if (c.name === SYS.payload) return recordPayloadText(r, i, true);
        if (c.name === SYS.row) return String(i);
        return encodeCell(c.name, c.type, r.keys[c.name]);
      }),
    );
    await this.ready([table]);
    if ((await this.exec(selectWhereSql(this.d, BRONZE_BATCHES, { table_name: def.name, batch_id: batch.batchId }))).length > 0) return { inserted: 0, alreadyLoaded: true };

    let inserted = 0;
    if (cells.length > 0) {
      const result = await this.withSource(
        { purpose: `bronze_${def.name}`, columns: staged, ordinal: SYS.row, rows: cells, reserved: 2, op: 'appendBronze', table: def.name },
        (p, from) => bronzeMergeSql(this.d, table, staged, from, p.cast('timestamp', ingestedAt), p.cast('varchar', batch.batchId)),
      );
      inserted = metric(result, 'num_inserted_rows');
    }
    // After the rows: a ledger entry without its rows would make a lost batch look loaded.
    await this.exec(insertLedger(this.d, [def.name, batch.batchId, String(cells.length), ingestedAt, new Date().toISOString()]));
    return { inserted, alreadyLoaded: cells.length > 0 && inserted === 0 };
  }

  // ---- silver ----

  async mergeSilver(def: SilverTableDef, rows: Row[], opts: MergeOptions = {}): Promise<MergeResult> {
    const table = silverTable(def);
    const columns = silverStagingColumns(def);
    const deleted = opts.deleted ?? ((row: Row) => row[SYS.deleted] === true);
    const cells: Cells[] = rows.map((row, i) =>
      columns.map((c) => {
        if (c.name === SYS.deleted) return deleted(row) ? 'true' : 'false';
        if (c.name === SYS.ord) return String(i);
        const v = encodeCell(c.name, c.type, row[c.name]);
        if (v === null && !c.nullable) throw new PermanentError('InvalidRequest', `Row ${i}: column "${c.name}" must not be null.`);
        return v;
      }),
    );
    await this.ready([table]);
    if (cells.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
    const result = await this.withSource(
      { purpose: `silver_${def.name}`, columns, ordinal: SYS.ord, rows: cells, reserved: 1, op: 'mergeSilver', table: def.name },
      (p, from) => silverMergeSql(this.d, def, dedupedSilverSource(this.d, def, from), p.cast('timestamp', new Date().toISOString()), { fill: opts.fill, refresh: opts.refresh }),
    );
    const inserted = metric(result, 'num_inserted_rows');
    const updated = metric(result, 'num_updated_rows');
    return { inserted, updated, unchanged: rows.length - inserted - updated };
  }

  async lookupSilver(def: SilverTableDef, keys: string[]): Promise<Row[]> {
    const table = silverTable(def);
    if (def.primaryKey.length !== 1) throw new PermanentError('InvalidRequest', `lookupSilver needs a single-column key; silver.${def.name} has ${def.primaryKey.join(', ')}.`);
    await this.ready([table]);
    const keyType = def.columns.find((c) => c.name === def.primaryKey[0])!.type;
    const out: Row[] = [];
    const per = Math.max(1, this.limits.maxParams);
    for (let i = 0; i < keys.length; i += per)
      for (const r of await this.exec(lookupSilverSql(this.d, table, keyType, keys.slice(i, i + per)))) out.push(decodeRow(table.columns, r));
    return out;
  }

  // ---- ops ----

  async getSyncState(stream: string): Promise<JsonValue | undefined> {
    await this.ready();
    const rows = await this.exec(selectWhereSql(this.d, SYNC_STATE, { stream }));
    return rows.length === 0 ? undefined : (decodeCell('json', rows[0].cursor) as JsonValue);
  }

  async setSyncState(stream: string, cursor: JsonValue): Promise<void> {
    const stmt = upsertRowSql(this.d, SYNC_STATE, syncStateCells(stream, cursor, new Date()));
    await this.ready();
    await this.exec(stmt);
  }

  async recordRun(run: SyncRun): Promise<void> {
    const stmt = upsertRowSql(this.d, SYNC_RUNS, syncRunCells(run, new Date()));
    await this.ready();
    await this.exec(stmt);
  }

  async listRuns(opts: { flow?: string; limit?: number } = {}): Promise<SyncRun[]> {
    await this.ready();
    const limit = Math.max(1, Math.min(Math.floor(opts.limit ?? 50), 10_000));
    const q = this.d.quote;
    const rows = await this.exec(selectWhereSql(this.d, SYNC_RUNS, opts.flow !== undefined ? { flow: opts.flow } : {}, ` ORDER BY ${q('started_at')} DESC, ${q('run_id')} LIMIT ${limit}`));
    return rows.map(syncRunOf);
  }

  private async insertMissing(op: WriteOp, table: PhysicalTable, cells: Cells[]): Promise<number> {
    await this.ready();
    if (cells.length === 0) return 0;
    const columns: PhysicalColumn[] = [...table.columns, { name: SYS.ord, type: 'bigint', nullable: false }];
    const result = await this.withSource(
      { purpose: table.name, columns, ordinal: SYS.ord, rows: cells.map((c, i) => [...c, String(i)]), reserved: 0, op, table: table.name },
      (_p, from) => insertMissingSql(this.d, table, distinctOnKey(this.d, table.columns, table.key, from)),
    );
    return metric(result, 'num_inserted_rows');
  }

  writeDeadLetters(letters: DeadLetter[]): Promise<number> {
    return this.insertMissing('writeDeadLetters', DEAD_LETTERS, deadLetterCells(letters, new Date()));
  }

  async countDeadLetters(opts: { flow?: string } = {}): Promise<number> {
    await this.ready();
    const rows = await this.exec(countWhereSql(this.d, DEAD_LETTERS, opts.flow !== undefined ? { flow: opts.flow } : {}));
    return Number(rows[0].n);
  }

  // ---- checks ----

  async runChecks(tables: SilverTableDef[], opts?: CheckOptions): Promise<CheckResult[]> {
    await this.ready();
    return runCheckSql(
      {
        dialect: this.d,
        run: (s) => this.exec(s),
        tableExists: async (layer, name) => (await this.sql(`SHOW TABLES IN ${this.d.schema(layer)} LIKE '${name}'`)).length > 0,
        columnsOf: async (layer, name) => this.d.columnNames(await this.exec(this.d.listColumns(layer, name))),
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
      dialect: this.d,
      read: (stmt) => this.exec(stmt),
      write: async (stmt) => metric(await this.exec(stmt), 'num_affected_rows'),
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
    return this.opsTarget().write(organizeOps.purgeBronzeSql(this.d, bronze, before));
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

  async compact(tables: { bronze?: BronzeTableDef[]; silver?: SilverTableDef[] }): Promise<string[]> {
    await this.ready();
    const done: string[] = [];
    for (const [layer, defs] of [['bronze', tables.bronze ?? []], ['silver', tables.silver ?? []]] as const)
      for (const def of defs) {
        await this.sql(organizeOps.optimizeSql(this.d, layer, def.name));
        done.push(`${layer}.${def.name}`);
      }
    return done;
  }

  // ---- ad hoc ----

  async query<T extends Row = Row>(sql: string, params: CellValue[] = []): Promise<T[]> {
    const values = params.map((v) => (v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : v !== null && typeof v === 'object' ? JSON.stringify(v) : v));
    const rows = await this.opts.executor.execute(sql, values);
    return rows.map((r) => {
      const out: Row = {};
      for (const [k, v] of Object.entries(r)) out[k] = decodeLoose(v);
      return out as T;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.opts.executor.close();
  }
}

function insertLedger(d: Dialect, cells: Cells): Statement {
  const p = new Params(d);
  return p.statement(insertMissingSql(d, BRONZE_BATCHES, `SELECT * FROM ${inlineTable(d, p, BRONZE_BATCHES.columns, [cells])}`));
}
