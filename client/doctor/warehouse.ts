import fs from 'node:fs';
import path from 'node:path';
import type { WarehouseConfig } from '../../config/config';
import { DbsqlExecutor, type DbsqlConfig } from '../../connectors/warehouse/databricks/dbsql-executor';
import type { SqlExecutor } from '../../connectors/warehouse/databricks/sql-executor';
import { errorText, fail, pass, withTimeout, type DoctorCheck, type DoctorContext } from './types';

type Databricks = Extract<WarehouseConfig, { kind: 'databricks' }>;

export interface WarehouseCheckOptions {
  /** Opens the SQL connection (tests point it at another executor); default the real driver. */
  connectDatabricks?: (config: DbsqlConfig) => Promise<SqlExecutor>;
}

/** The warehouse the config names: DuckDB file writable, or Databricks reachable with CREATE and MERGE rights. */
export async function warehouseChecks(ctx: DoctorContext, opts: WarehouseCheckOptions = {}): Promise<DoctorCheck[]> {
  const w = ctx.config.warehouse;
  return w.kind === 'duckdb' ? duckdbChecks(w.path) : databricksChecks(w, ctx, opts.connectDatabricks ?? ((c) => DbsqlExecutor.connect(c)));
}

/**
 * DuckDB allows one writing process and the worker is it: opening the file here, even read-only,
 * would fail (or block the worker) while it runs. So check the file system only.
 */
function duckdbChecks(file: string): DoctorCheck[] {
  const service = 'warehouse (duckdb)';
  if (fs.existsSync(file)) {
    try {
      fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
      const mb = fs.statSync(file).size / 1_048_576;
      return [pass(service, 'file writable', `${file} (${mb.toFixed(1)} MB); only the worker opens it`)];
    } catch (err) {
      return [fail(service, 'file writable', `${file}: ${errorText(err)}`, `give the worker's user read and write access to ${file}, or set DUCKDB_PATH / DATA_DIR elsewhere`)];
    }
  }
  // Not created yet: the worker creates it and its directory on start, if the nearest existing parent lets it.
  let dir = path.dirname(file);
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    if (!fs.statSync(dir).isDirectory()) throw new Error(`${dir} is a file, not a directory`);
    fs.accessSync(dir, fs.constants.W_OK);
    return [pass(service, 'file writable', `${file} does not exist yet; the worker creates it (${dir} is writable)`)];
  } catch (err) {
    return [fail(service, 'file writable', `${dir} is not writable: ${errorText(err)}`, `set DUCKDB_PATH or DATA_DIR to a directory the worker can write`)];
  }
}

async function databricksChecks(w: Databricks, ctx: DoctorContext, connect: (c: DbsqlConfig) => Promise<SqlExecutor>): Promise<DoctorCheck[]> {
  const service = 'warehouse (databricks)';
  const { kind: _kind, volume: _volume, ...conn } = w;
  let executor: SqlExecutor;
  try {
    executor = await withTimeout(connect(conn), ctx.timeoutMs, `connecting to ${w.host}`);
  } catch (err) {
    // describeDatabricksError names the setting to fix in its message.
    return [fail(service, 'warehouse reachable', errorText(err), 'fix the setting the message names (DATABRICKS_HOST, DATABRICKS_HTTP_PATH, DATABRICKS_TOKEN or DATABRICKS_CLIENT_ID / DATABRICKS_CLIENT_SECRET); a stopped SQL warehouse starts on the first query')];
  }
  const q = (name: string) => `\`${name.replace(/`/g, '``')}\``;
  const probe = `${q(w.catalog)}.${q('ops')}.${q('_doctor_probe')}`;
  const steps: { check: string; sql: string[]; fix: string; detail: string }[] = [
    { check: 'warehouse reachable', sql: ['SELECT 1 AS ok'], detail: `${w.host}${w.httpPath}`, fix: 'check DATABRICKS_HTTP_PATH and that the SQL warehouse is running' },
    {
      check: `catalog ${w.catalog} usable`,
      sql: [`SHOW SCHEMAS IN ${q(w.catalog)}`],
      detail: 'USE CATALOG granted',
      fix: `create the catalog ${w.catalog} or set DATABRICKS_CATALOG; grant the principal USE CATALOG on it`,
    },
    {
      check: 'CREATE and MERGE permitted',
      sql: [
        `CREATE SCHEMA IF NOT EXISTS ${q(w.catalog)}.${q('ops')}`,
        `CREATE TABLE IF NOT EXISTS ${probe} (id STRING, checked_at TIMESTAMP)`,
        `MERGE INTO ${probe} AS t USING (SELECT 'doctor' AS id, current_timestamp() AS checked_at) AS s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.checked_at = s.checked_at WHEN NOT MATCHED THEN INSERT (id, checked_at) VALUES (s.id, s.checked_at)`,
        `DROP TABLE IF EXISTS ${probe}`,
      ],
      detail: `created, merged into and dropped ${w.catalog}.ops._doctor_probe`,
      fix: `grant the principal CREATE SCHEMA and USE SCHEMA on ${w.catalog}, CREATE TABLE and MODIFY on ${w.catalog}.ops (see README, Deploying > Databricks)`,
    },
  ];
  const out: DoctorCheck[] = [];
  try {
    for (const step of steps) {
      try {
        for (const sql of step.sql) await withTimeout(executor.execute(sql), ctx.timeoutMs, step.check);
        out.push(pass(service, step.check, step.detail));
      } catch (err) {
        out.push(fail(service, step.check, errorText(err), step.fix));
        break;
      }
    }
  } finally {
    await executor.close().catch(() => undefined);
  }
  return out;
}
