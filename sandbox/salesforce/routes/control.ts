import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { EmulatorContext } from '../context';
import { FIELD_TYPES, SOBJECT_NAMES } from '../schema';
import { toSfDateTime } from '../time';

const sessionExpiry = z.object({ afterCalls: z.number().int().min(0).nullable() });
const advance = z.object({ ms: z.number().int().min(0) });
const apiLimit = z.object({ max: z.number().int().min(0), used: z.number().int().min(0).optional() });
const fieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'an API name such as Region__c');
const fieldRef = z.object({ object: z.enum(SOBJECT_NAMES), field: fieldName });
const addField = z.object({
  object: z.enum(SOBJECT_NAMES),
  name: fieldName,
  type: z.enum(FIELD_TYPES).exclude(['id', 'address', 'location']),
  label: z.string().optional(),
  length: z.number().int().min(1).max(131_072).optional(),
  precision: z.number().int().min(1).max(18).optional(),
  scale: z.number().int().min(0).max(17).optional(),
  picklistValues: z.array(z.string()).optional(),
  referenceTo: z.enum([...SOBJECT_NAMES, 'User']).optional(),
  /** Values of existing records by id, set without moving their SystemModstamp. */
  values: z.record(z.string(), z.unknown()).optional(),
});
const retypeField = fieldRef.extend({
  type: z.enum(FIELD_TYPES).exclude(['id', 'address', 'location']),
  length: z.number().int().min(1).max(131_072).optional(),
  precision: z.number().int().min(1).max(18).optional(),
  scale: z.number().int().min(0).max(17).optional(),
  picklistValues: z.array(z.string()).optional(),
});
const bulkImport = z.object({ object: z.enum(SOBJECT_NAMES), count: z.number().int().min(1).max(200_000), at: z.string().optional() });

/**
 * Test and demo knobs over HTTP, for processes that do not hold the emulator object (the
 * in-process equivalents are on `SalesforceEmulator`). Faults live at `PUT /__sandbox/faults`.
 */
export function registerControlRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const parse = <T>(schema: z.ZodType<T>, body: unknown): T => {
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw Object.assign(new Error(z.prettifyError(parsed.error)), { statusCode: 400 });
    return parsed.data;
  };

  app.get('/__sandbox/salesforce/state', async () => {
    const now = ctx.store.now();
    return {
      now: toSfDateTime(now),
      counts: Object.fromEntries(SOBJECT_NAMES.map((o) => [o, ctx.store.count(o)])),
      apiUsage: { used: ctx.usage.used(now), max: ctx.usage.max },
      sessionExpiresAfterCalls: ctx.sessions.expiry ?? null,
      openSessions: ctx.sessions.openCount,
      openCursors: ctx.cursors.openCount,
      pendingStageChanges: ctx.store.pendingStageChanges().length,
    };
  });

  app.post('/__sandbox/salesforce/session-expiry', async (request) => {
    const { afterCalls } = parse(sessionExpiry, request.body);
    ctx.sessions.setExpiry(afterCalls ?? undefined);
    return { sessionExpiresAfterCalls: afterCalls };
  });

  app.post('/__sandbox/salesforce/expire-sessions', async () => {
    ctx.sessions.expireAll();
    return {};
  });

  app.post('/__sandbox/salesforce/advance', async (request) => {
    const { ms } = parse(advance, request.body);
    const changes = ctx.store.advance(ms);
    return { now: toSfDateTime(ctx.store.now()), stageChanges: changes.length };
  });

  app.post('/__sandbox/salesforce/api-limit', async (request) => {
    const { max, used } = parse(apiLimit, request.body);
    ctx.usage.max = max;
    if (used !== undefined) {
      ctx.usage.reset();
      ctx.usage.fill(used, ctx.store.now());
    }
    return { max, used: ctx.usage.used(ctx.store.now()) };
  });

  // Setup changes at run time: a new field, field-level security, a field type change.
  app.post('/__sandbox/salesforce/fields/add', async (request) => {
    const { object, values, ...field } = parse(addField, request.body);
    const added = ctx.store.addField(object, field, values);
    return { object, field: added.name, type: added.type };
  });

  app.post('/__sandbox/salesforce/fields/hide', async (request) => {
    const { object, field } = parse(fieldRef, request.body);
    return { object, field: ctx.store.hideField(object, field).name, hidden: true };
  });

  app.post('/__sandbox/salesforce/fields/show', async (request) => {
    const { object, field } = parse(fieldRef, request.body);
    return { object, field: ctx.store.showField(object, field).name, hidden: false };
  });

  app.post('/__sandbox/salesforce/fields/retype', async (request) => {
    const { object, field, type, ...extra } = parse(retypeField, request.body);
    const next = ctx.store.retypeField(object, field, type, extra);
    return { object, field: next.name, type: next.type };
  });

  app.post('/__sandbox/salesforce/bulk-import', async (request) => {
    const { object, count, at } = parse(bulkImport, request.body);
    const when = at === undefined ? undefined : Date.parse(at);
    if (when !== undefined && Number.isNaN(when)) throw Object.assign(new Error(`Invalid datetime: ${at}`), { statusCode: 400 });
    const ids = ctx.store.createMany(object, count, { at: when });
    const first = ctx.store.get(object, ids[0]);
    return { count: ids.length, firstId: ids[0], lastId: ids[ids.length - 1], systemModstamp: first?.SystemModstamp };
  });
}
