import type { FastifyInstance } from 'fastify';
import { apiVersion, type EmulatorContext } from '../context';
import { notFound, SalesforceApiError } from '../errors';
import { describeObject, objectSummary } from '../describe';
import type { ObjectDef } from '../schema';
import { splitRoute, SALESFORCE_ROUTES, type SalesforceRoute } from '../routes';
import { toApiRecord, type FieldInput } from '../store';
import { parseSfDateTime, toSfDateTime } from '../time';

interface VersionParams {
  version: string;
}
interface ObjectParams extends VersionParams {
  object: string;
}
interface RecordParams extends ObjectParams {
  id: string;
}

export const versionOf = (params: VersionParams): string => apiVersion(params.version) ?? '62.0';

export function objectOf(ctx: EmulatorContext, params: ObjectParams): ObjectDef {
  const object = ctx.store.schema.find(params.object);
  if (!object) throw notFound();
  return object;
}

function route<P>(app: FastifyInstance, name: SalesforceRoute, handler: (params: P, query: Record<string, string | undefined>, body: unknown) => unknown, status = 200) {
  const { method, url } = splitRoute(name);
  app.route<{ Params: P; Querystring: Record<string, string | undefined> }>({
    method,
    url,
    handler: async (request, reply) => {
      const result = await handler(request.params as P, request.query, request.body);
      if (status === 204) return reply.code(204).send();
      return reply.code(status).send(result);
    },
  });
}

/** Versions, resources, limits, describe, and the sObject record endpoints (the test mutation API). */
export function registerSObjectRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const { store } = ctx;

  route<Record<string, never>>(app, SALESFORCE_ROUTES.versions, () => {
    const seasons = ['Winter', 'Spring', 'Summer'];
    const out = [];
    for (let v = 31; v <= 66; v++) {
      const k = v - 62;
      const season = seasons[((k % 3) + 3) % 3];
      const year = 25 + Math.floor(k / 3);
      out.push({ label: `${season} '${year}`, url: `/services/data/v${v}.0`, version: `${v}.0` });
    }
    return out;
  });

  route<VersionParams>(app, SALESFORCE_ROUTES.resources, (params) => {
    const base = `/services/data/v${versionOf(params)}`;
    return { limits: `${base}/limits`, query: `${base}/query`, queryAll: `${base}/queryAll`, sobjects: `${base}/sobjects`, jobs: `${base}/jobs` };
  });

  route<VersionParams>(app, SALESFORCE_ROUTES.limits, () => {
    const used = ctx.usage.used(store.now());
    const bulkJobs = ctx.bulk.list().length;
    return {
      DailyApiRequests: { Max: ctx.usage.max, Remaining: Math.max(0, ctx.usage.max - used) },
      DailyBulkV2QueryJobs: { Max: 10_000, Remaining: Math.max(0, 10_000 - bulkJobs) },
      DailyBulkV2QueryFileStorageMB: { Max: 976_562, Remaining: 976_562 },
      ConcurrentAsyncGetReportInstances: { Max: 200, Remaining: 200 },
      DataStorageMB: { Max: 10_240, Remaining: 9_800 },
    };
  });

  route<VersionParams>(app, SALESFORCE_ROUTES.describeGlobal, (params) => ({
    encoding: 'UTF-8',
    maxBatchSize: 200,
    sobjects: store.schema.objects().map((o) => objectSummary(o, versionOf(params))),
  }));

  route<ObjectParams>(app, SALESFORCE_ROUTES.sobjectInfo, (params) => ({ objectDescribe: objectSummary(objectOf(ctx, params), versionOf(params)), recentItems: [] }));

  route<ObjectParams>(app, SALESFORCE_ROUTES.describe, (params) => describeObject(objectOf(ctx, params), versionOf(params)));

  const replicationRange = (query: Record<string, string | undefined>) => {
    const start = parseSfDateTime(query.start ?? '');
    const end = parseSfDateTime(query.end ?? '');
    if (start === undefined || end === undefined) throw new SalesforceApiError(400, 'INVALID_REPLICATION_DATE', 'start and end must be datetimes such as 2024-01-01T00:00:00+00:00');
    if (end < start) throw new SalesforceApiError(400, 'INVALID_REPLICATION_DATE', 'end must be after start');
    return { start, end: Math.min(end, store.now()) };
  };

  route<ObjectParams>(app, SALESFORCE_ROUTES.deleted, (params, query) => {
    const object = objectOf(ctx, params);
    const { start, end } = replicationRange(query);
    // getDeleted covers the recycle bin, which Salesforce empties after 15 days.
    const earliest = store.now() - 15 * 86_400_000;
    const deletedRecords = store
      .records(object.name, { includeDeleted: true })
      .filter((r) => r.IsDeleted && (r.SystemModstamp as number) >= Math.max(start, earliest) && (r.SystemModstamp as number) <= end)
      .map((r) => ({ id: r.Id as string, deletedDate: toSfDateTime(r.SystemModstamp as number) }));
    return { deletedRecords, earliestDateAvailable: toSfDateTime(earliest), latestDateCovered: toSfDateTime(end) };
  });

  route<ObjectParams>(app, SALESFORCE_ROUTES.updated, (params, query) => {
    const object = objectOf(ctx, params);
    const { start, end } = replicationRange(query);
    const ids = store
      .records(object.name)
      .filter((r) => (r.SystemModstamp as number) >= start && (r.SystemModstamp as number) <= end)
      .map((r) => r.Id as string);
    return { ids, latestDateCovered: toSfDateTime(end) };
  });

  route<ObjectParams>(
    app,
    SALESFORCE_ROUTES.createRecord,
    (params, _query, body) => {
      const object = objectOf(ctx, params);
      const id = store.create(object.name, asFields(body));
      return { id, success: true, errors: [] };
    },
    201,
  );

  route<RecordParams>(app, SALESFORCE_ROUTES.retrieveRecord, (params, query) => {
    const object = objectOf(ctx, params);
    const record = store.stored(object.name, params.id);
    if (!record || record.IsDeleted) throw notFound();
    let fields = object.fields;
    if (query.fields) {
      fields = query.fields.split(',').map((name) => {
        const field = object.byLowerName.get(name.trim().toLowerCase());
        if (!field) throw new SalesforceApiError(400, 'INVALID_FIELD', `No such column '${name.trim()}' on sobject of type ${object.name}`);
        return field;
      });
    }
    const version = versionOf(params);
    return { attributes: { type: object.name, url: `/services/data/v${version}/sobjects/${object.name}/${record.Id as string}` }, ...toApiRecord(record, fields, store.formulaContext()) };
  });

  route<RecordParams>(app, SALESFORCE_ROUTES.updateRecord, (params, _query, body) => store.update(objectOf(ctx, params).name, params.id, asFields(body)), 204);

  route<RecordParams>(app, SALESFORCE_ROUTES.deleteRecord, (params) => store.delete(objectOf(ctx, params).name, params.id), 204);
}

function asFields(body: unknown): FieldInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SalesforceApiError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object of field values');
  return body as FieldInput;
}
