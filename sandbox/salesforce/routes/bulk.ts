import type { FastifyInstance } from 'fastify';
import type { EmulatorContext } from '../context';
import { SalesforceApiError } from '../errors';
import { splitRoute, SALESFORCE_ROUTES } from '../routes';
import { versionOf } from './sobjects';

interface JobParams {
  version: string;
  jobId: string;
}

/** Bulk API 2.0 query jobs: create, poll, list, abort, delete, and CSV results paged by Sforce-Locator. */
export function registerBulkRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const create = splitRoute(SALESFORCE_ROUTES.bulkCreateJob);
  app.route<{ Params: { version: string } }>({
    method: create.method,
    url: create.url,
    handler: async (request) => ctx.bulk.create(request.body, versionOf(request.params)),
  });

  const list = splitRoute(SALESFORCE_ROUTES.bulkListJobs);
  app.route({ method: list.method, url: list.url, handler: async () => ({ done: true, records: ctx.bulk.list(), nextRecordsUrl: null }) });

  const get = splitRoute(SALESFORCE_ROUTES.bulkGetJob);
  app.route<{ Params: JobParams }>({ method: get.method, url: get.url, handler: async (request) => ctx.bulk.get(request.params.jobId) });

  const abort = splitRoute(SALESFORCE_ROUTES.bulkAbortJob);
  app.route<{ Params: JobParams; Body: { state?: string } | undefined }>({
    method: abort.method,
    url: abort.url,
    handler: async (request) => {
      if (request.body?.state !== 'Aborted') throw new SalesforceApiError(400, 'INVALIDJOBSTATE', 'A query job can only be set to Aborted');
      return ctx.bulk.abort(request.params.jobId);
    },
  });

  const remove = splitRoute(SALESFORCE_ROUTES.bulkDeleteJob);
  app.route<{ Params: JobParams }>({
    method: remove.method,
    url: remove.url,
    handler: async (request, reply) => {
      ctx.bulk.delete(request.params.jobId);
      return reply.code(204).send();
    },
  });

  const results = splitRoute(SALESFORCE_ROUTES.bulkResults);
  app.route<{ Params: JobParams; Querystring: { locator?: string; maxRecords?: string } }>({
    method: results.method,
    url: results.url,
    handler: async (request, reply) => {
      const page = ctx.bulk.results(request.params.jobId, versionOf(request.params), request.query);
      return reply
        .header('Content-Type', 'text/csv')
        .header('Sforce-Locator', page.locator)
        .header('Sforce-NumberOfRecords', String(page.numberOfRecords))
        .send(page.csv);
    },
  });
}
