/**
 * Reading n8n node parameters. A value may be plain (`"Opportunity"`), an expression (text starting
 * with `=`, whose `{{ }}` parts are evaluated at run time), or a resource locator
 * (`{ __rl: true, value, mode }`, used by newer node versions for pickers such as BigQuery's table).
 */

export type Params = Record<string, unknown>;

/** The value at a path of nested objects, or undefined. */
export function at(params: unknown, ...path: string[]): unknown {
  let v: unknown = params;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

export interface TextValue {
  /** The text, with an expression's leading `=` removed; `{{ }}` parts left as written. */
  text: string;
  /** Whether part of it is computed at run time. */
  dynamic: boolean;
}

/** A parameter as text: a string, a number, or a resource locator's value. */
export function textOf(v: unknown): TextValue | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return { text: String(v), dynamic: false };
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && '__rl' in v) return textOf((v as { value?: unknown }).value);
  if (typeof v !== 'string') return undefined;
  if (!v.startsWith('=')) return { text: v, dynamic: false };
  const text = v.slice(1);
  return { text, dynamic: text.includes('{{') };
}

/** A parameter's literal text, or undefined when absent or computed at run time. */
export function literal(v: unknown): string | undefined {
  const t = textOf(v);
  return t && !t.dynamic ? t.text : undefined;
}

/** Text with every `{{ ... }}` replaced by `placeholder`, for parsing what is around the expressions. */
export function withoutExpressions(text: string, placeholder = 'EXPR'): string {
  return text.replace(/\{\{[\s\S]*?\}\}/g, placeholder);
}

/** The list items of a fixed collection: `{ item: [...] }`, `{ interval: [...] }`, ... */
export function items(v: unknown, key: string): Params[] {
  const list = at(v, key);
  return Array.isArray(list) ? list.filter((x): x is Params => typeof x === 'object' && x !== null && !Array.isArray(x)) : [];
}

export function numberOr(v: unknown, fallback: number): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return fallback;
}

/** `n8n-nodes-base.salesforce` → `salesforce`; `@scope/n8n-nodes-x.fooBar` → `fooBar`. */
export function shortType(type: string): string {
  const dot = type.lastIndexOf('.');
  return dot >= 0 ? type.slice(dot + 1) : type;
}

/** The package part of a node type: `n8n-nodes-base`, `@n8n/n8n-nodes-langchain`, a community package. */
export function packageOf(type: string): string {
  const dot = type.lastIndexOf('.');
  return dot >= 0 ? type.slice(0, dot) : '';
}

export const BUILT_IN_PACKAGES = new Set(['n8n-nodes-base', '@n8n/n8n-nodes-langchain']);
