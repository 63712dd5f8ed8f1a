import type { FastifyInstance } from 'fastify';
import type { EmulatorContext } from '../context';
import { SalesforceApiError } from '../errors';
import { runQuery } from '../query-engine';
import { QueryCursors } from '../query-cursors';
import { splitRoute, SALESFORCE_ROUTES } from '../routes';
import { versionOf } from './sobjects';

/** `/query` and `/queryAll` (the latter includes IsDeleted rows), and their nextRecordsUrl pages. */
export function registerQueryRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  for (const [first, more, resource] of [
    [SALESFORCE_ROUTES.query, SALESFORCE_ROUTES.queryMore, 'query'],
    [SALESFORCE_ROUTES.queryAll, SALESFORCE_ROUTES.queryAllMore, 'queryAll'],
  ] as const) {
    const start = splitRoute(first);
    app.route<{ Params: { version: string }; Querystring: { q?: string } }>({
      method: start.method,
      url: start.url,
      handler: async (request) => {
        const soql = request.query.q;
        if (!soql) throw new SalesforceApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
        const result = runQuery(ctx.store, soql, { includeDeleted: resource === 'queryAll' });
        if (result.plan.countOnly) return { totalSize: result.totalSize, done: true, records: [] };
        const batchSize = QueryCursors.batchSizeFrom(request.headers['sforce-query-options']);
        return ctx.cursors.open(result, { version: versionOf(request.params), resource, batchSize });
      },
    });
    const next = splitRoute(more);
    app.route<{ Params: { version: string; locator: string } }>({
      method: next.method,
      url: next.url,
      handler: async (request) => ctx.cursors.more(request.params.locator, versionOf(request.params)),
    });
  }
}
