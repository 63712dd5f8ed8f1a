import { contactEvents, fieldsWithUserId, leadEvents, opportunityEvents, SALESFORCE_FIELDS } from '../mappings/salesforce';
import { columnName, recordSchema, silverColumns, toSilverRow, type SfFieldSpec, type SfRecord } from '../mappings/salesforce-fields';
import type { Row } from '../connectors/warehouse/types';
import type { MappedEvents, MappingContext } from '../mappings/types';
import type { StreamDeclaration } from './types';

/**
 * The four Salesforce streams. Each is keyed on Id and ordered by (SystemModstamp, Id); silver's
 * version column is system_modstamp, so an older version never overwrites a newer one.
 */


export interface SalesforceStreamOptions {
  /** Field whose value becomes Amplitude's user_id for Contacts and Leads (config: SALESFORCE_USER_ID_FIELD). */
  userIdField: string;
}

/** A Salesforce stream over any object (standard or custom) and field list. */
export function salesforceDeclaration(
  object: string,
  specs: readonly SfFieldSpec[],
  events: (record: SfRecord, row: Row, previous: Row | undefined, ctx: MappingContext) => MappedEvents,
  name = `salesforce_${object.replace(/__c$/i, '').toLowerCase()}`,
): StreamDeclaration<SfRecord> {
  // The pipeline asks for a record's row, then for its events: build the row once.
  const rows = new WeakMap<SfRecord, Row>();
  const toRow = (record: SfRecord) => {
    let row = rows.get(record);
    if (!row) {
      row = toSilverRow(specs, record);
      rows.set(record, row);
    }
    return row;
  };
  return {
    name,
    source: 'salesforce',
    object,
    primaryKey: 'Id',
    cursorField: 'SystemModstamp',
    fields: specs.map((s) => s.field),
    schema: recordSchema(specs),
    bronze: { name, keyColumns: [{ name: 'id', type: 'varchar' }] },
    silver: { name, columns: silverColumns(specs), primaryKey: ['id'], versionColumn: columnName('SystemModstamp') },
    toRow,
    isDeleted: (record) => record.IsDeleted === true,
    toEvents: (record, previous, ctx) => events(record, toRow(record), previous, ctx),
  };
}

export function salesforceDeclarations(opts: SalesforceStreamOptions): StreamDeclaration<SfRecord>[] {
  return [
    salesforceDeclaration('Account', SALESFORCE_FIELDS.Account, () => ({ events: [] })),
    salesforceDeclaration('Contact', fieldsWithUserId(SALESFORCE_FIELDS.Contact, opts.userIdField), contactEvents),
    salesforceDeclaration('Lead', fieldsWithUserId(SALESFORCE_FIELDS.Lead, opts.userIdField), leadEvents),
    salesforceDeclaration('Opportunity', SALESFORCE_FIELDS.Opportunity, (record, row, previous) => opportunityEvents(record, row, previous)),
  ];
}
