import { PermanentError } from '../lib/errors';
import type { BronzeTableDef, SilverTableDef, Warehouse } from '../connectors/warehouse/types';
import { resolveFields, type ObjectFieldsConfig, type ResolvedFields, type SObjectDescribe } from '../mappings/salesforce-describe';
import type { SfFieldSpec } from '../mappings/salesforce-fields';
import { planSchemaEvolution, schemaStopMessage, type EvolutionPlan } from './schema-evolution';

/**
 * Brings one Salesforce stream's silver table in line with the live describe before a run
 * (the activity that starts a run calls it; no Temporal here):
 * describe → resolve the declared fields → diff with what was read last time → record the changes
 * → stop on a type change, or add the new columns (ALTER TABLE ADD COLUMN, nullable), reset the
 * cursor so the object is re-read, and remember the new field list.
 *
 * Steps are ordered so that a crash anywhere is redone by the next attempt: the remembered list
 * moves last, after the cursor reset, and change ids are deterministic.
 */

export interface SchemaSyncDeps {
  warehouse: Warehouse;
  describe(object: string): Promise<SObjectDescribe>;
  now?: () => Date;
}

export interface SchemaSyncStream {
  stream: string;
  config: ObjectFieldsConfig;
  bronze: BronzeTableDef;
  /** Silver's definition for a field list (columns from specs, same name and key). */
  silver(specs: readonly SfFieldSpec[]): SilverTableDef;
}

export interface SchemaSyncResult {
  specs: SfFieldSpec[];
  resolved: ResolvedFields;
  plan: EvolutionPlan;
}

/** Without Id and the cursor field a stream cannot read incrementally: it stops, saying what to grant. */
export function keyUnreadable(object: string, stream: string, cursor: string, missing: readonly string[]): PermanentError {
  return new PermanentError(
    'PermissionError',
    `${object} has no readable ${[...new Set(['Id', ...missing])].join(' / ')} for the integration user: stream ${stream} cannot read it incrementally. ` +
      `Grant read access on the field (field-level security on the integration user's profile or permission set)${cursor === 'SystemModstamp' ? ', or set `cursor: LastModifiedDate` for an object without SystemModstamp' : ''}.`,
  );
}

export async function syncStreamSchema(deps: SchemaSyncDeps, s: SchemaSyncStream): Promise<SchemaSyncResult> {
  const { warehouse } = deps;
  const describe = await deps.describe(s.config.object);
  const resolved = resolveFields(s.config, describe);
  const cursor = s.config.cursor ?? 'SystemModstamp';
  const missingKey = resolved.unreadable.filter((f) => f === 'Id' || f === cursor);
  if (missingKey.length > 0 || !resolved.specs.some((f) => f.field === 'Id')) throw keyUnreadable(s.config.object, s.stream, cursor, missingKey);

  const silverName = s.silver(resolved.specs).name;
  const [known, silverColumns] = await Promise.all([warehouse.getStreamSchema(s.stream), warehouse.silverColumnNames(silverName)]);
  const plan = planSchemaEvolution({
    stream: s.stream,
    object: describe.name,
    known,
    specs: resolved.specs,
    unreadable: resolved.unreadable,
    listed: Array.isArray(s.config.fields) ? (s.config.fields as readonly string[]) : undefined,
    silverColumns,
    now: deps.now?.() ?? new Date(),
  });

  if (plan.changes.length > 0) await warehouse.recordSchemaChanges(plan.changes);
  if (plan.stop.length > 0) throw new PermanentError('SchemaChange', schemaStopMessage(s.stream, plan.stop));

  // ensureSchema creates the table, or adds the columns its definition gained (nullable).
  await warehouse.ensureSchema({ bronze: [s.bronze], silver: [s.silver(resolved.specs)] });
  if (plan.reread) await warehouse.setSyncState(s.stream, null);
  if (known === undefined || plan.next.version !== known.version || plan.changes.length > 0) await warehouse.saveStreamSchema({ stream: s.stream, ...plan.next });
  return { specs: resolved.specs, resolved, plan };
}
