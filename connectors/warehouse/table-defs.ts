import { PermanentError } from '../../lib/errors';
import type { BronzeTableDef, ColumnDef, ColumnType, SilverTableDef } from './types';

/**
 * The physical shape of every table the adapters manage, derived once from the definitions in
 * types.ts (bronze, silver) and ops-tables.ts (ops). Both adapters build their SQL from these, so
 * DuckDB and Databricks tables always have the same columns in the same order.
 */

export type Layer = 'bronze' | 'silver' | 'ops';
export const LAYERS: readonly Layer[] = ['bronze', 'silver', 'ops'];

/** Columns the adapters add and manage themselves. */
export const SYS = {
  deleted: '_deleted',
  mergedAt: '_merged_at',
  payload: '_payload',
  ingestedAt: '_ingested_at',
  batchId: '_batch_id',
  /** Ordinal of a record within its batch: with _batch_id, the identity of a bronze row. */
  row: '_row',
  /** Position of a row in a mergeSilver call, to break version ties (the later one wins). */
  ord: '_ord',
} as const;

/** A column whose nullability is settled (definitions leave it optional). */
export interface PhysicalColumn {
  name: string;
  type: ColumnType;
  nullable: boolean;
}

export interface PhysicalTable {
  layer: Layer;
  name: string;
  columns: PhysicalColumn[];
  /** Columns that identify a row (NOT NULL, used for clustering and merges). */
  key: string[];
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const RESERVED = new Set<string>(Object.values(SYS));

export function assertIdentifier(name: string, what: string): void {
  if (!IDENT.test(name))
    throw new PermanentError('ConfigError', `${what} "${name}" is not a valid warehouse identifier: use letters, digits and _ (not starting with a digit), at most 128 characters.`);
}

function assertColumns(table: string, columns: ColumnDef[]): void {
  const seen = new Set<string>();
  for (const c of columns) {
    assertIdentifier(c.name, `Column of ${table}`);
    if (RESERVED.has(c.name)) throw new PermanentError('ConfigError', `Column "${c.name}" of ${table} is managed by the warehouse adapter; rename it.`);
    const lower = c.name.toLowerCase();
    // Databricks and DuckDB compare identifiers case-insensitively, so "Id" and "id" collide.
    if (seen.has(lower)) throw new PermanentError('ConfigError', `Column "${c.name}" appears twice in ${table} (names are case-insensitive).`);
    seen.add(lower);
  }
}

export function bronzeTable(def: BronzeTableDef): PhysicalTable {
  assertIdentifier(def.name, 'Bronze table');
  assertColumns(`bronze.${def.name}`, def.keyColumns);
  return {
    layer: 'bronze',
    name: def.name,
    // Bronze keeps what was received, including records whose key is missing: key columns stay
    // nullable unless the definition says otherwise, and the reconciliation check reports them.
    columns: [
      ...def.keyColumns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable !== false })),
      { name: SYS.payload, type: 'json' as const, nullable: false },
      { name: SYS.ingestedAt, type: 'timestamp' as const, nullable: false },
      { name: SYS.batchId, type: 'varchar' as const, nullable: false },
      { name: SYS.row, type: 'bigint' as const, nullable: false },
    ],
    key: [SYS.batchId, SYS.row],
  };
}

export function silverTable(def: SilverTableDef): PhysicalTable {
  assertIdentifier(def.name, 'Silver table');
  assertColumns(`silver.${def.name}`, def.columns);
  const names = new Set(def.columns.map((c) => c.name));
  if (def.primaryKey.length === 0) throw new PermanentError('ConfigError', `silver.${def.name} needs a primary key.`);
  for (const k of def.primaryKey)
    if (!names.has(k)) throw new PermanentError('ConfigError', `Primary key column "${k}" is not a column of silver.${def.name}.`);
  if (!names.has(def.versionColumn))
    throw new PermanentError('ConfigError', `Version column "${def.versionColumn}" is not a column of silver.${def.name}.`);
  const pk = new Set(def.primaryKey);
  return {
    layer: 'silver',
    name: def.name,
    columns: [
      ...def.columns.map((c) => ({ name: c.name, type: c.type, nullable: !pk.has(c.name) && c.nullable !== false })),
      { name: SYS.deleted, type: 'boolean' as const, nullable: false },
      { name: SYS.mergedAt, type: 'timestamp' as const, nullable: false },
    ],
    key: [...def.primaryKey],
  };
}

/** Columns of the staging rows of a silver merge: the table's own columns, the delete flag, the call order. */
export function silverStagingColumns(def: SilverTableDef): PhysicalColumn[] {
  const pk = new Set(def.primaryKey);
  return [
    ...def.columns.map((c) => ({ name: c.name, type: c.type, nullable: !pk.has(c.name) && c.nullable !== false })),
    { name: SYS.deleted, type: 'boolean', nullable: false },
    { name: SYS.ord, type: 'bigint', nullable: false },
  ];
}

/** Columns of the staging rows of a bronze append: keys, payload and ordinal (batch id and time are constants). */
export function bronzeStagingColumns(def: BronzeTableDef): PhysicalColumn[] {
  return bronzeTable(def).columns.filter((c) => c.name !== SYS.batchId && c.name !== SYS.ingestedAt);
}

/** Stable text of a definition, to remember which tables an adapter has already ensured. */
export function signature(t: PhysicalTable): string {
  return `${t.layer}.${t.name}(${t.columns.map((c) => `${c.name}:${c.type}:${c.nullable ? 'n' : 'nn'}`).join(',')})`;
}
