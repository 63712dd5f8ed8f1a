import type { JsonObject } from './types';

/**
 * User property operations, as the Identify API documents them. A dictionary is either all operations
 * or all plain properties (plain ones mean `$set`); Amplitude documents that the two can't be mixed, so a
 * mix is reported as a violation and only the operations are applied, which is how tests catch a mapping
 * that mixes them.
 */

const ORDER = ['$clearAll', '$unset', '$setOnce', '$set', '$add', '$append', '$prepend', '$preInsert', '$postInsert', '$remove'] as const;
type Operation = (typeof ORDER)[number];
const OPERATIONS = new Set<string>(ORDER);

export interface PropertyUpdate {
  next: JsonObject;
  violations: string[];
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function isOperationDictionary(update: JsonObject): boolean {
  return Object.keys(update).some((k) => OPERATIONS.has(k));
}

export function applyUserProperties(current: JsonObject, update: JsonObject): PropertyUpdate {
  const next: JsonObject = { ...current };
  const violations: string[] = [];
  if (!isOperationDictionary(update)) {
    Object.assign(next, update);
    return { next, violations };
  }
  const plain = Object.keys(update).filter((k) => !OPERATIONS.has(k));
  if (plain.length > 0) violations.push(`user_properties mixes operations with plain properties (${plain.join(', ')}); the plain ones are ignored`);

  for (const op of ORDER) {
    const args = update[op];
    if (args === undefined) continue;
    if (op === '$clearAll') {
      for (const k of Object.keys(next)) delete next[k];
      continue;
    }
    if (!isObject(args)) {
      violations.push(`${op} takes an object of properties`);
      continue;
    }
    for (const [key, value] of Object.entries(args)) applyOne(op, next, key, value, violations);
  }
  return { next, violations };
}

function applyOne(op: Exclude<Operation, '$clearAll'>, props: JsonObject, key: string, value: unknown, violations: string[]): void {
  const existing = props[key];
  switch (op) {
    case '$set':
      props[key] = value;
      return;
    case '$setOnce':
      if (!(key in props)) props[key] = value;
      return;
    case '$unset':
      delete props[key];
      return;
    case '$add': {
      const delta = typeof value === 'number' ? value : Number(value);
      if (!Number.isFinite(delta)) {
        violations.push(`$add on ${key} needs a number`);
        return;
      }
      props[key] = (typeof existing === 'number' ? existing : 0) + delta;
      return;
    }
    case '$append':
      props[key] = [...(existing === undefined ? [] : asList(existing)), ...asList(value)];
      return;
    case '$prepend':
      props[key] = [...asList(value), ...(existing === undefined ? [] : asList(existing))];
      return;
    case '$preInsert': {
      const list = existing === undefined ? [] : asList(existing);
      props[key] = [...asList(value).filter((v) => !list.some((x) => same(x, v))), ...list];
      return;
    }
    case '$postInsert': {
      const list = existing === undefined ? [] : asList(existing);
      props[key] = [...list, ...asList(value).filter((v) => !list.some((x) => same(x, v)))];
      return;
    }
    case '$remove': {
      if (existing === undefined) return;
      const drop = asList(value);
      props[key] = asList(existing).filter((x) => !drop.some((v) => same(x, v)));
      return;
    }
  }
}
