import { createHash } from 'node:crypto';
import type { ColumnDef, KnownField, SchemaChangeRecord } from '../connectors/warehouse/types';
import { columnName, sfColumnType, type SfFieldSpec } from '../mappings/salesforce-fields';

/**
 * Schema evolution as a pure diff: the fields a stream read last time (ops.stream_schemas) against
 * what it resolves to now (describe + config/streams.yaml), and silver as it is. No data is lost:
 *
 * - a field that appears becomes a new nullable silver column, and the object is re-read from the
 *   start so existing rows get its values (same-version rows may fill empty columns, no events);
 * - a field that disappears (deleted, hidden by field-level security, or dropped from the file)
 *   stops being read; its column and the values it holds stay;
 * - a field whose column type changes stops the stream: silver cannot hold the new values in the
 *   old column without losing or mangling them, so an operator decides (the error says how).
 *   A change that keeps the column type (picklist → text, lookup → text) is recorded and goes on.
 *
 * Each change becomes a row of ops.schema_changes; its id depends on the stream's schema version,
 * so a retried run records nothing twice and a field that comes back later is recorded again.
 */

export interface EvolutionInput {
  stream: string;
  object: string;
  /** What was read last time; undefined the first time the platform remembers this stream. */
  known: { version: number; fields: KnownField[] } | undefined;
  /** What the stream resolves to now (mappings/salesforce-describe.ts resolveFields). */
  specs: readonly SfFieldSpec[];
  /** Fields the file lists that describe does not return. */
  unreadable: readonly string[];
  /** Fields the file selects by name (a list); undefined for `all` / `all_except`. */
  listed?: readonly string[];
  /** Silver's columns as they are; undefined when the table does not exist yet. */
  silverColumns: readonly string[] | undefined;
  now: Date;
}

export interface EvolutionPlan {
  changes: SchemaChangeRecord[];
  /** Columns silver gains (nullable). */
  addColumns: ColumnDef[];
  /** Columns a same-version row may fill during the re-read. */
  fill: string[];
  /** Re-read the object from the start (cursor reset). */
  reread: boolean;
  /** Type changes that stop the stream; empty when it may run. */
  stop: SchemaChangeRecord[];
  /** What to remember once applied (unchanged when the stream stops). */
  next: { version: number; fields: KnownField[] };
}

export const knownField = (spec: SfFieldSpec): KnownField => ({ field: spec.field, column: columnName(spec.field), kind: spec.kind, type: sfColumnType(spec.kind) });

function changeId(stream: string, version: number, field: string, change: string): string {
  return createHash('sha256').update(`${stream}|${version}|${field.toLowerCase()}|${change}`).digest('hex').slice(0, 24);
}

export function planSchemaEvolution(input: EvolutionInput): EvolutionPlan {
  const current = input.specs.map(knownField);
  const version = input.known?.version ?? 0;
  const silver = input.silverColumns === undefined ? undefined : new Set(input.silverColumns.map((c) => c.toLowerCase()));
  const change = (c: Omit<SchemaChangeRecord, 'id' | 'stream' | 'object' | 'detectedAt'>): SchemaChangeRecord => ({
    id: changeId(input.stream, version, c.field, c.change),
    stream: input.stream,
    object: input.object,
    detectedAt: input.now,
    ...c,
  });
  const changes: SchemaChangeRecord[] = [];
  const stop: SchemaChangeRecord[] = [];
  const addColumns: ColumnDef[] = [];
  const fill: string[] = [];
  const hasColumn = (column: string) => silver?.has(column.toLowerCase()) === true;

  const added = (f: KnownField, detail: string, recreated = false) => {
    // A field that comes back finds its column still there: it is reused, and filled again.
    const action = recreated ? 'column_recreated' : silver !== undefined && hasColumn(f.column) ? 'column_reused' : 'column_added';
    if (silver !== undefined && !hasColumn(f.column)) addColumns.push({ name: f.column, type: f.type, nullable: true });
    fill.push(f.column);
    changes.push(change({ change: 'field_added', field: f.field, column: f.column, fromType: null, toType: `${f.kind}/${f.type}`, action, detail }));
  };

  if (input.known === undefined) {
    // First time: silver (if any) was built from an earlier field list the platform did not keep.
    // Only columns it lacks are news; the fresh table of a new stream is created whole.
    if (silver !== undefined)
      for (const f of current) if (!hasColumn(f.column)) added(f, `${input.object}.${f.field} is read now: silver gains column ${f.column} (${f.type}) and the object is re-read to fill it`);
  } else {
    const before = new Map(input.known.fields.map((f) => [f.field.toLowerCase(), f]));
    for (const f of current) {
      const k = before.get(f.field.toLowerCase());
      if (!k) {
        added(f, `${input.object}.${f.field} appeared: silver gains column ${f.column} (${f.type}) and the object is re-read to fill it for existing rows`);
        continue;
      }
      if (k.type !== f.type) {
        if (silver !== undefined && !hasColumn(k.column)) {
          // The operator dropped the old column to accept the new type: it comes back, re-read.
          added(f, `${input.object}.${f.field} is now ${f.kind} (${f.type}); its old column was dropped, so it is recreated as ${f.type} and the object re-read`, true);
          continue;
        }
        const c = change({
          change: 'type_changed',
          field: f.field,
          column: k.column,
          fromType: `${k.kind}/${k.type}`,
          toType: `${f.kind}/${f.type}`,
          action: 'stream_stopped',
          detail: typeChangeAdvice(input.stream, input.object, k, f),
        });
        stop.push(c);
        changes.push(c);
      } else if (k.kind !== f.kind) {
        changes.push(change({ change: 'type_changed', field: f.field, column: k.column, fromType: `${k.kind}/${k.type}`, toType: `${f.kind}/${f.type}`, action: 'compatible', detail: `${input.object}.${f.field} changed from ${k.kind} to ${f.kind}; column ${k.column} stays ${k.type}` }));
      }
    }
    const now = new Set(current.map((f) => f.field.toLowerCase()));
    const unreadable = new Set(input.unreadable.map((f) => f.toLowerCase()));
    const listed = input.listed === undefined ? undefined : new Set(input.listed.map((f) => f.toLowerCase()));
    for (const k of input.known.fields) {
      if (now.has(k.field.toLowerCase())) continue;
      const why =
        listed !== undefined && !listed.has(k.field.toLowerCase()) && !unreadable.has(k.field.toLowerCase())
          ? 'was removed from config/streams.yaml'
          : 'is no longer in describe: deleted in Salesforce, or hidden from the integration user by field-level security (`npx novade doctor` names the permission)';
      changes.push(change({ change: 'field_gone', field: k.field, column: k.column, fromType: `${k.kind}/${k.type}`, toType: null, action: 'column_kept', detail: `${input.object}.${k.field} ${why}; it is no longer read and column ${k.column} keeps the values it has` }));
    }
  }

  const stopped = stop.length > 0;
  const changed = changes.length > 0;
  return {
    changes,
    addColumns: stopped ? [] : addColumns,
    fill: stopped ? [] : fill,
    reread: !stopped && fill.length > 0,
    stop,
    next: stopped ? (input.known ?? { version, fields: current }) : { version: changed ? version + 1 : version, fields: current },
  };
}

/** What an operator reads in the alert: what changed, and the two ways on. */
export function typeChangeAdvice(stream: string, object: string, before: KnownField, now: KnownField): string {
  return (
    `${object}.${now.field} changed type in Salesforce: it was ${before.kind} (silver column ${before.column} ${before.type}), it is now ${now.kind} (${now.type}). ` +
    `Stream ${stream} is stopped so that no value is lost or mangled. To go on, either ` +
    `(1) leave the field out in config/streams.yaml (\`all_except: [${now.field}]\`, or remove it from the list): the stream resumes and ${before.column} keeps its values; or ` +
    `(2) accept the new type: rename or drop silver.${stream}.${before.column} in the warehouse (copy it first if you need its history); ` +
    `the next run recreates it as ${now.type} and re-reads ${object} to fill it. See docs/streams.md, "Schema evolution".`
  );
}

/** The error a stopped stream fails with (its run's alert shows it). */
export function schemaStopMessage(stream: string, stop: readonly SchemaChangeRecord[]): string {
  return `Schema change stops ${stream}: ${stop.map((c) => c.detail).join(' ')}`;
}
