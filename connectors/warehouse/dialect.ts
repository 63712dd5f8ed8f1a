import type { ColumnType } from './types';
import type { Layer, PhysicalColumn, PhysicalTable } from './table-defs';
import { assertIdentifier } from './table-defs';

/**
 * What differs between DuckDB and Databricks SQL for the statements the adapters generate. All the
 * rest (MERGE, dedupe, checks, ops upserts) is one text built in sql.ts, so that the Spark + Delta
 * dialect tests exercise exactly what Databricks will run.
 */
export interface Dialect {
  readonly name: 'duckdb' | 'databricks';
  quote(identifier: string): string;
  /** `catalog.layer` (Databricks, Unity Catalog) or `layer` (DuckDB). */
  schema(layer: Layer): string;
  table(layer: Layer, name: string): string;
  type(t: ColumnType): string;
  /** The type as a column definition writes it: its storage, where the engine lets us choose. */
  storedType(t: ColumnType): string;
  /** Named parameter marker. */
  param(name: string): string;
  /** Text after the column list of CREATE TABLE. */
  createTableTail(table: PhysicalTable): string;
  /** A statement answering one row per existing column (column name in the first field). */
  listColumns(layer: Layer, name: string): Statement;
  /** Reads the column names out of listColumns' rows. */
  columnNames(rows: RawRow[]): string[];
  /** ALTER TABLE that adds a nullable column. */
  addColumn(layer: Layer, table: string, column: PhysicalColumn): string;
}

export type RawRow = Record<string, unknown>;

/** SQL text with named parameters. Every parameter is text cast in SQL, so both engines bind it alike. */
export interface Statement {
  sql: string;
  params: Record<string, string>;
}

const DUCKDB_TYPES: Record<ColumnType, string> = {
  varchar: 'VARCHAR',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  json: 'JSON',
};

// Databricks TIMESTAMP is an instant (shown in the session time zone, which the adapter sets to UTC).
const DATABRICKS_TYPES: Record<ColumnType, string> = {
  varchar: 'STRING',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  json: 'STRING',
};

/**
 * DuckDB left text of ~1 KiB such as a payload uncompressed (its own analysis chose neither FSST
 * nor dictionary for the Segment payloads): ~450 column segments per 100,000 rows, each a node of the table's tree
 * that DuckDB keeps in memory outside its pool once loaded, so the worker's memory grew with the
 * rows stored (bench/README.md). zstd stores them in one segment per row group and a ninth of the
 * bytes. It needs a file of storage version 1.2 or later (openDuckDBWarehouse creates them so); in
 * an older file DuckDB falls back to its own choice.
 */
const DUCKDB_STORED_TYPES: Record<ColumnType, string> = { ...DUCKDB_TYPES, json: 'JSON USING COMPRESSION zstd' };

export const duckdbDialect: Dialect = {
  name: 'duckdb',
  quote: (id) => `"${id.replace(/"/g, '""')}"`,
  schema: (layer) => `"${layer}"`,
  table: (layer, name) => `"${layer}"."${name.replace(/"/g, '""')}"`,
  type: (t) => DUCKDB_TYPES[t],
  storedType: (t) => DUCKDB_STORED_TYPES[t],
  param: (name) => `$${name}`,
  createTableTail: () => '',
  listColumns: (layer, name) => ({
    sql: 'SELECT column_name FROM information_schema.columns WHERE table_schema = $s AND table_name = $t ORDER BY ordinal_position',
    params: { s: layer, t: name },
  }),
  columnNames: (rows) => rows.map((r) => String(r.column_name)),
  addColumn: (layer, table, c) => `ALTER TABLE "${layer}"."${table}" ADD COLUMN IF NOT EXISTS "${c.name}" ${DUCKDB_STORED_TYPES[c.type]}`,
};

export interface DatabricksNaming {
  /**
   * Unity Catalog name. On Databricks the configured catalog; on open-source Spark `spark_catalog`
   * (the session catalog accepts three-level names too, so the statements are the same text).
   */
  catalog: string;
}

export function databricksDialect(naming: DatabricksNaming): Dialect {
  assertIdentifier(naming.catalog, 'Catalog');
  const q = (id: string) => `\`${id.replace(/`/g, '``')}\``;
  const schema = (layer: Layer) => `${q(naming.catalog)}.${q(layer)}`;
  return {
    name: 'databricks',
    quote: q,
    schema,
    table: (layer, name) => `${schema(layer)}.${q(name)}`,
    type: (t) => DATABRICKS_TYPES[t],
    storedType: (t) => DATABRICKS_TYPES[t],
    param: (name) => `:${name}`,
    // Delta is the default on Databricks but not on Spark; liquid clustering on the key keeps MERGE
    // and the batch-id lookups pruned without partitions.
    createTableTail: (t) => (t.key.length > 0 ? ` USING DELTA CLUSTER BY (${t.key.slice(0, 4).map(q).join(', ')})` : ' USING DELTA'),
    listColumns: (layer, name) => ({ sql: `DESCRIBE TABLE ${schema(layer)}.${q(name)}`, params: {} }),
    // DESCRIBE lists the columns, then a blank or `#` line before partitioning/clustering details.
    columnNames: (rows) => {
      const names: string[] = [];
      for (const r of rows) {
        const name = String(r.col_name ?? '');
        if (name === '' || name.startsWith('#')) break;
        names.push(name);
      }
      return names;
    },
    addColumn: (layer, table, c) => `ALTER TABLE ${schema(layer)}.${q(table)} ADD COLUMNS (${q(c.name)} ${DATABRICKS_TYPES[c.type]})`,
  };
}
