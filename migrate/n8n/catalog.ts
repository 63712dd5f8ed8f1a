import { SALESFORCE_FIELDS } from '../../mappings/salesforce-known-fields';
import { defaultSalesforceStreamName, DRIFT_STREAM_EVENTS, type FieldSelection, type StreamsFile } from '../../streams/config/schema';
import { SEGMENT_READ_TABLES } from '../../connectors/bigquery/segment-rows';

/**
 * What novade-sync runs, as the inventory compares n8n workflows with it: the Salesforce objects
 * and fields of config/streams.yaml (today's four objects when the file is absent), the Drift
 * streams, and the Segment tables the backfill reads.
 */

export interface CatalogObject {
  object: string;
  stream: string;
  fields: FieldSelection;
}

export interface NovadeCatalog {
  salesforce: CatalogObject[];
  /** Where the Salesforce list came from, for the report. */
  salesforceSource: string;
  drift: string[];
  segment: { dataset: string; tables: string[] };
}

/** Today's objects and fields (mappings/salesforce.ts), for a checkout without config/streams.yaml. */
export function defaultSalesforceObjects(): CatalogObject[] {
  return Object.entries(SALESFORCE_FIELDS).map(([object, specs]) => ({ object, stream: defaultSalesforceStreamName(object), fields: specs.map((s) => s.field) }));
}

export function buildCatalog(opts: { streams?: StreamsFile; streamsSource: string; segmentDataset: string; segmentTables: readonly string[] }): NovadeCatalog {
  const objects = opts.streams?.salesforce?.objects;
  const driftConfig = opts.streams?.drift?.streams;
  const drift = (Object.keys(DRIFT_STREAM_EVENTS) as (keyof typeof DRIFT_STREAM_EVENTS)[]).filter((s) => driftConfig?.[s]?.enabled !== false);
  return {
    salesforce: objects ? objects.map((o) => ({ object: o.object, stream: o.stream ?? defaultSalesforceStreamName(o.object), fields: o.fields })) : defaultSalesforceObjects(),
    salesforceSource: objects ? opts.streamsSource : `today's objects (${opts.streamsSource} not found)`,
    drift,
    segment: { dataset: opts.segmentDataset, tables: opts.segmentTables.filter((t) => (SEGMENT_READ_TABLES as readonly string[]).includes(t)) },
  };
}

export function findObject(catalog: NovadeCatalog, object: string): CatalogObject | undefined {
  return catalog.salesforce.find((o) => o.object.toLowerCase() === object.toLowerCase());
}

/** Every Salesforce stream reads these whatever its field list (streams/salesforce.ts requiredFields). */
const ALWAYS_READ = new Set(['id', 'systemmodstamp', 'isdeleted']);

/** The fields of `wanted` the object's declaration does not read (case-insensitive, as Salesforce). */
export function missingFields(entry: CatalogObject, wanted: string[]): string[] {
  const named = wanted.filter((f) => !ALWAYS_READ.has(f.toLowerCase()));
  const sel = entry.fields;
  if (sel === 'all') return [];
  if (Array.isArray(sel)) {
    const have = new Set(sel.map((f) => f.toLowerCase()));
    return named.filter((f) => !have.has(f.toLowerCase()));
  }
  const except = new Set(sel.all_except.map((f) => f.toLowerCase()));
  return named.filter((f) => except.has(f.toLowerCase()));
}

/** Standard API names in their documented case, so `firstname` from an n8n field list reads `FirstName`. */
const KNOWN = new Map<string, string>();
for (const specs of Object.values(SALESFORCE_FIELDS)) for (const s of specs) KNOWN.set(s.field.toLowerCase(), s.field);
for (const f of ['Id', 'Name', 'Type', 'Company', 'FirstName', 'LastName', 'Street', 'PostalCode', 'City', 'State', 'Email', 'Status', 'AccountId', 'ContactId', 'Amount', 'Probability', 'Priority', 'Subject', 'StageName', 'CloseDate', 'IsWon', 'IsClosed', 'IsConverted', 'ConvertedDate', 'LeadSource', 'OwnerId', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp', 'IsDeleted', 'Phone', 'Title', 'Website', 'Industry', 'Description', 'RecordTypeId', 'CreatedById', 'LastModifiedById'])
  KNOWN.set(f.toLowerCase(), f);

export function canonicalField(name: string, entry?: CatalogObject): string {
  const lower = name.toLowerCase();
  if (entry && Array.isArray(entry.fields)) {
    const hit = entry.fields.find((f) => f.toLowerCase() === lower);
    if (hit) return hit;
  }
  return KNOWN.get(lower) ?? name;
}

/** `Account.Name` → `AccountId`, `Project__r.Name` → `Project__c`: the lookup field a relationship path goes through. */
export function lookupField(path: string): string {
  const first = path.split('.')[0];
  if (/__r$/i.test(first)) return first.replace(/__r$/i, '__c');
  return `${canonicalField(first)}Id`;
}
