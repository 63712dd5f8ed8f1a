import type { SfFieldSpec, SfKind } from './salesforce-fields';

/**
 * The types of the Salesforce fields Novade has always synced, so that the default streams file
 * works without a describe call; any other field takes its type from describe.
 */

const audit = (): SfFieldSpec[] => [
  { field: 'OwnerId', kind: 'ref' },
  { field: 'IsDeleted', kind: 'bool' },
  { field: 'CreatedDate', kind: 'datetime' },
  { field: 'LastModifiedDate', kind: 'datetime' },
  { field: 'SystemModstamp', kind: 'datetime', required: true },
];

// Formula fields that depend on the clock (Days_Open__c) are left out: they change without a
// SystemModstamp bump, so silver could never be right about them. Account_Name__c (cross-object)
// is kept because the identify needs the company name; it is as fresh as the Contact's last change.
export const SALESFORCE_FIELDS: Record<'Account' | 'Contact' | 'Lead' | 'Opportunity', readonly SfFieldSpec[]> = {
  Account: [
    { field: 'Id', kind: 'id', required: true },
    { field: 'Name', kind: 'text' },
    { field: 'Type', kind: 'text' },
    { field: 'Industry', kind: 'text' },
    { field: 'BillingCountry', kind: 'text' },
    { field: 'Website', kind: 'text' },
    { field: 'NumberOfEmployees', kind: 'int' },
    { field: 'AnnualRevenue', kind: 'double' },
    { field: 'Description', kind: 'text' },
    ...audit(),
  ],
  Contact: [
    { field: 'Id', kind: 'id', required: true },
    { field: 'AccountId', kind: 'ref' },
    { field: 'FirstName', kind: 'text' },
    { field: 'LastName', kind: 'text' },
    { field: 'Name', kind: 'text' },
    { field: 'Email', kind: 'text' },
    { field: 'Title', kind: 'text' },
    { field: 'Phone', kind: 'text' },
    { field: 'MailingCountry', kind: 'text' },
    { field: 'LeadSource', kind: 'text' },
    { field: 'HasOptedOutOfEmail', kind: 'bool' },
    { field: 'Description', kind: 'text' },
    { field: 'Account_Name__c', kind: 'text' },
    ...audit(),
  ],
  Lead: [
    { field: 'Id', kind: 'id', required: true },
    { field: 'FirstName', kind: 'text' },
    { field: 'LastName', kind: 'text' },
    { field: 'Name', kind: 'text' },
    { field: 'Email', kind: 'text' },
    { field: 'Title', kind: 'text' },
    { field: 'Phone', kind: 'text' },
    { field: 'Company', kind: 'text' },
    { field: 'Country', kind: 'text' },
    { field: 'Status', kind: 'text' },
    { field: 'LeadSource', kind: 'text' },
    { field: 'Rating', kind: 'text' },
    { field: 'IsConverted', kind: 'bool' },
    { field: 'ConvertedDate', kind: 'date' },
    { field: 'ConvertedContactId', kind: 'ref' },
    { field: 'ConvertedAccountId', kind: 'ref' },
    { field: 'ConvertedOpportunityId', kind: 'ref' },
    ...audit(),
  ],
  Opportunity: [
    { field: 'Id', kind: 'id', required: true },
    { field: 'AccountId', kind: 'ref' },
    { field: 'Name', kind: 'text' },
    { field: 'StageName', kind: 'text' },
    { field: 'Amount', kind: 'double' },
    { field: 'CloseDate', kind: 'date' },
    { field: 'Probability', kind: 'double' },
    { field: 'ForecastCategoryName', kind: 'text' },
    { field: 'IsClosed', kind: 'bool' },
    { field: 'IsWon', kind: 'bool' },
    { field: 'Type', kind: 'text' },
    { field: 'LeadSource', kind: 'text' },
    { field: 'NextStep', kind: 'text' },
    { field: 'Description', kind: 'text' },
    ...audit(),
  ],
};

/** Fields every Salesforce object has. */
const COMMON: Record<string, SfKind> = {
  Id: 'id',
  Name: 'text',
  OwnerId: 'ref',
  IsDeleted: 'bool',
  CreatedDate: 'datetime',
  CreatedById: 'ref',
  LastModifiedDate: 'datetime',
  LastModifiedById: 'ref',
  SystemModstamp: 'datetime',
};

const known = new Map<string, ReadonlyMap<string, SfKind>>();

/** Kinds of the fields known for an object without describe (the common ones for any object). */
export function knownFieldKinds(object: string): ReadonlyMap<string, SfKind> {
  let kinds = known.get(object);
  if (!kinds) {
    const specs = (SALESFORCE_FIELDS as Record<string, readonly SfFieldSpec[] | undefined>)[object] ?? [];
    kinds = new Map<string, SfKind>([...Object.entries(COMMON), ...specs.map((s): [string, SfKind] => [s.field, s.kind])]);
    known.set(object, kinds);
  }
  return kinds;
}
