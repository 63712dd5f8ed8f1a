import { KEY_PREFIX } from './ids';

/**
 * The four objects the emulator serves, with the fields a Novade org has on them. Records are kept
 * in an internal form: datetimes as epoch ms (fast comparisons, compact), dates as `YYYY-MM-DD`.
 * Formula fields are computed when read, so, as in Salesforce, their value can change while the
 * record's SystemModstamp does not.
 */
export type FieldValue = string | number | boolean | null;
export type StoredRecord = Readonly<Record<string, FieldValue>>;

/** The standard objects, synced by default. */
export const OBJECT_NAMES = ['Account', 'Contact', 'Lead', 'Opportunity'] as const;
/** Custom objects of the seeded org (API names end in `__c`). */
export const CUSTOM_OBJECT_NAMES = ['Project__c'] as const;
/** Every object the emulator holds. */
export const SOBJECT_NAMES = [...OBJECT_NAMES, ...CUSTOM_OBJECT_NAMES] as const;
export type SObjectName = (typeof SOBJECT_NAMES)[number];

/** Describe's `type` values the emulator serves (Salesforce's REST describe spells them in lower case). */
export const FIELD_TYPES = [
  'id',
  'reference',
  'string',
  'email',
  'phone',
  'url',
  'textarea',
  'picklist',
  'multipicklist',
  'boolean',
  'datetime',
  'date',
  'time',
  'currency',
  'percent',
  'double',
  'int',
  'address',
  'location',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

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
  /** Number fields: total digits and digits after the point, as defined in Setup. */
  precision?: number;
  scale?: number;
  referenceTo?: SObjectName | 'User';
  picklistValues?: readonly string[];
  formula?: (record: StoredRecord, ctx: FormulaContext) => FieldValue;
  /** The formula's text, as describe's `calculatedFormula` shows it. */
  formulaText?: string;
  /** Set by the platform (Id, audit fields, IsDeleted): never writable through the API. */
  system?: boolean;
  externalId?: boolean;
  unique?: boolean;
  /** A component of a compound field (BillingCity of BillingAddress): the compound's name. */
  compoundFieldName?: string;
  /**
   * A compound field (address, geolocation): its components and the key each has in the structured
   * value the REST API answers (`{ city, country, ... }`, `{ latitude, longitude }`).
   */
  components?: Readonly<Record<string, string>>;
}

export interface ObjectDef {
  name: SObjectName;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  custom: boolean;
  /** The fields the integration user can see (field-level security applied). */
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

/** Salesforce's name for the type in SOQL error messages. */
export function soapTypeName(type: FieldType): string {
  return type === 'datetime' ? 'dateTime' : type;
}

/** Compound fields are read through the REST API only: not filterable, sortable, nor in Bulk results. */
export const isCompound = (field: FieldDef): boolean => field.type === 'address' || field.type === 'location';

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

export const GEOCODE_ACCURACIES = ['Address', 'NearAddress', 'Block', 'Street', 'ExtendedZip', 'Zip', 'Neighborhood', 'City', 'County', 'State', 'Unknown'] as const;

/**
 * A standard address: its components (BillingStreet, ..., BillingGeocodeAccuracy), then the
 * read-only compound (BillingAddress) whose REST value is a structure of them, in describe's order.
 */
function address(prefix: string, labelPrefix: string): FieldDef[] {
  const compound = `${prefix}Address`;
  const parts: [string, string, FieldType, Partial<FieldDef>][] = [
    ['Street', 'street', 'textarea', { length: 255 }],
    ['City', 'city', 'string', { length: 40 }],
    ['State', 'state', 'string', { length: 80, label: `${labelPrefix}State/Province` }],
    ['PostalCode', 'postalCode', 'string', { length: 20, label: `${labelPrefix}Zip/Postal Code` }],
    ['Country', 'country', 'string', { length: 80 }],
    ['Latitude', 'latitude', 'double', { precision: 18, scale: 15 }],
    ['Longitude', 'longitude', 'double', { precision: 18, scale: 15 }],
    ['GeocodeAccuracy', 'geocodeAccuracy', 'picklist', { picklistValues: GEOCODE_ACCURACIES, label: `${labelPrefix}Geocode Accuracy` }],
  ];
  const components: Record<string, string> = {};
  const fields = parts.map(([suffix, key, type, extra]) => {
    components[`${prefix}${suffix}`] = key;
    return f(`${prefix}${suffix}`, type, { label: `${labelPrefix}${suffix.replace(/([a-z])([A-Z])/g, '$1 $2')}`, compoundFieldName: compound, ...extra });
  });
  return [...fields, f(compound, 'address', { label: `${labelPrefix}Address`.trim(), createable: false, updateable: false, components })];
}

/** A custom geolocation field: `X__Latitude__s`, `X__Longitude__s` and the read-only compound `X__c`. */
function geolocation(name: string, label: string, decimals: number): FieldDef[] {
  const base = name.replace(/__c$/, '');
  const lat = `${base}__Latitude__s`;
  const lon = `${base}__Longitude__s`;
  const part = (n: string, which: string) => f(n, 'double', { label: `${label} (${which})`, precision: 3 + decimals, scale: decimals, compoundFieldName: name });
  return [part(lat, 'Latitude'), part(lon, 'Longitude'), f(name, 'location', { label, createable: false, updateable: false, components: { [lat]: 'latitude', [lon]: 'longitude' } })];
}

export const JOB_ROLES = ['Site Engineer', 'Project Manager', 'QA/QC Manager', 'HSE Manager', 'Director', 'Other'] as const;
export const PROJECT_STATUSES = ['Planning', 'Active', 'On Hold', 'Completed'] as const;

/** The seeded org's fields per object: today's standard fields plus Novade's custom ones. */
function baseFields(): Record<SObjectName, FieldDef[]> {
  return {
    Account: [
      idField(),
      f('Name', 'string', { nillable: false, length: 255, label: 'Account Name' }),
      f('Type', 'picklist', { picklistValues: ['Prospect', 'Customer', 'Partner', 'Other'] }),
      f('Industry', 'picklist', { picklistValues: ['Construction', 'Engineering', 'Real Estate', 'Facilities Management', 'Government'] }),
      ...address('Billing', 'Billing '),
      f('Website', 'url', { length: 255 }),
      f('NumberOfEmployees', 'int', { label: 'Employees', precision: 8 }),
      f('AnnualRevenue', 'currency', { precision: 18, scale: 0 }),
      f('Description', 'textarea', { length: 32_000 }),
      f('Novade_Customer_Id__c', 'string', { length: 20, label: 'Novade Customer ID', externalId: true, unique: true }),
      ...geolocation('Site_Location__c', 'Site Location', 6),
      ...auditFields(),
    ],
    Contact: [
      idField(),
      f('AccountId', 'reference', { referenceTo: 'Account', label: 'Account ID' }),
      f('FirstName', 'string', { length: 40, compoundFieldName: 'Name' }),
      f('LastName', 'string', { nillable: false, length: 80, compoundFieldName: 'Name' }),
      // Compound name: read-only, derived from FirstName / LastName; unlike addresses it is plain text.
      f('Name', 'string', { length: 121, createable: false, updateable: false, nillable: false, label: 'Full Name' }),
      f('Email', 'email', { length: 80 }),
      f('Title', 'string', { length: 128 }),
      f('Phone', 'phone', { length: 40, label: 'Business Phone' }),
      ...address('Mailing', 'Mailing '),
      f('LeadSource', 'picklist', { picklistValues: LEAD_SOURCES }),
      f('HasOptedOutOfEmail', 'boolean', { label: 'Email Opt Out' }),
      f('Description', 'textarea', { length: 32_000 }),
      f('Job_Role__c', 'picklist', { picklistValues: JOB_ROLES, label: 'Job Role' }),
      f('Full_Name__c', 'string', { length: 1300, formula: fullName, formulaText: "FirstName & ' ' & LastName" }),
      // Cross-object formula: changes when the Account is renamed, without touching the Contact.
      f('Account_Name__c', 'string', {
        length: 1300,
        formula: (r, ctx) => (typeof r.AccountId === 'string' ? (ctx.record('Account', r.AccountId)?.Name ?? null) : null),
        formulaText: 'Account.Name',
      }),
      ...auditFields(),
    ],
    Lead: [
      idField(),
      f('FirstName', 'string', { length: 40, compoundFieldName: 'Name' }),
      f('LastName', 'string', { nillable: false, length: 80, compoundFieldName: 'Name' }),
      f('Name', 'string', { length: 121, createable: false, updateable: false, nillable: false, label: 'Full Name' }),
      f('Email', 'email', { length: 80 }),
      f('Title', 'string', { length: 128 }),
      f('Phone', 'phone', { length: 40 }),
      f('Company', 'string', { nillable: false, length: 255 }),
      ...address('', ''),
      f('Status', 'picklist', { nillable: false, picklistValues: LEAD_STATUSES }),
      f('LeadSource', 'picklist', { picklistValues: LEAD_SOURCES }),
      f('Rating', 'picklist', { picklistValues: ['Hot', 'Warm', 'Cold'] }),
      f('IsConverted', 'boolean', { label: 'Converted', createable: true, updateable: false }),
      f('ConvertedDate', 'date', { createable: false, updateable: false }),
      f('ConvertedContactId', 'reference', { referenceTo: 'Contact', createable: false, updateable: false, label: 'Converted Contact ID' }),
      f('ConvertedAccountId', 'reference', { referenceTo: 'Account', createable: false, updateable: false, label: 'Converted Account ID' }),
      f('ConvertedOpportunityId', 'reference', { referenceTo: 'Opportunity', createable: false, updateable: false, label: 'Converted Opportunity ID' }),
      f('Full_Name__c', 'string', { length: 1300, formula: fullName, formulaText: "FirstName & ' ' & LastName" }),
      ...auditFields(),
    ],
    Opportunity: [
      idField(),
      f('AccountId', 'reference', { referenceTo: 'Account', label: 'Account ID' }),
      f('Name', 'string', { nillable: false, length: 120 }),
      f('StageName', 'picklist', { nillable: false, picklistValues: OPPORTUNITY_STAGES.map((s) => s.name), label: 'Stage' }),
      f('Amount', 'currency', { precision: 18, scale: 2 }),
      f('CloseDate', 'date', { nillable: false }),
      f('Probability', 'percent', { label: 'Probability (%)', precision: 3, scale: 0 }),
      f('ForecastCategoryName', 'picklist', { picklistValues: ['Pipeline', 'Best Case', 'Commit', 'Closed', 'Omitted'], label: 'Forecast Category' }),
      f('IsClosed', 'boolean', { label: 'Closed', createable: false, updateable: false }),
      f('IsWon', 'boolean', { label: 'Won', createable: false, updateable: false }),
      f('Type', 'picklist', { picklistValues: ['New Business', 'Existing Business - Upgrade', 'Renewal'] }),
      f('LeadSource', 'picklist', { picklistValues: LEAD_SOURCES }),
      f('NextStep', 'string', { length: 255 }),
      f('Description', 'textarea', { length: 32_000 }),
      // Depends on the clock: changes every day with no SystemModstamp bump.
      f('Days_Open__c', 'double', {
        precision: 18,
        scale: 0,
        formula: (r, ctx) => {
          const created = r.CreatedDate as number;
          const end = r.IsClosed && typeof r.CloseDate === 'string' ? Date.parse(`${r.CloseDate}T00:00:00Z`) : ctx.now;
          return Math.max(0, Math.floor((end - created) / DAY_MS));
        },
        formulaText: 'IF(IsClosed, CloseDate, TODAY()) - DATEVALUE(CreatedDate)',
      }),
      ...auditFields(),
    ],
    Project__c: [
      idField(),
      f('Name', 'string', { nillable: false, length: 80, label: 'Project Name' }),
      f('Account__c', 'reference', { referenceTo: 'Account', label: 'Account' }),
      f('Status__c', 'picklist', { picklistValues: PROJECT_STATUSES, label: 'Status' }),
      f('Contract_Value__c', 'currency', { precision: 16, scale: 2 }),
      f('Site_Count__c', 'double', { precision: 18, scale: 0, label: 'Sites' }),
      f('Start_Date__c', 'date', { label: 'Start Date' }),
      f('Is_Active__c', 'boolean', { formula: (r) => r.Status__c === 'Active', formulaText: "ISPICKVAL(Status__c, 'Active')", label: 'Active' }),
      ...auditFields(),
    ],
  };
}

const OBJECT_LABELS: Record<SObjectName, [string, string]> = {
  Account: ['Account', 'Accounts'],
  Contact: ['Contact', 'Contacts'],
  Lead: ['Lead', 'Leads'],
  Opportunity: ['Opportunity', 'Opportunities'],
  Project__c: ['Project', 'Projects'],
};

export function objectDef(name: SObjectName, fields: readonly FieldDef[]): ObjectDef {
  const [label, labelPlural] = OBJECT_LABELS[name];
  return { name, label, labelPlural, keyPrefix: KEY_PREFIX[name], custom: name.endsWith('__c'), fields, byLowerName: new Map(fields.map((fd) => [fd.name.toLowerCase(), fd])) };
}

/** Fresh definitions of every object, for one emulator's schema (which tests may change at run time). */
export function baseObjectDefs(): Record<SObjectName, ObjectDef> {
  const fields = baseFields();
  return Object.fromEntries(SOBJECT_NAMES.map((name) => [name, objectDef(name, fields[name])])) as Record<SObjectName, ObjectDef>;
}

/** The seeded org's schema as it starts (an emulator's own may change at run time: OrgSchema). */
export const OBJECTS: Readonly<Record<SObjectName, ObjectDef>> = baseObjectDefs();

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
