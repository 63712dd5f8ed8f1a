import { KEY_PREFIX } from './ids';

/**
 * The four objects the emulator serves, with the fields a Novade org has on them. Records are kept
 * in an internal form: datetimes as epoch ms (fast comparisons, compact), dates as `YYYY-MM-DD`.
 * Formula fields are computed when read, so, as in Salesforce, their value can change while the
 * record's SystemModstamp does not.
 */
export type FieldValue = string | number | boolean | null;
export type StoredRecord = Readonly<Record<string, FieldValue>>;

export const OBJECT_NAMES = ['Account', 'Contact', 'Lead', 'Opportunity'] as const;
export type SObjectName = (typeof OBJECT_NAMES)[number];

export type FieldType =
  | 'id'
  | 'reference'
  | 'string'
  | 'email'
  | 'phone'
  | 'url'
  | 'textarea'
  | 'picklist'
  | 'boolean'
  | 'datetime'
  | 'date'
  | 'currency'
  | 'percent'
  | 'double'
  | 'int';

/** How SOQL compares a field: text is case-insensitive, ids are exact. */
export type ValueKind = 'text' | 'id' | 'boolean' | 'datetime' | 'date' | 'number';

export interface FormulaContext {
  now: number;
  record(object: SObjectName, id: string): StoredRecord | undefined;
}

export interface FieldDef {
  name: string;
  type: FieldType;
  label: string;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  length?: number;
  referenceTo?: SObjectName | 'User';
  picklistValues?: readonly string[];
  formula?: (record: StoredRecord, ctx: FormulaContext) => FieldValue;
  /** Set by the platform (Id, audit fields, IsDeleted): never writable through the API. */
  system?: boolean;
}

export interface ObjectDef {
  name: SObjectName;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  fields: readonly FieldDef[];
  byLowerName: ReadonlyMap<string, FieldDef>;
}

export function valueKind(type: FieldType): ValueKind {
  switch (type) {
    case 'id':
    case 'reference':
      return 'id';
    case 'boolean':
      return 'boolean';
    case 'datetime':
      return 'datetime';
    case 'date':
      return 'date';
    case 'currency':
    case 'percent':
    case 'double':
    case 'int':
      return 'number';
    default:
      return 'text';
  }
}

/** Salesforce's name for the type in describe and in SOQL error messages. */
export function soapTypeName(type: FieldType): string {
  return type === 'datetime' ? 'dateTime' : type;
}

export const OPPORTUNITY_STAGES = [
  { name: 'Prospecting', probability: 10, forecast: 'Pipeline', closed: false, won: false },
  { name: 'Qualification', probability: 10, forecast: 'Pipeline', closed: false, won: false },
  { name: 'Needs Analysis', probability: 20, forecast: 'Pipeline', closed: false, won: false },
  { name: 'Value Proposition', probability: 50, forecast: 'Pipeline', closed: false, won: false },
  { name: 'Proposal/Price Quote', probability: 75, forecast: 'Best Case', closed: false, won: false },
  { name: 'Negotiation/Review', probability: 90, forecast: 'Commit', closed: false, won: false },
  { name: 'Closed Won', probability: 100, forecast: 'Closed', closed: true, won: true },
  { name: 'Closed Lost', probability: 0, forecast: 'Omitted', closed: true, won: false },
] as const;
export const OPEN_STAGES: readonly string[] = OPPORTUNITY_STAGES.filter((s) => !s.closed).map((s) => s.name);

export const LEAD_STATUSES = ['Open - Not Contacted', 'Working - Contacted', 'Closed - Converted', 'Closed - Not Converted'] as const;
export const LEAD_SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Trade Show', 'Drift Chat', 'Webinar', 'Other'] as const;

const DAY_MS = 86_400_000;

function fullName(r: StoredRecord): FieldValue {
  return [r.FirstName, r.LastName].filter((p) => typeof p === 'string' && p !== '').join(' ');
}

function f(name: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef {
  const label = extra.label ?? name.replace(/__c$/, '').replace(/_/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').replace(/ Id$/, ' ID');
  const system = extra.system ?? false;
  const formula = extra.formula !== undefined;
  return {
    name,
    type,
    label,
    nillable: !system && type !== 'boolean',
    createable: !system && !formula,
    updateable: !system && !formula,
    ...extra,
  };
}

const auditFields = (): FieldDef[] => [
  f('OwnerId', 'reference', { referenceTo: 'User', nillable: false, label: 'Owner ID' }),
  f('IsDeleted', 'boolean', { system: true, label: 'Deleted' }),
  f('CreatedDate', 'datetime', { system: true, nillable: false, label: 'Created Date' }),
  f('LastModifiedDate', 'datetime', { system: true, nillable: false, label: 'Last Modified Date' }),
  f('SystemModstamp', 'datetime', { system: true, nillable: false, label: 'System Modstamp' }),
];

const idField = () => f('Id', 'id', { system: true, nillable: false, label: 'Record ID', length: 18 });

const FIELDS: Record<SObjectName, FieldDef[]> = {
  Account: [
    idField(),
    f('Name', 'string', { nillable: false, length: 255, label: 'Account Name' }),
    f('Type', 'picklist', { picklistValues: ['Prospect', 'Customer', 'Partner', 'Other'] }),
    f('Industry', 'picklist', { picklistValues: ['Construction', 'Engineering', 'Real Estate', 'Facilities Management', 'Government'] }),
    f('BillingCountry', 'string', { length: 80 }),
    f('Website', 'url', { length: 255 }),
    f('NumberOfEmployees', 'int', { label: 'Employees' }),
    f('AnnualRevenue', 'currency'),
    f('Description', 'textarea', { length: 32_000 }),
    ...auditFields(),
  ],
  Contact: [
    idField(),
    f('AccountId', 'reference', { referenceTo: 'Account', label: 'Account ID' }),
    f('FirstName', 'string', { length: 40 }),
    f('LastName', 'string', { nillable: false, length: 80 }),
    // Compound name: read-only, derived from FirstName / LastName.
    f('Name', 'string', { length: 121, createable: false, updateable: false, nillable: false, label: 'Full Name' }),
    f('Email', 'email', { length: 80 }),
    f('Title', 'string', { length: 128 }),
    f('Phone', 'phone', { length: 40, label: 'Business Phone' }),
    f('MailingCountry', 'string', { length: 80 }),
    f('LeadSource', 'picklist', { picklistValues: LEAD_SOURCES }),
    f('HasOptedOutOfEmail', 'boolean', { label: 'Email Opt Out' }),
    f('Description', 'textarea', { length: 32_000 }),
    f('Full_Name__c', 'string', { length: 1300, formula: fullName }),
    // Cross-object formula: changes when the Account is renamed, without touching the Contact.
    f('Account_Name__c', 'string', {
      length: 1300,
      formula: (r, ctx) => (typeof r.AccountId === 'string' ? (ctx.record('Account', r.AccountId)?.Name ?? null) : null),
    }),
    ...auditFields(),
  ],
  Lead: [
    idField(),
    f('FirstName', 'string', { length: 40 }),
    f('LastName', 'string', { nillable: false, length: 80 }),
    f('Name', 'string', { length: 121, createable: false, updateable: false, nillable: false, label: 'Full Name' }),
    f('Email', 'email', { length: 80 }),
    f('Title', 'string', { length: 128 }),
    f('Phone', 'phone', { length: 40 }),
    f('Company', 'string', { nillable: false, length: 255 }),
    f('Country', 'string', { length: 80 }),
    f('Status', 'picklist', { nillable: false, picklistValues: LEAD_STATUSES }),
    f('LeadSource', 'picklist', { picklistValues: LEAD_SOURCES }),
    f('Rating', 'picklist', { picklistValues: ['Hot', 'Warm', 'Cold'] }),
    f('IsConverted', 'boolean', { label: 'Converted', createable: true, updateable: false }),
    f('ConvertedDate', 'date', { createable: false, updateable: false }),
    f('ConvertedContactId', 'reference', { referenceTo: 'Contact', createable: false, updateable: false, label: 'Converted Contact ID' }),
    f('ConvertedAccountId', 'reference', { referenceTo: 'Account', createable: false, updateable: false, label: 'Converted Account ID' }),
    f('ConvertedOpportunityId', 'reference', { referenceTo: 'Opportunity', createable: false, updateable: false, label: 'Converted Opportunity ID' }),
    f('Full_Name__c', 'string', { length: 1300, formula: fullName }),
    ...auditFields(),
  ],
  Opportunity: [
    idField(),
    f('AccountId', 'reference', { referenceTo: 'Account', label: 'Account ID' }),
    f('Name', 'string', { nillable: false, length: 120 }),
    f('StageName', 'picklist', { nillable: false, picklistValues: OPPORTUNITY_STAGES.map((s) => s.name), label: 'Stage' }),
    f('Amount', 'currency'),
    f('CloseDate', 'date', { nillable: false }),
    f('Probability', 'percent', { label: 'Probability (%)' }),
    f('ForecastCategoryName', 'picklist', { picklistValues: ['Pipeline', 'Best Case', 'Commit', 'Closed', 'Omitted'], label: 'Forecast Category' }),
    f('IsClosed', 'boolean', { label: 'Closed', createable: false, updateable: false }),
    f('IsWon', 'boolean', { label: 'Won', createable: false, updateable: false }),
    f('Type', 'picklist', { picklistValues: ['New Business', 'Existing Business - Upgrade', 'Renewal'] }),
    f('LeadSource', 'picklist', { picklistValues: LEAD_SOURCES }),
    f('NextStep', 'string', { length: 255 }),
    f('Description', 'textarea', { length: 32_000 }),
    // Depends on the clock: changes every day with no SystemModstamp bump.
    f('Days_Open__c', 'double', {
      formula: (r, ctx) => {
        const created = r.CreatedDate as number;
        const end = r.IsClosed && typeof r.CloseDate === 'string' ? Date.parse(`${r.CloseDate}T00:00:00Z`) : ctx.now;
        return Math.max(0, Math.floor((end - created) / DAY_MS));
      },
    }),
    ...auditFields(),
  ],
};

function objectDef(name: SObjectName, label: string, labelPlural: string): ObjectDef {
  const fields = FIELDS[name];
  return { name, label, labelPlural, keyPrefix: KEY_PREFIX[name], fields, byLowerName: new Map(fields.map((fd) => [fd.name.toLowerCase(), fd])) };
}

export const OBJECTS: Readonly<Record<SObjectName, ObjectDef>> = {
  Account: objectDef('Account', 'Account', 'Accounts'),
  Contact: objectDef('Contact', 'Contact', 'Contacts'),
  Lead: objectDef('Lead', 'Lead', 'Leads'),
  Opportunity: objectDef('Opportunity', 'Opportunity', 'Opportunities'),
};

/** The object for a name as a client may spell it (SOQL and URLs are case-insensitive). */
export function findObject(name: string): ObjectDef | undefined {
  const lower = name.toLowerCase();
  return Object.values(OBJECTS).find((o) => o.name.toLowerCase() === lower);
}

/** Stage-derived fields, kept consistent the way Salesforce's stage picklist settings do. */
export function stageFields(stageName: string): Record<string, FieldValue> {
  const stage = OPPORTUNITY_STAGES.find((s) => s.name === stageName);
  if (!stage) return {};
  return { Probability: stage.probability, ForecastCategoryName: stage.forecast, IsClosed: stage.closed, IsWon: stage.won };
}
