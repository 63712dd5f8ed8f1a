import type { RawRow } from '../dialect';

export interface ExecuteOptions {
  /** Local directory a PUT/REMOVE to a Volume may read from (the driver refuses other paths). */
  stagingAllowedLocalPath?: string;
}

/**
 * The seam between the Databricks adapter and whatever runs its SQL: the real driver
 * (DbsqlExecutor), local Spark + Delta for the dialect tests, or a fake in unit tests.
 * Named parameters are `:name` markers with text values; positional ones are `?`.
 */
export interface SqlExecutor {
  execute(sql: string, params?: Record<string, string> | readonly unknown[], opts?: ExecuteOptions): Promise<RawRow[]>;
  close(): Promise<void>;
}
