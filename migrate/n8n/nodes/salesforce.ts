import type { N8nNode } from '../export-format';
import { at, items, literal, textOf } from '../params';
import { parseSoql } from '../soql';
import type { SalesforceUse, SystemUse } from '../uses';

/**
 * The Salesforce node (`n8n-nodes-base.salesforce`) and its polling trigger. Names from n8n's
 * packages/nodes-base/nodes/Salesforce: `resource` (lead, contact, account, opportunity, case, task,
 * user, attachment, customObject with `customObject`, search with a SOQL `query`), `operation`, and
 * for Get Many `options.fields` (comma-separated text, a list for custom objects) and
 * `options.conditionsUi.conditionValues[].field`. Without `options.fields` n8n reads a default
 * set per object (GenericFunctions.ts getDefaultFields), which the inventory lists as what was read.
 */

const RESOURCE_OBJECT: Record<string, string> = {
  account: 'Account',
  attachment: 'Attachment',
  case: 'Case',
  contact: 'Contact',
  lead: 'Lead',
  opportunity: 'Opportunity',
  task: 'Task',
  user: 'User',
  document: 'ContentVersion',
};

/** n8n's own field list for a Get Many without `options.fields` (custom objects: Id). */
export const N8N_DEFAULT_FIELDS: Record<string, string[]> = {
  Account: ['Id', 'Name', 'Type'],
  Lead: ['Id', 'Company', 'FirstName', 'LastName', 'Street', 'PostalCode', 'City', 'Email', 'Status'],
  Contact: ['Id', 'FirstName', 'LastName', 'Email'],
  Opportunity: ['Id', 'AccountId', 'Amount', 'Probability', 'Type'],
  Case: ['Id', 'AccountId', 'ContactId', 'Priority', 'Status', 'Subject', 'Type'],
  Task: ['Id', 'Subject', 'Status', 'Priority'],
  Attachment: ['Id', 'Name'],
  User: ['Id', 'Name', 'Email'],
};

const READS = new Set(['get', 'getAll', 'getSummary', 'query']);

function splitFields(v: unknown): { fields: string[]; dynamic: boolean } {
  if (Array.isArray(v)) return { fields: v.map((x) => literal(x)).filter((x): x is string => !!x).map((x) => x.trim()).filter(Boolean), dynamic: false };
  const t = textOf(v);
  if (!t) return { fields: [], dynamic: false };
  if (t.dynamic) return { fields: [], dynamic: true };
  return { fields: t.text.split(',').map((f) => f.trim()).filter(Boolean), dynamic: false };
}

function use(node: N8nNode, operation: string, detail: SalesforceUse, access: 'read' | 'write'): SystemUse {
  return { node: node.name, type: node.type, system: 'salesforce', label: 'Salesforce', access, operation, salesforce: detail };
}

const empty = (object: string | undefined, operation: string): SalesforceUse => ({ object, operation, fields: [], allFields: false, fieldsDynamic: false, defaultFields: false, relationships: [], metadata: false });

/** Splits `Account.Name` (a lookup's field) from the object's own fields. */
export function withRelationships(detail: SalesforceUse, names: string[]): SalesforceUse {
  for (const f of names) {
    if (f.includes('.')) {
      if (!detail.relationships.includes(f)) detail.relationships.push(f);
    } else if (!detail.fields.some((x) => x.toLowerCase() === f.toLowerCase())) detail.fields.push(f);
  }
  return detail;
}

/**
 * The fields a create, update or upsert sets: `additionalFields` / `updateFields` (n8n's camelCase
 * names of standard fields: `stageName` is StageName) and the custom fields of `customFieldsUi`.
 */
function writtenFields(p: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const key of ['additionalFields', 'updateFields']) {
    const c = at(p, key);
    if (typeof c !== 'object' || c === null || Array.isArray(c)) continue;
    for (const k of Object.keys(c)) {
      if (k === 'customFieldsUi') continue;
      const name = k === 'owner' ? 'OwnerId' : k.charAt(0).toUpperCase() + k.slice(1);
      if (/^[A-Za-z][A-Za-z0-9_]*$/.test(name) && !out.includes(name)) out.push(name);
    }
    for (const v of items(at(c, 'customFieldsUi'), 'customFieldsValues')) {
      const id = literal(v.fieldId);
      if (id && !out.includes(id)) out.push(id);
    }
  }
  return out;
}

export function salesforceNode(node: N8nNode): SystemUse[] {
  const p = node.parameters;
  const resource = literal(p.resource) ?? 'lead';
  const operation = literal(p.operation) ?? (resource === 'search' ? 'query' : 'create');
  if (resource === 'search') {
    const query = textOf(p.query)?.text ?? '';
    const soql = parseSoql(query);
    const detail = withRelationships({ ...empty(soql?.object, operation), soql: query, allFields: soql?.allFields ?? false, fieldsDynamic: !soql }, soql?.fields ?? []);
    return [use(node, operation, detail, 'read')];
  }
  if (resource === 'flow') return [use(node, operation, { ...empty(undefined, operation), metadata: true }, operation === 'getAll' ? 'read' : 'write')];
  const object = resource === 'customObject' ? literal(p.customObject) : RESOURCE_OBJECT[resource] ?? resource.charAt(0).toUpperCase() + resource.slice(1);
  const detail = empty(object, operation);
  if (!READS.has(operation)) return [use(node, operation, { ...detail, fields: writtenFields(p) }, 'write')];
  if (operation === 'getSummary') return [use(node, operation, { ...detail, metadata: true }, 'read')];
  // Get reads one record by id with every field.
  if (operation === 'get') return [use(node, operation, { ...detail, allFields: true }, 'read')];
  const named = splitFields(at(p, 'options', 'fields'));
  const conditions = items(at(p, 'options', 'conditionsUi'), 'conditionValues').map((c) => literal(c.field)).filter((f): f is string => !!f);
  if (named.dynamic) detail.fieldsDynamic = true;
  else if (named.fields.length === 0) {
    detail.defaultFields = true;
    named.fields.push(...(object ? N8N_DEFAULT_FIELDS[object] ?? ['Id'] : ['Id']));
  }
  return [use(node, operation, withRelationships(detail, [...named.fields, ...conditions]), 'read')];
}

/** `salesforceTrigger`: polls `<object>` for created (CreatedDate) or updated (LastModifiedDate) records, n8n's default fields. */
export function salesforceTriggerNode(node: N8nNode): SystemUse[] {
  const on = literal(node.parameters.triggerOn) ?? '';
  const m = /^(.*?)(Created|Updated)$/.exec(on);
  const resource = m?.[1] ?? '';
  const object = resource === 'customObject' ? literal(node.parameters.customObject) : RESOURCE_OBJECT[resource];
  const change = m?.[2] === 'Updated' ? 'LastModifiedDate' : 'CreatedDate';
  const detail = withRelationships({ ...empty(object, on || 'poll'), defaultFields: true }, [...(object ? N8N_DEFAULT_FIELDS[object] ?? ['Id'] : ['Id']), change]);
  return [use(node, on || 'poll', detail, 'read')];
}
