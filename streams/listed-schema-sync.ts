import type { BronzeTableDef, SilverTableDef, StreamSchema, Warehouse } from '../connectors/warehouse/types';
import type { SObjectDescribe } from '../mappings/salesforce-describe';
import type { SfFieldSpec } from '../mappings/salesforce-fields';
import { knownField, planSchemaEvolution, type EvolutionPlan } from './schema-evolution';
import { keyUnreadable } from './schema-sync';

/**
 * Schema evolution for a stream whose fields are all of the built-in list (the default file's
 * objects): it starts without describe, and evolves like any other stream once a field of its list
 * becomes unreadable. The first query refused with INVALID_FIELD makes the run describe the object,
 * leave out the fields describe no longer returns (recorded in ops.schema_changes as `column_kept`,
 * their columns stay) and go on. While fields are left out, each run starts with one describe, so
 * a field granted back (or added to the list) is read again and filled by a re-read.
 *
 * Kinds stay the built-in ones: describe only says which fields are readable (a retyped field is
 * caught by streams/listed-retype.ts when its records fail their checks), so the rows of a
 * stream that never lost a field are exactly what they always were.
 */

export interface ListedSchemaDeps {
  warehouse: Warehouse;
  describe(object: string): Promise<SObjectDescribe>;
  now?: () => Date;
}

export interface ListedSchemaStream {
  stream: string;
  object: string;
  cursor: string;
  /** Every field the file lists (and the stream needs), with its built-in kind. */
  specs: readonly SfFieldSpec[];
  bronze: BronzeTableDef;
  silver(specs: readonly SfFieldSpec[]): SilverTableDef;
}

/** The fields a stream with built-in fields reads, given what the platform remembers of it. */
export function rememberedSpecs(all: readonly SfFieldSpec[], known: StreamSchema | undefined): SfFieldSpec[] {
  if (!known) return [...all];
  const kept = new Set(known.fields.map((f) => f.field.toLowerCase()));
  return all.filter((s) => kept.has(s.field.toLowerCase()));
}

/** Whether a run must describe first: fields are left out (or the list gained some) since last time. */
export function needsDescribe(all: readonly SfFieldSpec[], known: StreamSchema | undefined): boolean {
  return known !== undefined && rememberedSpecs(all, known).length < all.length;
}

/**
 * Describes the object and reads `candidates` (by default every listed field) less those describe
 * does not return. Steps are ordered as in syncStreamSchema, so a retried attempt redoes nothing twice.
 */
export async function syncListedSchema(
  deps: ListedSchemaDeps,
  s: ListedSchemaStream,
  candidates: readonly SfFieldSpec[] = s.specs,
): Promise<{ specs: SfFieldSpec[]; unreadable: string[]; plan: EvolutionPlan }> {
  const { warehouse } = deps;
  const describe = await deps.describe(s.object);
  const readable = new Set(describe.fields.map((f) => f.name.toLowerCase()));
  const unreadable = s.specs.filter((f) => !readable.has(f.field.toLowerCase())).map((f) => f.field);
  const missingKey = unreadable.filter((f) => f === 'Id' || f === s.cursor);
  if (missingKey.length > 0) throw keyUnreadable(s.object, s.stream, s.cursor, missingKey);
  const specs = candidates.filter((f) => readable.has(f.field.toLowerCase()));

  const silverName = s.silver(specs).name;
  const [stored, silverColumns] = await Promise.all([warehouse.getStreamSchema(s.stream), warehouse.silverColumnNames(silverName)]);
  // Never remembered: the stream read the whole list until now.
  const known = stored ?? { version: 0, fields: s.specs.map(knownField) };
  const plan = planSchemaEvolution({ stream: s.stream, object: describe.name, known, specs, unreadable, listed: s.specs.map((f) => f.field), silverColumns, now: deps.now?.() ?? new Date() });

  if (plan.changes.length > 0) await warehouse.recordSchemaChanges(plan.changes);
  await warehouse.ensureSchema({ bronze: [s.bronze], silver: [s.silver(specs)] });
  if (plan.reread) await warehouse.setSyncState(s.stream, null);
  if (stored === undefined || plan.next.version !== stored.version || plan.changes.length > 0) await warehouse.saveStreamSchema({ stream: s.stream, ...plan.next });
  return { specs, unreadable, plan };
}
