import type { Row } from '../connectors/warehouse/types';
import type { MappedEvents, MappingContext } from './types';
import type { AmplitudeEvent, IdentifyCall } from './amplitude-types';
import { AMPLITUDE_MAX_STRING, isEmailField, normalizeEmail, resolveUserId } from './identity';
import { columnName, epochMs, type SfFieldSpec, type SfRecord, type SfValue } from './salesforce-fields';

/**
 * Salesforce records → Amplitude calls, as pure functions of (record, previous silver row).
 *
 * - Contact and Lead: a `$identify` setting the person's properties whenever they changed, plus
 *   `Contact Created` / `Lead Created` the first time a record is seen and `Lead Converted` when a
 *   lead turns converted. user_id comes from the configured field (mappings/identity.ts).
 * - Opportunity: `Opportunity Created`, `Opportunity Stage Changed` (from/to, found by comparing
 *   with the silver row), `Opportunity Won`, `Opportunity Lost`. An opportunity has no person of
 *   its own and the record names no contact, so its events go to one device per account
 *   (`sf-account:<AccountId>`, or `sf-opportunity:<Id>` when it has no account) and carry the
 *   account as an Amplitude group. A device id, not a user id, so that an account never merges
 *   with a real person's profile; the cost is one extra tracked "user" per account with deals.
 * - Account: warehouse only.
 * - Deleted records (queryAll's IsDeleted) send nothing: silver keeps them as soft deletes.
 *
 * Event time is the Salesforce time of the change: CreatedDate for "Created", SystemModstamp for a
 * change seen between two versions; for a state first seen already reached (an initial sync of a
 * converted lead or a closed deal), the record's own date for it (ConvertedDate, CloseDate) kept
 * within [CreatedDate, SystemModstamp]. Every event has a deterministic insert_id: once-only facts
 * (`sf:Lead:<Id>:created`) have none of the version in it, repeatable ones
 * (`sf:Opportunity:<Id>:<SystemModstamp>:stage`) do, so a retry or a re-read is deduplicated.
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

/** The object's specs plus the configured user-id field when it is not already selected. */
export function fieldsWithUserId(specs: readonly SfFieldSpec[], userIdField: string): SfFieldSpec[] {
  return specs.some((s) => s.field.toLowerCase() === userIdField.toLowerCase()) ? [...specs] : [...specs, { field: userIdField, kind: 'text' }];
}

type Props = Record<string, string | number | boolean | null>;

const str = (v: unknown): string | null => {
  if (v === null || v === undefined || v === '') return null;
  const s = typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : String(v);
  return s.length > AMPLITUDE_MAX_STRING ? s.slice(0, AMPLITUDE_MAX_STRING) : s;
};
const num = (v: unknown): number | null => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : null);
const isTrue = (v: unknown) => v === true || v === 'true';

/** Drops nulls: Amplitude property values must not be null. */
function compact(props: Props): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(props)) if (v !== null) out[k] = v;
  return out;
}

/** Person properties of a Contact silver row (a row, so the previous version compares the same way). */
function contactProps(row: Row): Props {
  return {
    name: str(row.name),
    first_name: str(row.first_name),
    last_name: str(row.last_name),
    title: str(row.title),
    company: str(row.account_name),
    country: str(row.mailing_country),
    lead_source: str(row.lead_source),
    salesforce_account_id: str(row.account_id),
    salesforce_owner_id: str(row.owner_id),
    salesforce_contact_id: str(row.id),
  };
}

function leadProps(row: Row): Props {
  return {
    name: str(row.name),
    first_name: str(row.first_name),
    last_name: str(row.last_name),
    title: str(row.title),
    company: str(row.company),
    country: str(row.country),
    lead_source: str(row.lead_source),
    lead_status: str(row.status),
    lead_rating: str(row.rating),
    salesforce_owner_id: str(row.owner_id),
    salesforce_lead_id: str(row.id),
  };
}

const sameProps = (a: Props, b: Props) => Object.keys(a).every((k) => a[k] === b[k]);

/**
 * The `$identify` of a person whose properties (or user id) changed. Nulls unset a property that
 * had a value; operations only, since Amplitude ignores plain keys mixed with operations.
 */
function identifyIfChanged(object: string, record: SfRecord, userId: string, props: Props, previousProps: Props | undefined, userIdChanged: boolean): IdentifyCall | undefined {
  if (previousProps && !userIdChanged && sameProps(props, previousProps)) return undefined;
  const $set = compact(props);
  const unset = previousProps && !userIdChanged ? Object.keys(props).filter((k) => props[k] === null && previousProps[k] !== null) : [];
  return {
    user_id: userId,
    insert_id: `sf:${object}:${record.Id}:${record.SystemModstamp}:identify`,
    time: epochMs(record.SystemModstamp) as number,
    user_properties: unset.length > 0 ? { $set, $unset: Object.fromEntries(unset.map((k) => [k, '-'])) } : { $set },
  };
}

/** The previous version's user id value, when silver holds the configured field. */
function previousUserValue(previous: Row | undefined, field: string): string | null {
  if (!previous) return null;
  const v = previous[columnName(field)];
  if (typeof v !== 'string') return null;
  return isEmailField(field) ? normalizeEmail(v) : v.trim();
}

/** For "reached" states first seen late: the record's own date, kept within its lifetime. */
function clampedTime(day: unknown, record: SfRecord): number {
  const stamp = epochMs(record.SystemModstamp) as number;
  const created = epochMs(record.CreatedDate) ?? stamp;
  const at = typeof day === 'string' ? Date.parse(`${day}T00:00:00Z`) : NaN;
  if (Number.isNaN(at)) return stamp;
  return Math.min(stamp, Math.max(created, at));
}

interface PersonMapping {
  object: 'Contact' | 'Lead';
  props: (row: Row) => Props;
  lifecycle: (record: SfRecord, row: Row, previous: Row | undefined, subject: { user_id: string }) => AmplitudeEvent[];
}

function personEvents(m: PersonMapping, record: SfRecord, row: Row, previous: Row | undefined, ctx: MappingContext): MappedEvents {
  if (record.IsDeleted === true) return { events: [] };
  const id = resolveUserId(record[ctx.userIdField], { field: ctx.userIdField, minIdLength: ctx.minIdLength });
  const props = m.props(row);
  const previousProps = previous ? m.props(previous) : undefined;
  if (!id.ok) {
    // Only worth a dead letter when there was something to say about this person.
    const wouldSend = !previousProps || !sameProps(props, previousProps) || m.lifecycle(record, row, previous, { user_id: 'placeholder' }).length > 0;
    return wouldSend ? { events: [], unsendable: `${m.object} ${record.Id} not sent to Amplitude: ${id.reason}` } : { events: [] };
  }
  const previousId = previousUserValue(previous, ctx.userIdField);
  const identify = identifyIfChanged(m.object, record, id.userId, props, previousProps, previous !== undefined && previousId !== null && previousId !== id.userId);
  return { identify, events: m.lifecycle(record, row, previous, { user_id: id.userId }) };
}

const CONTACT: PersonMapping = {
  object: 'Contact',
  props: contactProps,
  lifecycle: (record, row, previous, subject) =>
    previous
      ? []
      : [
          {
            event_type: 'Contact Created',
            ...subject,
            time: epochMs(record.CreatedDate) ?? (epochMs(record.SystemModstamp) as number),
            insert_id: `sf:Contact:${record.Id}:created`,
            event_properties: compact({
              salesforce_contact_id: record.Id,
              salesforce_account_id: str(row.account_id),
              company: str(row.account_name),
              title: str(row.title),
              lead_source: str(row.lead_source),
            }),
          },
        ],
};

const LEAD: PersonMapping = {
  object: 'Lead',
  props: leadProps,
  lifecycle: (record, row, previous, subject) => {
    const events: AmplitudeEvent[] = [];
    if (!previous)
      events.push({
        event_type: 'Lead Created',
        ...subject,
        time: epochMs(record.CreatedDate) ?? (epochMs(record.SystemModstamp) as number),
        insert_id: `sf:Lead:${record.Id}:created`,
        event_properties: compact({
          salesforce_lead_id: record.Id,
          company: str(row.company),
          lead_status: str(row.status),
          lead_source: str(row.lead_source),
          lead_rating: str(row.rating),
        }),
      });
    if (isTrue(record.IsConverted) && !isTrue(previous?.is_converted))
      events.push({
        event_type: 'Lead Converted',
        ...subject,
        time: previous ? (epochMs(record.SystemModstamp) as number) : clampedTime(record.ConvertedDate, record),
        insert_id: `sf:Lead:${record.Id}:converted`,
        event_properties: compact({
          salesforce_lead_id: record.Id,
          company: str(row.company),
          salesforce_contact_id: str(row.converted_contact_id),
          salesforce_account_id: str(row.converted_account_id),
          salesforce_opportunity_id: str(row.converted_opportunity_id),
        }),
      });
    return events;
  },
};

export function contactEvents(record: SfRecord, row: Row, previous: Row | undefined, ctx: MappingContext): MappedEvents {
  return personEvents(CONTACT, record, row, previous, ctx);
}

export function leadEvents(record: SfRecord, row: Row, previous: Row | undefined, ctx: MappingContext): MappedEvents {
  return personEvents(LEAD, record, row, previous, ctx);
}

/** The device an opportunity's events are attributed to (see the header). */
export function opportunityDeviceId(record: Pick<SfRecord, 'Id'> & { AccountId?: SfValue }): string {
  return typeof record.AccountId === 'string' && record.AccountId !== '' ? `sf-account:${record.AccountId}` : `sf-opportunity:${record.Id}`;
}

export function opportunityEvents(record: SfRecord, row: Row, previous: Row | undefined): MappedEvents {
  if (record.IsDeleted === true) return { events: [] };
  const stamp = epochMs(record.SystemModstamp) as number;
  const subject: Pick<AmplitudeEvent, 'device_id' | 'groups'> = {
    device_id: opportunityDeviceId(record),
    ...(typeof record.AccountId === 'string' ? { groups: { salesforce_account: record.AccountId } } : {}),
  };
  const base = compact({
    salesforce_opportunity_id: record.Id,
    salesforce_account_id: str(row.account_id),
    opportunity_name: str(row.name),
    stage: str(row.stage_name),
    amount: num(row.amount),
    probability: num(row.probability),
    close_date: str(row.close_date),
    type: str(row.type),
    lead_source: str(row.lead_source),
    forecast_category: str(row.forecast_category_name),
    salesforce_owner_id: str(row.owner_id),
  });
  const events: AmplitudeEvent[] = [];
  if (!previous)
    events.push({ event_type: 'Opportunity Created', ...subject, time: epochMs(record.CreatedDate) ?? stamp, insert_id: `sf:Opportunity:${record.Id}:created`, event_properties: base });

  const fromStage = previous ? str(previous.stage_name) : null;
  const toStage = str(row.stage_name);
  if (previous && fromStage !== toStage)
    events.push({
      event_type: 'Opportunity Stage Changed',
      ...subject,
      time: stamp,
      insert_id: `sf:Opportunity:${record.Id}:${record.SystemModstamp}:stage`,
      event_properties: compact({ ...base, from_stage: fromStage, to_stage: toStage }),
    });

  const won = isTrue(record.IsWon);
  const lost = isTrue(record.IsClosed) && !won;
  const wasWon = isTrue(previous?.is_won);
  const wasLost = isTrue(previous?.is_closed) && !wasWon;
  const closeTime = previous ? stamp : clampedTime(record.CloseDate, record);
  if (won && !wasWon)
    events.push({ event_type: 'Opportunity Won', ...subject, time: closeTime, insert_id: `sf:Opportunity:${record.Id}:${record.SystemModstamp}:won`, event_properties: base });
  if (lost && !wasLost)
    events.push({ event_type: 'Opportunity Lost', ...subject, time: closeTime, insert_id: `sf:Opportunity:${record.Id}:${record.SystemModstamp}:lost`, event_properties: base });
  return { events };
}
