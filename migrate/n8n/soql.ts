import { withoutExpressions } from './params';

/**
 * What a SOQL query reads: its object and the fields it names, in the select list and in WHERE and
 * ORDER BY. Enough for an inventory, not a full SOQL parser: subqueries (child relationships) are
 * listed apart, `FIELDS(ALL)` means every field, and a relationship path (`Account.Name`) is kept
 * as written so the caller can point it at the lookup field (`AccountId`).
 */

export interface SoqlRead {
  object: string;
  /** Fields of `object`, as written, first seen first (select list, then filters and ordering). */
  fields: string[];
  /** `FIELDS(ALL)` / `FIELDS(STANDARD)` / `FIELDS(CUSTOM)`: every field of that kind. */
  allFields: boolean;
  /** Child relationship subqueries, e.g. `Contacts` of `(SELECT Id FROM Contacts)`. */
  children: string[];
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'like', 'includes', 'excludes', 'null', 'true', 'false', 'asc', 'desc', 'nulls', 'first', 'last', 'select', 'from', 'where', 'order', 'by', 'limit', 'offset', 'group', 'having', 'with', 'using', 'scope', 'for', 'view', 'reference', 'update', 'tracking', 'viewstat', 'typeof', 'when', 'then', 'else', 'end', 'today', 'yesterday', 'tomorrow']);
const AGGREGATES = /^(count|count_distinct|sum|avg|min|max|tolabel|format|convertcurrency|calendar_month|calendar_quarter|calendar_year|day_in_month|day_in_week|day_in_year|day_only|fiscal_month|fiscal_quarter|fiscal_year|hour_in_day|week_in_month|week_in_year|grouping|distance|geolocation|convert_timezone)$/i;

/** Top-level comma split (parentheses nest). */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** Index of a top-level keyword (outside parentheses and quotes) at or after `from`, or -1. */
function findTop(text: string, keyword: RegExp, from = 0): { index: number; length: number } | undefined {
  let depth = 0;
  let quote = false;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === "'" && text[i - 1] !== '\\') quote = !quote;
    if (quote) continue;
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0 && (i === 0 || /\s/.test(text[i - 1]))) {
      const m = keyword.exec(text.slice(i));
      if (m && m.index === 0) return { index: i, length: m[0].length };
    }
  }
  return undefined;
}

const IDENT = /^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*$/;

/** Parses a query; undefined when it is no SELECT ... FROM <object>. `=`-prefixed n8n expressions are accepted. */
export function parseSoql(query: string): SoqlRead | undefined {
  const text = withoutExpressions(query.startsWith('=') ? query.slice(1) : query, "'EXPR'")
    .replace(/\+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!/^select\s/i.test(text)) return undefined;
  const from = findTop(text, /^from\s+/i, 7);
  if (!from) return undefined;
  const objectMatch = /^([A-Za-z][A-Za-z0-9_]*)/.exec(text.slice(from.index + from.length));
  if (!objectMatch) return undefined;
  const object = objectMatch[1];
  const selectList = text.slice(7, from.index);
  const fields: string[] = [];
  const children: string[] = [];
  let allFields = false;
  const add = (f: string) => {
    if (!fields.some((x) => x.toLowerCase() === f.toLowerCase())) fields.push(f);
  };
  for (const item of splitTop(selectList)) {
    const sub = /^\(\s*select\s[\s\S]*?\sfrom\s+([A-Za-z][A-Za-z0-9_]*)/i.exec(item);
    if (sub) {
      children.push(sub[1]);
      continue;
    }
    if (/^fields\s*\(/i.test(item)) {
      allFields = true;
      continue;
    }
    if (/^typeof\s/i.test(item)) continue;
    const fn = /^([A-Za-z_]+)\s*\(\s*([^()]*?)\s*\)/.exec(item);
    if (fn && AGGREGATES.test(fn[1])) {
      if (IDENT.test(fn[2])) add(fn[2]);
      continue;
    }
    const name = item.split(/\s+/)[0];
    if (IDENT.test(name)) add(name);
  }
  // Fields the query filters and sorts on are read too.
  const rest = text.slice(from.index + from.length + object.length);
  const whereAt = findTop(rest, /^(where|order by|group by)\s/i);
  if (whereAt) {
    const tail = rest.slice(whereAt.index).replace(/'(?:[^'\\]|\\.)*'/g, "''");
    for (const m of tail.matchAll(/(?<![:\w.'])([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)(?![\w(])/g)) {
      const word = m[1];
      if (KEYWORDS.has(word.toLowerCase()) || /^(last|next|this)_/i.test(word) || /^n_/i.test(word)) continue;
      // Date literals (2024-01-01T00:00:00Z) and numbers never match IDENT's first letter; EXPR is a placeholder.
      if (word === 'EXPR') continue;
      add(word);
    }
  }
  return { object, fields, allFields, children };
}
