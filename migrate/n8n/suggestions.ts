import { defaultSalesforceStreamName, type SalesforceObjectConfig } from '../../streams/config/schema';
import { findObject, missingFields, type NovadeCatalog } from './catalog';
import type { Inventory } from './inventory';

/**
 * The streams.yaml changes the inventory suggests: a `salesforce.objects` entry for each object the
 * workflows read that the file does not declare, and the fields to add to those it does. New
 * entries have no identity and no events, so they go to the warehouse only until rules are added.
 */

export interface NewObject {
  entry: SalesforceObjectConfig;
  /** Names of the workflows that read it. */
  readBy: string[];
  /** Some read took every field (a Get by id, FIELDS(ALL)). */
  everyField: boolean;
  /** Some read named its fields at run time: the list may be short. */
  dynamic: boolean;
}

export interface FieldsToAdd {
  object: string;
  stream: string;
  fields: string[];
  everyField: boolean;
  readBy: string[];
}

export interface StreamSuggestions {
  add: NewObject[];
  extend: FieldsToAdd[];
}

interface Reads {
  object: string;
  fields: string[];
  all: boolean;
  dynamic: boolean;
  workflows: string[];
}

export function suggestStreams(inventory: Inventory, catalog: NovadeCatalog): StreamSuggestions {
  const byObject = new Map<string, Reads>();
  for (const wf of inventory.workflows) {
    for (const use of wf.uses) {
      const sf = use.salesforce;
      if (!use.active || use.system !== 'salesforce' || use.access !== 'read' || !sf?.object || sf.metadata || !/^[A-Za-z][A-Za-z0-9_]*$/.test(sf.object)) continue;
      const key = sf.object.toLowerCase();
      const r = byObject.get(key) ?? { object: sf.object, fields: [], all: false, dynamic: false, workflows: [] };
      for (const f of sf.fields) if (/^[A-Za-z][A-Za-z0-9_]*$/.test(f) && !r.fields.some((x) => x.toLowerCase() === f.toLowerCase())) r.fields.push(f);
      r.all ||= sf.allFields;
      r.dynamic ||= sf.fieldsDynamic;
      if (!r.workflows.includes(wf.name)) r.workflows.push(wf.name);
      byObject.set(key, r);
    }
  }
  const add: NewObject[] = [];
  const extend: FieldsToAdd[] = [];
  for (const r of byObject.values()) {
    const existing = findObject(catalog, r.object);
    if (existing) {
      const missing = missingFields(existing, r.fields);
      const everyField = r.all && existing.fields !== 'all';
      if (missing.length || everyField) extend.push({ object: existing.object, stream: existing.stream, fields: missing, everyField, readBy: r.workflows });
      continue;
    }
    const fields = ['Id', ...r.fields.filter((f) => f.toLowerCase() !== 'id')];
    add.push({ entry: { object: r.object, stream: defaultSalesforceStreamName(r.object), fields: r.all ? 'all' : fields }, readBy: r.workflows, everyField: r.all, dynamic: r.dynamic });
  }
  return { add, extend };
}
