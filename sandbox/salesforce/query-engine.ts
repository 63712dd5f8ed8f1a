import type { StoredRecord } from './schema';
import { planSoql, type QueryPlan } from './soql/plan';
import type { SalesforceStore } from './store';

export interface QueryResult {
  plan: QueryPlan;
  /** The matching records as they were when the query ran (records are immutable). */
  rows: StoredRecord[];
  totalSize: number;
}

/** Runs a SOQL query against the store: filter, order, OFFSET / LIMIT. */
export function runQuery(store: SalesforceStore, soql: string, opts: { includeDeleted: boolean }): QueryResult {
  const plan = planSoql(soql, (name) => store.schema.find(name));
  const ctx = store.formulaContext();
  let rows = store.records(plan.object.name, { includeDeleted: opts.includeDeleted }).filter((r) => plan.matches(r, ctx));
  const compare = plan.compare;
  if (compare) rows.sort((a, b) => compare(a, b, ctx));
  if (plan.offset > 0 || plan.limit !== undefined) rows = rows.slice(plan.offset, plan.limit === undefined ? undefined : plan.offset + plan.limit);
  return { plan, rows: plan.countOnly ? [] : rows, totalSize: rows.length };
}
