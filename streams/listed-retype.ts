import { PermanentError } from '../lib/errors';
import type { KnownField, SchemaChangeRecord } from '../connectors/warehouse/types';
import { fieldKind } from '../mappings/salesforce-describe';
import type { SfFieldSpec } from '../mappings/salesforce-fields';
import type { InvalidRecord } from './pipeline';
import { knownField, planSchemaEvolution, schemaStopMessage } from './schema-evolution';
import type { ListedSchemaDeps, ListedSchemaStream } from './listed-schema-sync';

/**
 * A stream with built-in field types (the default file's objects) reads without describe, so a
 * field retyped in Salesforce first shows as records that fail validation. Those failures make the
 * run describe the object once: a field whose column type differs from the built-in one stops the
 * stream exactly as a type change stops a described stream (ops.schema_changes, `SchemaChange`);
 * otherwise the records are dead-lettered as before.
 */

/** Fields whose check failed on a value (not a missing key): what a type change can explain. */
export function retypeSuspects(invalid: readonly InvalidRecord[], reading: readonly SfFieldSpec[], cursor: string): string[] {
  const read = new Map(reading.map((s) => [s.field, s]));
  const out = new Set<string>();
  for (const r of invalid)
    for (const i of r.issues) {
      // Id and the cursor are system fields (never retyped); a missing value is not a type's doing.
      if (i.field === 'Id' || i.field === cursor || i.message === 'required' || !read.has(i.field)) continue;
      out.add(i.field);
    }
  return [...out];
}

/** What an operator reads when a default-file object's field changed type: the way on that keeps every value. */
export function listedTypeChangeAdvice(stream: string, object: string, before: KnownField, now: { field: string; kind: string; type: string }): string {
  return (
    `${object}.${now.field} changed type in Salesforce: it was ${before.kind} (silver column ${before.column} ${before.type}), it is now ${now.kind} (${now.type}). ` +
    `Stream ${stream} is stopped before the records that carry the new type, so that no value is lost or mangled. To go on, ` +
    `remove ${now.field} from ${object}'s \`fields\` in config/streams.yaml (and from any identity, trait or event property that reads it) and restart the worker: ` +
    `the stream resumes where it stopped and ${before.column} keeps its values. See docs/streams.md, "Schema evolution".`
  );
}

/**
 * Describes the object and stops the stream (throws `SchemaChange`) when a field it reads has a
 * column type other than its built-in one. A change that keeps the column type (date → text) does
 * not stop it: it is returned for the log, and the records that fail the built-in check stay dead
 * letters.
 */
export async function stopOnListedRetype(deps: ListedSchemaDeps, s: ListedSchemaStream, reading: readonly SfFieldSpec[]): Promise<SchemaChangeRecord[]> {
  const { warehouse } = deps;
  const describe = await deps.describe(s.object);
  const described = new Map(describe.fields.map((f) => [f.name.toLowerCase(), f]));
  // The fields read now, with the kind describe gives them; a field describe no longer returns
  // is the unreadable-field path's business (INVALID_FIELD), not a type change.
  const current: SfFieldSpec[] = [];
  for (const spec of reading) {
    const f = described.get(spec.field.toLowerCase());
    const outcome = f ? fieldKind(f) : undefined;
    current.push(outcome && 'kind' in outcome ? { ...spec, kind: outcome.kind } : spec);
  }
  const stored = await warehouse.getStreamSchema(s.stream);
  const known = stored ?? { version: 0, fields: s.specs.map(knownField) };
  // Silver's columns are left out: the built-in column is always there (each run ensures it), so
  // a differing type always stops rather than being taken as an accepted, recreated column.
  const plan = planSchemaEvolution({ stream: s.stream, object: describe.name, known, specs: current, unreadable: [], silverColumns: undefined, now: deps.now?.() ?? new Date() });
  if (plan.stop.length === 0) return plan.changes.filter((c) => c.change === 'type_changed');
  const byField = new Map(known.fields.map((k) => [k.field.toLowerCase(), k]));
  const stop: SchemaChangeRecord[] = plan.stop.map((c) => {
    const before = byField.get(c.field.toLowerCase())!;
    const now = knownField(current.find((f) => f.field.toLowerCase() === c.field.toLowerCase())!);
    return { ...c, detail: listedTypeChangeAdvice(s.stream, describe.name, before, now) };
  });
  await warehouse.recordSchemaChanges(stop);
  throw new PermanentError('SchemaChange', schemaStopMessage(s.stream, stop));
}
