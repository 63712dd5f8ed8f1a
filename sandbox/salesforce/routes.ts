/**
 * The emulator's endpoints as `METHOD /route/pattern`: the keys `faults.set()` and
 * `PUT /__sandbox/faults` take (or `*` for all). Routes are registered from these very strings, so
 * a key here always matches a real endpoint.
 */
export const SALESFORCE_ROUTES = {
  token: 'POST /services/oauth2/token',
  revoke: 'POST /services/oauth2/revoke',
  identity: 'GET /id/:orgId/:userId',
  versions: 'GET /services/data',
  resources: 'GET /services/data/:version',
  limits: 'GET /services/data/:version/limits',
  query: 'GET /services/data/:version/query',
  queryMore: 'GET /services/data/:version/query/:locator',
  queryAll: 'GET /services/data/:version/queryAll',
  queryAllMore: 'GET /services/data/:version/queryAll/:locator',
  describeGlobal: 'GET /services/data/:version/sobjects',
  sobjectInfo: 'GET /services/data/:version/sobjects/:object',
  describe: 'GET /services/data/:version/sobjects/:object/describe',
  deleted: 'GET /services/data/:version/sobjects/:object/deleted',
  updated: 'GET /services/data/:version/sobjects/:object/updated',
  createRecord: 'POST /services/data/:version/sobjects/:object',
  retrieveRecord: 'GET /services/data/:version/sobjects/:object/:id',
  updateRecord: 'PATCH /services/data/:version/sobjects/:object/:id',
  deleteRecord: 'DELETE /services/data/:version/sobjects/:object/:id',
  bulkCreateJob: 'POST /services/data/:version/jobs/query',
  bulkListJobs: 'GET /services/data/:version/jobs/query',
  bulkGetJob: 'GET /services/data/:version/jobs/query/:jobId',
  bulkAbortJob: 'PATCH /services/data/:version/jobs/query/:jobId',
  bulkDeleteJob: 'DELETE /services/data/:version/jobs/query/:jobId',
  bulkResults: 'GET /services/data/:version/jobs/query/:jobId/results',
} as const;

export type SalesforceRoute = (typeof SALESFORCE_ROUTES)[keyof typeof SALESFORCE_ROUTES];

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export function splitRoute(route: SalesforceRoute): { method: Method; url: string } {
  const [method, url] = route.split(' ');
  return { method: method as Method, url };
}
