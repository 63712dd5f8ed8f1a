import type { WarehouseConfig } from '../../config/config';
import { DatabricksWarehouse } from './databricks/databricks-warehouse';
import { DbsqlExecutor } from './databricks/dbsql-executor';
import { openDuckDBWarehouse } from './duckdb/duckdb-warehouse';
import type { WarehouseHooks } from './hooks';
import type { Warehouse } from './types';

export type * from './types';
export type { WarehouseHooks, WriteOp } from './hooks';
export { DuckDBWarehouse, openDuckDBWarehouse, WarehouseInUseError } from './duckdb/duckdb-warehouse';
export type { DuckDBWarehouseOptions } from './duckdb/duckdb-warehouse';
export { DatabricksWarehouse } from './databricks/databricks-warehouse';
export type { DatabricksWarehouseOptions } from './databricks/databricks-warehouse';
export { DbsqlExecutor } from './databricks/dbsql-executor';
export type { SqlExecutor } from './databricks/sql-executor';

export interface CreateWarehouseOptions {
  /** DuckDB: open without write access (a process other than the worker). */
  readOnly?: boolean;
  /** DuckDB memory cap, e.g. `2GB`; overrides the configuration's. */
  memoryLimit?: string;
  hooks?: WarehouseHooks;
}

/**
 * The warehouse the configuration names: DuckDB (the default, a file under .data/) or Databricks.
 * For Databricks this connects and opens a session, so a wrong host or credential fails here with a
 * message naming the setting to fix.
 */
export async function createWarehouse(config: WarehouseConfig, opts: CreateWarehouseOptions = {}): Promise<Warehouse> {
  if (config.kind === 'duckdb') return openDuckDBWarehouse({ path: config.path, readOnly: opts.readOnly, memoryLimit: opts.memoryLimit ?? config.memoryLimit, checkpointThreshold: config.checkpointThreshold, threads: config.threads, hooks: opts.hooks });
  const executor = await DbsqlExecutor.connect({
    host: config.host,
    httpPath: config.httpPath,
    token: config.token,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    catalog: config.catalog,
  });
  return new DatabricksWarehouse({ executor, catalog: config.catalog, volume: config.volume, hooks: opts.hooks });
}
