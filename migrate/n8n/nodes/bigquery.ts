import type { N8nNode } from '../export-format';
import { literal, textOf } from '../params';
import { sqlTables, type TableRef } from '../sql-tables';
import type { SystemUse } from '../uses';

/**
 * The Google BigQuery node (`n8n-nodes-base.googleBigQuery`). Version 1: resource `record`,
 * operations `create` (insert rows) and `getAll` (read a table), with `projectId`, `datasetId`,
 * `tableId` as text. Version 2: resource `database`, operations `executeQuery` (`sqlQuery`) and
 * `insert`, the ids as resource locators. A query's tables come from its SQL.
 */
export function bigQueryNode(node: N8nNode): SystemUse[] {
  const p = node.parameters;
  const v2 = node.typeVersion >= 2;
  const operation = literal(p.operation) ?? (v2 ? 'executeQuery' : 'create');
  const project = literal(p.projectId);
  const named: TableRef[] = literal(p.tableId) ? [{ project, dataset: literal(p.datasetId), table: literal(p.tableId)! }] : [];
  const base = { node: node.name, type: node.type, system: 'bigquery' as const, label: 'BigQuery', operation };
  if (operation === 'executeQuery') {
    const sql = textOf(p.sqlQuery)?.text ?? '';
    const t = sqlTables(sql);
    const fill = (r: TableRef): TableRef => ({ ...r, project: r.project ?? project });
    const uses: SystemUse[] = [];
    if (t.reads.length || !t.writesData) uses.push({ ...base, access: 'read', bigquery: { tables: t.reads.map(fill), sql } });
    if (t.writesData) uses.push({ ...base, access: 'write', bigquery: { tables: t.writes.map(fill), sql } });
    return uses;
  }
  return [{ ...base, access: operation === 'getAll' ? 'read' : 'write', bigquery: { tables: named } }];
}
