import type { BronzeTableDef, ColumnDef, SilverTableDef } from '../connectors/warehouse/types';

/** The table both warehouse benches load (`warehouse` through the adapter, `warehouse-floor` in SQL): 10 typed columns, keyed on id. */
export const BENCH_COLUMNS: ColumnDef[] = [
  { name: 'id', type: 'varchar' },
  { name: 'account_id', type: 'varchar' },
  { name: 'email', type: 'varchar' },
  { name: 'first_name', type: 'varchar' },
  { name: 'last_name', type: 'varchar' },
  { name: 'amount', type: 'double' },
  { name: 'score', type: 'bigint' },
  { name: 'active', type: 'boolean' },
  { name: 'created_at', type: 'timestamp' },
  { name: 'system_modstamp', type: 'timestamp' },
];
export const BENCH_SILVER: SilverTableDef = { name: 'bench_contact', columns: BENCH_COLUMNS, primaryKey: ['id'], versionColumn: 'system_modstamp' };
export const BENCH_BRONZE: BronzeTableDef = { name: 'bench_contact', keyColumns: BENCH_COLUMNS };
