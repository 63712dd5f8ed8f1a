import { toId18 } from '../ids';
import { findObject, isCompound, soapTypeName, valueKind, type FieldDef, type FieldValue, type FormulaContext, type ObjectDef, type StoredRecord, type ValueKind } from '../schema';
import type { Condition, FieldRef, Literal, SoqlQuery } from './ast';
import { soqlError } from './errors';
import { parseSoql } from './parser';

/**
 * A parsed query bound to the schema: fields resolved (case-insensitively, as SOQL does), literal
 * types checked against field types with Salesforce's messages, the WHERE clause compiled to a
 * predicate and ORDER BY to a comparator over stored records.
 */
export interface QueryPlan {
  object: ObjectDef;
  countOnly: boolean;
  /** Selected fields in SELECT order, de-duplicated; empty for COUNT(). */
  fields: FieldDef[];
  matches(record: StoredRecord, ctx: FormulaContext): boolean;
  /** Undefined when the query has no ORDER BY (records stay in Id order). */
  compare?: (a: StoredRecord, b: StoredRecord, ctx: FormulaContext) => number;
  limit?: number;
  offset: number;
}

type Getter = (record: StoredRecord, ctx: FormulaContext) => FieldValue;

const getter = (field: FieldDef): Getter => {
  const formula = field.formula;
  if (formula) return (r, ctx) => formula(r, ctx);
  const name = field.name;
  return (r) => r[name] ?? null;
};

/** `find` resolves an object name as the org's schema has it now (fields the user may not read are absent). */
export function planSoql(soql: string, find: (name: string) => ObjectDef | undefined = findObject): QueryPlan {
  const query = parseSoql(soql);
  const object = find(query.from.name);
  if (!object) {
    throw soqlError('INVALID_TYPE', soql, query.from.pos, `sObject type '${query.from.name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`);
  }
  const resolve = (ref: FieldRef) => resolveField(query, object, ref);
  const fields: FieldDef[] = [];
  if (query.select.kind === 'fields') {
    for (const ref of query.select.fields) {
      const field = resolve(ref);
      if (!fields.includes(field)) fields.push(field);
    }
  }
  const plan: QueryPlan = {
    object,
    countOnly: query.select.kind === 'count',
    fields,
    matches: query.where ? compileCondition(query, object, query.where) : () => true,
    limit: query.limit,
    offset: query.offset ?? 0,
  };
  if (query.orderBy.length > 0) {
    if (plan.countOnly) throw soqlError('MALFORMED_QUERY', soql, query.orderBy[0].field.pos, 'ORDER BY is not supported with COUNT()');
    const keys = query.orderBy.map((item) => {
      const field = resolve(item.field);
      if (field.type === 'textarea' || isCompound(field)) throw soqlError('INVALID_FIELD', soql, item.field.pos, `field '${field.name}' can not be sorted in a query call`);
      return { get: getter(field), kind: valueKind(field.type), descending: item.descending, nullsFirst: item.nullsFirst };
    });
    plan.compare = (a, b, ctx) => {
      for (const key of keys) {
        const va = key.get(a, ctx);
        const vb = key.get(b, ctx);
        if (va === vb) continue;
        if (va === null) return key.nullsFirst ? -1 : 1;
        if (vb === null) return key.nullsFirst ? 1 : -1;
        const order = compareValues(key.kind, va, vb);
        if (order !== 0) return key.descending ? -order : order;
      }
      return 0;
    };
  }
  return plan;
}

function resolveField(query: SoqlQuery, object: ObjectDef, ref: FieldRef): FieldDef {
  if (ref.path.length > 1) {
    throw soqlError('INVALID_FIELD', query.soql, ref.pos, `Didn't understand relationship '${ref.path[0]}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`);
  }
  const field = object.byLowerName.get(ref.path[0].toLowerCase());
  if (!field) {
    throw soqlError('INVALID_FIELD', query.soql, ref.pos, `No such column '${ref.path[0]}' on entity '${object.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`);
  }
  return field;
}

function compareValues(kind: ValueKind, a: FieldValue, b: FieldValue): number {
  if (kind === 'text') {
    const la = String(a).toLowerCase();
    const lb = String(b).toLowerCase();
    return la < lb ? -1 : la > lb ? 1 : 0;
  }
  if (kind === 'boolean') return Number(a) - Number(b);
  return (a as string | number) < (b as string | number) ? -1 : (a as string | number) > (b as string | number) ? 1 : 0;
}

/** The literal as a stored value of the field's kind, or a Salesforce error when the types differ. */
function bindLiteral(query: SoqlQuery, field: FieldDef, literal: Literal): FieldValue {
  if (literal.kind === 'null') return null;
  const kind = valueKind(field.type);
  const typeName = soapTypeName(field.type);
  const mismatch = (quoted: boolean) =>
    soqlError('INVALID_FIELD', query.soql, literal.pos, `value of filter criterion for field '${field.name}' must be of type ${typeName} and ${quoted ? 'should be enclosed in quotes' : 'should not be enclosed in quotes'}`);
  switch (kind) {
    case 'text':
      if (literal.kind !== 'string') throw mismatch(true);
      return literal.value.toLowerCase();
    case 'id': {
      if (literal.kind !== 'string') throw mismatch(true);
      const id = toId18(literal.value);
      if (!id) throw soqlError('INVALID_QUERY_FILTER_OPERATOR', query.soql, literal.pos, `invalid ID field: ${literal.value}`);
      return id;
    }
    case 'datetime':
      if (literal.kind !== 'datetime') throw mismatch(false);
      return literal.value;
    case 'date':
      if (literal.kind !== 'date') throw mismatch(false);
      return literal.value;
    case 'number':
      if (literal.kind !== 'number') throw mismatch(false);
      return literal.value;
    case 'boolean':
      if (literal.kind !== 'boolean') throw mismatch(false);
      return literal.value;
  }
}

function filterableField(query: SoqlQuery, object: ObjectDef, ref: FieldRef): FieldDef {
  const field = resolveField(query, object, ref);
  if (field.type === 'textarea' || isCompound(field)) throw soqlError('INVALID_FIELD', query.soql, ref.pos, `field '${field.name}' can not be filtered in query call`);
  return field;
}

function likeMatcher(pattern: string): (value: string) => boolean {
  // LIKE is case-insensitive; % is any run, _ one character, \% and \_ literal.
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && (pattern[i + 1] === '%' || pattern[i + 1] === '_')) {
      source += pattern[++i];
    } else if (c === '%') source += '.*';
    else if (c === '_') source += '.';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const re = new RegExp(`^${source}$`, 'is');
  return (value) => re.test(value);
}

function compileCondition(query: SoqlQuery, object: ObjectDef, cond: Condition): QueryPlan['matches'] {
  switch (cond.type) {
    case 'and': {
      const parts = cond.items.map((c) => compileCondition(query, object, c));
      return (r, ctx) => parts.every((p) => p(r, ctx));
    }
    case 'or': {
      const parts = cond.items.map((c) => compileCondition(query, object, c));
      return (r, ctx) => parts.some((p) => p(r, ctx));
    }
    case 'not': {
      const inner = compileCondition(query, object, cond.item);
      return (r, ctx) => !inner(r, ctx);
    }
    case 'like': {
      const field = filterableField(query, object, cond.field);
      if (valueKind(field.type) !== 'text' || cond.pattern.kind !== 'string') {
        throw soqlError('INVALID_FIELD', query.soql, cond.field.pos, `invalid operator on field '${field.name}': LIKE`);
      }
      const get = getter(field);
      const test = likeMatcher(cond.pattern.value);
      return (r, ctx) => {
        const v = get(r, ctx);
        return v !== null && test(String(v));
      };
    }
    case 'in': {
      const field = filterableField(query, object, cond.field);
      const kind = valueKind(field.type);
      const values = new Set(cond.values.map((l) => bindLiteral(query, field, l)));
      const get = getter(field);
      return (r, ctx) => {
        const v = get(r, ctx);
        const found = values.has(kind === 'text' && v !== null ? String(v).toLowerCase() : v);
        return cond.negated ? !found : found;
      };
    }
    case 'compare': {
      const field = filterableField(query, object, cond.field);
      const kind = valueKind(field.type);
      const target = bindLiteral(query, field, cond.value);
      const get = getter(field);
      const norm = (v: FieldValue) => (kind === 'text' && v !== null ? String(v).toLowerCase() : v);
      const op = cond.op;
      if (target === null) {
        if (op !== '=' && op !== '!=') throw soqlError('INVALID_QUERY_FILTER_OPERATOR', query.soql, cond.value.pos, `invalid operator on null: ${op}`);
        return op === '=' ? (r, ctx) => get(r, ctx) === null : (r, ctx) => get(r, ctx) !== null;
      }
      return (r, ctx) => {
        const v = norm(get(r, ctx));
        // SOQL's != keeps records whose field is null; ordering comparisons never match null.
        if (v === null) return op === '!=';
        switch (op) {
          case '=':
            return v === target;
          case '!=':
            return v !== target;
          case '<':
            return v < target;
          case '<=':
            return v <= target;
          case '>':
            return v > target;
          case '>=':
            return v >= target;
        }
      };
    }
  }
}
