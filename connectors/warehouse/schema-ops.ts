import { z } from 'zod';
import type { OpsTarget } from './organize-ops';
import { SCHEMA_CHANGES, STREAM_SCHEMAS } from './ops-tables';
import { selectWhereSql, upsertRowSql } from './sql';
import type { KnownField, SchemaChangeRecord, StreamSchema } from './types';
import { decodeCell, toDate } from './values';

/**
 * ops.stream_schemas and ops.schema_changes, the same text for both adapters (through OpsTarget).
 * Written rarely (when a source schema changes), read once per stream run.
 */

const knownFields = z.array(z.object({ field: z.string(), column: z.string(), kind: z.string(), type: z.enum(['varchar', 'bigint', 'double', 'boolean', 'timestamp', 'json']) }));

export function schemaChangeCells(rows: SchemaChangeRecord[]): (string | null)[][] {
  return rows.map((c) => [c.id, c.stream, c.object, c.change, c.field, c.column, c.fromType, c.toType, c.action, c.detail, c.detectedAt.toISOString()]);
}

export async function getStreamSchema(t: OpsTarget, stream: string): Promise<StreamSchema | undefined> {
  const rows = await t.read(selectWhereSql(t.dialect, STREAM_SCHEMAS, { stream }));
  if (rows.length === 0) return undefined;
  const r = rows[0];
  const fields: KnownField[] = knownFields.parse(decodeCell('json', r.fields));
  return { stream, version: Number(r.version), fields, updatedAt: toDate('updated_at', r.updated_at) };
}

export async function saveStreamSchema(t: OpsTarget, schema: Omit<StreamSchema, 'updatedAt'>): Promise<void> {
  await t.write(upsertRowSql(t.dialect, STREAM_SCHEMAS, [schema.stream, String(schema.version), JSON.stringify(schema.fields), new Date().toISOString()]));
}

export async function listSchemaChanges(t: OpsTarget, opts: { stream?: string; limit?: number } = {}): Promise<SchemaChangeRecord[]> {
  const limit = Math.max(1, Math.min(10_000, Math.floor(opts.limit ?? 100)));
  const q = t.dialect.quote;
  const rows = await t.read(selectWhereSql(t.dialect, SCHEMA_CHANGES, opts.stream === undefined ? {} : { stream: opts.stream }, ` ORDER BY ${q('detected_at')} DESC, ${q('id')} DESC LIMIT ${limit}`));
  return rows.map((r) => ({
    id: String(r.id),
    stream: String(r.stream),
    object: String(r.object_name),
    change: String(r.change) as SchemaChangeRecord['change'],
    field: String(r.field),
    column: String(r.column_name),
    fromType: r.from_type === null || r.from_type === undefined ? null : String(r.from_type),
    toType: r.to_type === null || r.to_type === undefined ? null : String(r.to_type),
    action: String(r.action),
    detail: String(r.detail),
    detectedAt: toDate('detected_at', r.detected_at),
  }));
}

/** Column names of a silver table, or undefined when it does not exist (DESCRIBE fails on Databricks). */
export async function silverColumnNames(t: OpsTarget, name: string): Promise<string[] | undefined> {
  let rows;
  try {
    rows = await t.read(t.dialect.listColumns('silver', name));
  } catch (err) {
    if (/TABLE_OR_VIEW_NOT_FOUND|not found|does not exist|cannot be found/i.test(err instanceof Error ? err.message : String(err))) return undefined;
    throw err;
  }
  const names = t.dialect.columnNames(rows);
  return names.length === 0 ? undefined : names;
}
