import { isoMicros, canonicalTimestamp } from './timestamp';

/**
 * Rows of a BigQuery API response (`{ f: [{ v }] }` cells plus the schema) straight to plain JSON.
 * The client's own parsing (mergeSchemaWithRows_) builds a PreciseDate per TIMESTAMP cell and an
 * object per row that the connector would only copy again: on a 50,000-row page that was most of
 * the reader's time and memory. TIMESTAMPs become canonical text (`...ffffffZ`), INT64 a number
 * while exact (text beyond 2^53), BOOL a boolean, NUMERIC / DATE / JSON / BYTES stay text.
 */
export interface ApiField {
  name: string;
  type?: string | null;
  mode?: string | null;
  fields?: ApiField[] | null;
}

export type ApiCell = { v?: unknown };
export type ApiRow = { f?: ApiCell[] | null };
export type PlainValue = string | number | boolean | null | PlainValue[] | { [k: string]: PlainValue };
export type PlainRow = Record<string, PlainValue>;

function timestampText(v: unknown): string {
  const s = String(v);
  // int64 microseconds (formatOptions.useInt64Timestamp), float seconds (older servers), or text.
  if (/^-?\d+$/.test(s)) return isoMicros(Number(s));
  if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(s)) return isoMicros(Math.round(Number(s) * 1e6));
  return canonicalTimestamp(s);
}

function scalar(type: string, v: unknown): PlainValue {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'TIMESTAMP':
      return timestampText(v);
    case 'INTEGER':
    case 'INT64': {
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : String(v);
    }
    case 'FLOAT':
    case 'FLOAT64': {
      const n = Number(v);
      return Number.isFinite(n) ? n : String(v);
    }
    case 'BOOLEAN':
    case 'BOOL':
      return v === true || v === 'true';
    default:
      return typeof v === 'string' ? v : JSON.stringify(v);
  }
}

function value(field: ApiField, v: unknown): PlainValue {
  if (v === null || v === undefined) return field.mode === 'REPEATED' ? [] : null;
  if (field.mode === 'REPEATED') return (Array.isArray(v) ? v : []).map((item) => value({ ...field, mode: 'NULLABLE' }, (item as ApiCell)?.v));
  const type = (field.type ?? 'STRING').toUpperCase();
  if (type === 'RECORD' || type === 'STRUCT') return plainApiRow(field.fields ?? [], v as ApiRow);
  return scalar(type, v);
}

export function plainApiRow(fields: ApiField[], row: ApiRow): PlainRow {
  const out: PlainRow = {};
  const cells = row?.f ?? [];
  for (let i = 0; i < fields.length; i++) out[fields[i].name] = value(fields[i], cells[i]?.v);
  return out;
}
