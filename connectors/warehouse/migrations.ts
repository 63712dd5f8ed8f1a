import { logger } from '../../config/logger';
import type { Dialect, RawRow, Statement } from './dialect';
import { ALERT_STATE, BRONZE_BATCHES, CHECK_RESULTS, DEAD_LETTERS, SCHEMA_CHANGES, SCHEMA_MIGRATIONS, STREAM_SCHEMAS, SYNC_RUNS, SYNC_STATE, TRACKING_VIOLATIONS } from './ops-tables';
import { createSchemaSql, createTableSql, upsertRowSql } from './sql';
import type { PhysicalTable } from './table-defs';
import { LAYERS } from './table-defs';

/**
 * Versioned migrations of the ops schema, applied once each and recorded in ops.schema_migrations.
 *
 * Steps are declarative and idempotent by construction (create if missing, add a column if missing),
 * because on Databricks nothing is transactional and a retried activity may run a step twice. A
 * fresh warehouse gets the current shape from createTable, so later addColumn steps find nothing
 * to do there. Never edit an applied migration: append a new one.
 */
export type MigrationStep = { kind: 'createTable'; table: PhysicalTable } | { kind: 'addColumn'; table: PhysicalTable; column: string };

export interface Migration {
  version: number;
  name: string;
  steps: MigrationStep[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'ops tables: sync_state, sync_runs, dead_letters, check_results, bronze_batches',
    steps: [SYNC_STATE, SYNC_RUNS, DEAD_LETTERS, CHECK_RESULTS, BRONZE_BATCHES].map((table) => ({ kind: 'createTable' as const, table })),
  },
  { version: 2, name: 'ops.alert_state: open alerts and watched progress', steps: [{ kind: 'createTable', table: ALERT_STATE }] },
  { version: 3, name: 'ops.tracking_violations: calls off the tracking plan', steps: [{ kind: 'createTable', table: TRACKING_VIOLATIONS }] },
  {
    version: 4,
    name: 'ops.schema_changes and ops.stream_schemas: source schema evolution',
    steps: [
      { kind: 'createTable', table: SCHEMA_CHANGES },
      { kind: 'createTable', table: STREAM_SCHEMAS },
    ],
  },
];

/** What the runner needs from an adapter. */
export interface SchemaTarget {
  dialect: Dialect;
  run(stmt: Statement): Promise<RawRow[]>;
  /** Runs fn as one transaction where the engine has them (DuckDB); elsewhere just runs it. */
  atomically<T>(fn: () => Promise<T>): Promise<T>;
}

const plain = (sql: string): Statement => ({ sql, params: {} });

async function existingColumns(target: SchemaTarget, table: PhysicalTable): Promise<string[]> {
  return target.dialect.columnNames(await target.run(target.dialect.listColumns(table.layer, table.name)));
}

/** Creates the table if missing, then adds (nullable) any column the definition gained since. */
export async function ensureTable(target: SchemaTarget, table: PhysicalTable): Promise<string[]> {
  await target.run(plain(createTableSql(target.dialect, table)));
  const have = new Set((await existingColumns(target, table)).map((c) => c.toLowerCase()));
  const added: string[] = [];
  for (const c of table.columns) {
    if (have.has(c.name.toLowerCase())) continue;
    await target.run(plain(target.dialect.addColumn(table.layer, table.name, c)));
    added.push(c.name);
  }
  if (added.length > 0) logger().info({ table: `${table.layer}.${table.name}`, added }, 'warehouse table gained columns');
  return added;
}

async function applyStep(target: SchemaTarget, step: MigrationStep): Promise<void> {
  if (step.kind === 'createTable') {
    await target.run(plain(createTableSql(target.dialect, step.table)));
    return;
  }
  const column = step.table.columns.find((c) => c.name === step.column);
  if (!column) throw new Error(`migration adds unknown column ${step.column} to ops.${step.table.name}`);
  const have = await existingColumns(target, step.table);
  if (!have.some((c) => c.toLowerCase() === column.name.toLowerCase())) await target.run(plain(target.dialect.addColumn('ops', step.table.name, { ...column, nullable: true })));
}

/** Creates the layers and applies pending migrations; answers the versions applied now. */
export async function migrate(target: SchemaTarget, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  for (const layer of LAYERS) await target.run(plain(createSchemaSql(target.dialect, layer)));
  await target.run(plain(createTableSql(target.dialect, SCHEMA_MIGRATIONS)));
  const rows = await target.run(plain(`SELECT ${target.dialect.quote('version')} FROM ${target.dialect.table('ops', SCHEMA_MIGRATIONS.name)}`));
  const done = new Set(rows.map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    await target.atomically(async () => {
      for (const step of m.steps) await applyStep(target, step);
      // Keyed on version: a second worker racing us, or a retried activity, records it only once.
      await target.run(upsertRowSql(target.dialect, SCHEMA_MIGRATIONS, [String(m.version), m.name, new Date().toISOString()], { keepOnMatch: ['name', 'applied_at'] }));
    });
    applied.push(m.version);
    logger().info({ version: m.version, migration: m.name, warehouse: target.dialect.name }, 'warehouse migration applied');
  }
  return applied;
}
