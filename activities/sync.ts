import { activityInfo, heartbeat } from '@temporalio/activity';
import { PermanentError } from '../lib/errors';
import { resolveFields } from '../mappings/salesforce-describe';
import { syncPage } from '../streams/pipeline';
import { isSyncSource } from '../streams/names';
import { syncStreamsOf } from '../streams/sources';
import { syncStreamSchema } from '../streams/schema-sync';
import { needsDescribe, rememberedSpecs, syncListedSchema, type ListedSchemaStream } from '../streams/listed-schema-sync';
import { isUnreadableFieldError } from '../connectors/salesforce/errors';
import { retypeSuspects, stopOnListedRetype } from '../streams/listed-retype';
import type { InvalidRecord } from '../streams/pipeline';
import { fullReadSalt, recordFullRead, startFullRereadIfDue } from '../streams/full-reread';
import type { ListedFields, StreamDeclaration } from '../streams/types';
import type { ActivityDeps } from './deps';
import { translated } from './failures';
import type { SyncActivities } from './sync-types';

/**
 * After a schema change the object is read again from the start: its bronze batches must not take
 * the ids of the first read's (bronze would skip them as already loaded and keep no copy with the
 * new fields), so they carry the stream's schema version. Version 0: the ids as they always were.
 */
function withBatchSalt<D extends StreamDeclaration>(decl: D, schemaVersion: number | undefined): D {
  return schemaVersion ? { ...decl, batchSalt: `schema-v${schemaVersion}` } : decl;
}

/** A periodic full re-read's pages repeat the first read's cursors: its start is part of their batch ids. */
async function withFullReadSalt<D extends StreamDeclaration>(warehouse: ActivityDeps['warehouse'], decl: D): Promise<D> {
  if (decl.fullRereadMs === undefined) return decl;
  const salt = await fullReadSalt(warehouse, decl.name);
  return salt ? { ...decl, batchSalt: decl.batchSalt ? `${decl.batchSalt}:${salt}` : salt } : decl;
}

function listedStream<R>(decl: StreamDeclaration<R>, listed: ListedFields<R>): ListedSchemaStream {
  return { stream: decl.name, object: listed.object, cursor: listed.cursor, specs: listed.specs, bronze: decl.bronze, silver: (s) => listed.build(s).silver };
}

export function createSyncActivities(deps: ActivityDeps): SyncActivities {
  // Declarations resolved against the live describe, per stream, in this worker: a run's first
  // activity refreshes them; a page that lands on another worker resolves them there.
  const resolved = new Map<string, StreamDeclaration>();
  // Per stream, the run and the fields a describe cleared (no type change that stops the stream):
  // later pages of that run failing on those fields are dead-lettered without describing again.
  const clearedFields = new Map<string, { runId: string; fields: Set<string> }>();
  const declared = (stream: string) => {
    const decl = deps.streams.get(stream);
    if (!decl) throw new PermanentError('UnknownStream', `Unknown stream "${stream}". Known: ${[...deps.streams.keys()].join(', ')}.`);
    const reader = deps.readers[decl.source];
    if (!reader) throw new PermanentError('ConfigError', `No reader is configured for source ${decl.source}.`);
    return { decl, reader };
  };
  const describer = () => {
    if (!deps.describer) throw new PermanentError('ConfigError', 'A stream reads its fields from describe, but no Salesforce describer is configured for this worker.');
    return deps.describer;
  };
  const declaration = async (stream: string) => {
    const { decl, reader } = declared(stream);
    if (decl.listedFields) {
      // Fields left out since they became unreadable stay out until a run's describe sees them back.
      let current = resolved.get(stream);
      if (!current) {
        const schema = await deps.warehouse.getStreamSchema(stream);
        current = schema ? withBatchSalt(decl.listedFields.build(rememberedSpecs(decl.listedFields.specs, schema)), schema.version) : decl;
        resolved.set(stream, current);
      }
      return { decl: await withFullReadSalt(deps.warehouse, current), reader };
    }
    if (!decl.fromDescribe) return { decl: await withFullReadSalt(deps.warehouse, decl), reader };
    let current = resolved.get(stream);
    if (!current) {
      const [described, schema] = await Promise.all([describer().describe(decl.fromDescribe.config.object), deps.warehouse.getStreamSchema(stream)]);
      current = withBatchSalt(decl.fromDescribe.build(resolveFields(decl.fromDescribe.config, described).specs), schema?.version);
      resolved.set(stream, current);
    }
    return { decl: await withFullReadSalt(deps.warehouse, current), reader };
  };

  return {
    streamsOfSource: (input) =>
      translated(async () => {
        if (!isSyncSource(input.source)) throw new PermanentError('UnknownStream', `Unknown source "${input.source}".`);
        return syncStreamsOf(deps.streamsFile, input.source);
      }),

    beginStreamRun: (input) =>
      translated(async () => {
        const base = declared(input.stream);
        const reader = base.reader;
        let decl = base.decl;
        const from = decl.fromDescribe;
        const listed = decl.listedFields;
        if (listed) {
          const schema = await deps.warehouse.getStreamSchema(decl.name);
          if (needsDescribe(listed.specs, schema)) {
            // Fields were left out as unreadable: describe says whether they are back.
            const r = await syncListedSchema({ warehouse: deps.warehouse, describe: (object) => describer().describe(object) }, listedStream(decl, listed));
            for (const c of r.plan.changes) deps.log.warn({ stream: decl.name, change: c.change, field: c.field, action: c.action }, c.detail);
            decl = withBatchSalt(listed.build(r.specs), r.plan.next.version);
          } else if (schema) decl = withBatchSalt(listed.build(rememberedSpecs(listed.specs, schema)), schema.version);
          resolved.set(input.stream, decl);
        }
        if (from) {
          // Schema evolution before reading: new columns, a re-read, or a stop on a type change.
          const { specs, plan, resolved: fields } = await syncStreamSchema(
            { warehouse: deps.warehouse, describe: (object) => describer().describe(object) },
            { stream: decl.name, config: from.config, bronze: decl.bronze, silver: (s) => from.build(s).silver },
          );
          decl = withBatchSalt(from.build(specs), plan.next.version);
          resolved.set(input.stream, decl);
          for (const c of plan.changes) deps.log.warn({ stream: decl.name, change: c.change, field: c.field, action: c.action }, c.detail);
          if (fields.unreadable.length > 0)
            deps.log.warn({ stream: decl.name, unreadable: fields.unreadable }, `${from.config.object}: fields of the streams file the integration user cannot read are left out (npx novade doctor names the permission to grant)`);
        }
        await deps.warehouse.ensureSchema({ bronze: [decl.bronze], silver: [decl.silver] });
        if (decl.fullRereadMs !== undefined) {
          // Formula fields change without the cursor moving: a due re-read starts from the beginning.
          const now = new Date();
          if (input.full) await recordFullRead(deps.warehouse, decl.name, now);
          else if (await startFullRereadIfDue(deps.warehouse, decl.name, decl.fullRereadMs, now))
            deps.log.info({ stream: decl.name }, `${decl.object}: its last full read is older than full_reread, so this run re-reads it from the start (formula values refreshed, no events)`);
        }
        const stored = input.full ? null : ((await deps.warehouse.getSyncState(decl.name)) ?? null);
        const plan = await reader.plan(decl, stored, input.full);
        const startedAt = new Date();
        await deps.warehouse.recordRun({
          runId: input.runId,
          flow: decl.source,
          stream: decl.name,
          startedAt,
          status: 'running',
          read: 0,
          written: 0,
          sent: 0,
          rejected: 0,
          cursorBefore: stored,
        });
        return { cursor: plan.cursor, mode: plan.mode, startedAt: startedAt.toISOString() };
      }),

    syncStreamPage: (input) =>
      translated(async () => {
        const { decl, reader } = await declaration(input.stream);
        // Built-in field types: records failing their checks may mean a field was retyped in Salesforce.
        const explainInvalid = (d: StreamDeclaration) => {
          const listed = d.listedFields;
          if (!listed) return undefined;
          return async (invalid: readonly InvalidRecord[]) => {
            const reading = listed.specs.filter((s) => d.fields.includes(s.field));
            const cleared = clearedFields.get(d.name);
            const suspects = retypeSuspects(invalid, reading, listed.cursor).filter((f) => cleared?.runId !== input.runId || !cleared.fields.has(f));
            if (suspects.length === 0) return;
            const compatible = await stopOnListedRetype({ warehouse: deps.warehouse, describe: (object) => describer().describe(object) }, listedStream(d, listed), reading);
            for (const c of compatible)
              deps.log.warn({ stream: d.name, change: c.change, field: c.field }, `${c.detail}; records whose value fails the built-in ${c.fromType} check are dead-lettered (npx novade streams check)`);
            const fields = cleared?.runId === input.runId ? cleared.fields : new Set<string>();
            for (const f of suspects) fields.add(f);
            clearedFields.set(d.name, { runId: input.runId, fields });
          };
        };
        const page = (d: StreamDeclaration) =>
          syncPage(
            {
              warehouse: deps.warehouse,
              reader,
              sink: deps.sink,
              mapping: { minIdLength: deps.config.amplitude.minIdLength, userIdField: deps.config.salesforce.userIdField },
              apiUsageStopShare: d.source === 'salesforce' ? deps.config.salesforce.apiUsageStopShare : undefined,
              explainInvalid: explainInvalid(d),
            },
            d,
            input,
            { runId: input.runId, progress: (p) => heartbeat(p), resumeFrom: activityInfo().heartbeatDetails },
          );
        let result;
        try {
          result = await page(decl);
        } catch (err) {
          const listed = decl.listedFields;
          if (!listed || !isUnreadableFieldError(err)) throw err;
          // A listed field became unreadable: leave it out (its column stays) and read the page again.
          const reading = listed.specs.filter((s) => decl.fields.includes(s.field));
          const r = await syncListedSchema({ warehouse: deps.warehouse, describe: (object) => describer().describe(object) }, listedStream(decl, listed), reading);
          if (r.specs.length === reading.length) throw err;
          for (const c of r.plan.changes) deps.log.warn({ stream: decl.name, change: c.change, field: c.field, action: c.action }, c.detail);
          const next = withBatchSalt(listed.build(r.specs), r.plan.next.version);
          resolved.set(input.stream, next);
          result = await page(await withFullReadSalt(deps.warehouse, next));
        }
        deps.log.info({ stream: input.stream, page: input.page, read: result.read, written: result.written, sent: result.sent, rejected: result.rejected }, 'page synced');
        return result;
      }),

    finishStreamRun: (summary) =>
      translated(async () => {
        await deps.warehouse.recordRun({
          runId: summary.runId,
          flow: summary.flow,
          stream: summary.stream,
          startedAt: new Date(summary.startedAt),
          finishedAt: new Date(summary.finishedAt),
          status: summary.status,
          read: summary.read,
          written: summary.written,
          sent: summary.sent,
          rejected: summary.rejected,
          cursorBefore: summary.cursorBefore,
          cursorAfter: summary.cursorAfter,
          apiCallsUsed: summary.apiCalls,
          error: summary.error ?? summary.stopReason,
        });
        deps.log.info({ ...summary }, `stream run ${summary.status}`);
      }),
  };
}
