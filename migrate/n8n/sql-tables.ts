import { withoutExpressions } from './params';

/**
 * The tables a BigQuery SQL statement reads and writes, from its FROM / JOIN / INTO / UPDATE /
 * MERGE clauses. Names may be quoted with backticks as a whole (`p.d.t`) or per part, and use
 * Legacy SQL's `[project:dataset.table]`.
 */

export interface TableRef {
  project?: string;
  dataset?: string;
  table: string;
}

export interface SqlTables {
  reads: TableRef[];
  writes: TableRef[];
  /** The statement changes data (INSERT, UPDATE, DELETE, MERGE, CREATE ... AS, TRUNCATE). */
  writesData: boolean;
}

const NAME = '(`[^`]+`(?:\\.`[^`]+`)*|\\[[^\\]]+\\]|[A-Za-z_][\\w-]*(?:\\.[A-Za-z_][\\w-]*){0,2})';

export function parseTableName(raw: string): TableRef | undefined {
  const text = raw.replace(/^\[|\]$/g, '').replace(/`/g, '').replace(':', '.');
  const parts = text.split('.').filter(Boolean);
  if (parts.length === 0 || parts.length > 3) return undefined;
  const table = parts[parts.length - 1];
  if (parts.length === 3) return { project: parts[0], dataset: parts[1], table };
  if (parts.length === 2) return { dataset: parts[0], table };
  return { table };
}

function collect(sql: string, pattern: RegExp): TableRef[] {
  const out: TableRef[] = [];
  for (const m of sql.matchAll(pattern)) {
    const ref = parseTableName(m[1]);
    if (ref && !/^(select|unnest|EXPR)$/i.test(ref.table) && !out.some((r) => keyOf(r) === keyOf(ref))) out.push(ref);
  }
  return out;
}

export const keyOf = (r: TableRef) => [r.project, r.dataset, r.table].filter(Boolean).join('.').toLowerCase();

export function sqlTables(sql: string): SqlTables {
  const text = withoutExpressions(sql.startsWith('=') ? sql.slice(1) : sql, 'EXPR')
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ');
  // CTE names are not tables.
  const ctes = new Set([...text.matchAll(/(?:with|,)\s+([A-Za-z_]\w*)\s+as\s*\(/gi)].map((m) => m[1].toLowerCase()));
  const notCte = (r: TableRef) => r.dataset !== undefined || !ctes.has(r.table.toLowerCase());
  const writes = collect(text, new RegExp(`\\b(?:insert\\s+(?:into\\s+)?|update\\s+|merge\\s+(?:into\\s+)?|delete\\s+(?:from\\s+)?|truncate\\s+table\\s+|create\\s+(?:or\\s+replace\\s+)?(?:temp\\s+|temporary\\s+)?table\\s+(?:if\\s+not\\s+exists\\s+)?)${NAME}`, 'gi')).filter(notCte);
  const reads = collect(text, new RegExp(`\\b(?:from|join|using)\\s+${NAME}`, 'gi')).filter(notCte);
  // A DELETE FROM's table is written, not read.
  const deleted = new Set(collect(text, new RegExp(`\\bdelete\\s+(?:from\\s+)?${NAME}`, 'gi')).map(keyOf));
  return { reads: reads.filter((r) => !deleted.has(keyOf(r))), writes, writesData: writes.length > 0 || /^\s*(insert|update|delete|merge|create|truncate|drop|alter)\b/i.test(text) };
}
