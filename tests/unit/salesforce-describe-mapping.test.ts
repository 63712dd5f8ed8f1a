import { describe, expect, it } from 'vitest';
import { databricksDialect, duckdbDialect } from '../../connectors/warehouse/dialect';
import { SALESFORCE_FIELDS } from '../../mappings/salesforce-known-fields';
import { columnTypeOf, describeAnswerSchema, fieldKind, resolveFields, specColumns, type DescribeField, type SObjectDescribe } from '../../mappings/salesforce-describe';
import { columnName, recordSchema } from '../../mappings/salesforce-fields';
import { describeObject } from '../../sandbox/salesforce/describe';
import { OBJECTS, type SObjectName } from '../../sandbox/salesforce/schema';

/** The emulator's describe answer, as jsforce would return it (JSON round trip). */
const described = (object: SObjectName): SObjectDescribe => describeAnswerSchema.parse(JSON.parse(JSON.stringify(describeObject(OBJECTS[object], '62.0'))));

const field = (name: string, type: string, extra: Partial<DescribeField> = {}): DescribeField => ({ name, type, ...extra });
const synthetic = (fields: DescribeField[]): SObjectDescribe => ({
  name: 'Thing__c',
  fields: [field('Id', 'id'), ...fields, field('IsDeleted', 'boolean'), field('SystemModstamp', 'datetime')],
});

describe('describe types → SfKind and column types', () => {
  it('maps every documented scalar type to a kind and the same column type in DuckDB and Databricks', () => {
    const expected: [string, string, string, string][] = [
      // describe type, SfKind, DuckDB, Databricks
      ['id', 'id', 'VARCHAR', 'STRING'],
      ['reference', 'ref', 'VARCHAR', 'STRING'],
      ['string', 'text', 'VARCHAR', 'STRING'],
      ['textarea', 'text', 'VARCHAR', 'STRING'],
      ['email', 'text', 'VARCHAR', 'STRING'],
      ['phone', 'text', 'VARCHAR', 'STRING'],
      ['url', 'text', 'VARCHAR', 'STRING'],
      ['picklist', 'text', 'VARCHAR', 'STRING'],
      ['multipicklist', 'text', 'VARCHAR', 'STRING'],
      ['combobox', 'text', 'VARCHAR', 'STRING'],
      ['encryptedstring', 'text', 'VARCHAR', 'STRING'],
      ['boolean', 'bool', 'BOOLEAN', 'BOOLEAN'],
      ['int', 'int', 'BIGINT', 'BIGINT'],
      ['long', 'int', 'BIGINT', 'BIGINT'],
      ['double', 'double', 'DOUBLE', 'DOUBLE'],
      ['currency', 'double', 'DOUBLE', 'DOUBLE'],
      ['percent', 'double', 'DOUBLE', 'DOUBLE'],
      ['date', 'date', 'VARCHAR', 'STRING'],
      ['datetime', 'datetime', 'TIMESTAMP', 'TIMESTAMP'],
      ['time', 'time', 'VARCHAR', 'STRING'],
    ];
    const dbx = databricksDialect({ catalog: 'main' });
    for (const [type, kind, duck, databricks] of expected) {
      expect(fieldKind({ type }), type).toEqual({ kind });
      const column = columnTypeOf({ type })!;
      expect([type, duckdbDialect.type(column), dbx.type(column)]).toEqual([type, duck, databricks]);
    }
    // Older clients and some tools spell it dateTime: the same field.
    expect(fieldKind({ type: 'dateTime' })).toEqual({ kind: 'datetime' });
  });

  it('leaves out compounds, binary and untyped values, each with the reason', () => {
    for (const type of ['address', 'location', 'base64', 'anyType', 'complexvalue', 'json']) {
      const outcome = fieldKind({ type });
      expect('skip' in outcome && outcome.skip.length > 10, type).toBe(true);
      expect(columnTypeOf({ type })).toBeUndefined();
    }
    expect(fieldKind({ type: 'hologram' })).toEqual({ skip: 'type hologram is not supported yet' });
  });

  it('checks a time of day as Salesforce writes it, and refuses other text', () => {
    const schema = recordSchema([{ field: 'Id', kind: 'id' }, { field: 'Opens_At__c', kind: 'time' }]);
    const ok = schema.safeParse({ Id: '0015g000000000AAAA', SystemModstamp: '2025-01-01T00:00:00.000+0000', Opens_At__c: '08:30:00.000Z' });
    expect(ok.success && ok.data.Opens_At__c).toBe('08:30:00.000Z');
    expect(schema.safeParse({ Id: '0015g000000000AAAA', SystemModstamp: '2025-01-01T00:00:00.000+0000', Opens_At__c: 'half past eight' }).success).toBe(false);
  });
});

describe('resolveFields over the emulator describe', () => {
  it("today's field lists resolve to exactly today's specs (kinds, order, required)", () => {
    for (const object of ['Account', 'Contact', 'Lead', 'Opportunity'] as const) {
      const today = SALESFORCE_FIELDS[object];
      const resolved = resolveFields({ object, fields: today.map((s) => s.field) }, described(object));
      expect(resolved.unreadable, object).toEqual([]);
      expect(resolved.specs, object).toEqual(today.map((s) => ({ field: s.field, kind: s.kind, ...(s.required ? { required: true } : {}) })));
    }
  });

  it('all: every readable field, compounds flattened into their components, the compound itself not selected', () => {
    const resolved = resolveFields({ object: 'Account', fields: 'all' }, described('Account'));
    const names = resolved.specs.map((s) => s.field);
    expect(names[0]).toBe('Id');
    expect(names).toEqual(expect.arrayContaining(['BillingStreet', 'BillingCity', 'BillingPostalCode', 'BillingCountry', 'BillingLatitude', 'BillingLongitude', 'BillingGeocodeAccuracy']));
    expect(names).toEqual(expect.arrayContaining(['Site_Location__Latitude__s', 'Site_Location__Longitude__s', 'Novade_Customer_Id__c']));
    expect(names).not.toContain('BillingAddress');
    expect(names).not.toContain('Site_Location__c');
    expect(resolved.skipped.map((s) => s.field)).toEqual(['BillingAddress', 'Site_Location__c']);
    expect(resolved.specs.find((s) => s.field === 'BillingLatitude')).toEqual({ field: 'BillingLatitude', kind: 'double' });
    const columns = specColumns(resolved.specs);
    expect(columns.find((c) => c.field === 'Site_Location__Latitude__s')).toEqual({ field: 'Site_Location__Latitude__s', column: 'site_location_latitude', type: 'double' });
    expect(columns.find((c) => c.field === 'Novade_Customer_Id__c')).toEqual({ field: 'Novade_Customer_Id__c', column: 'novade_customer_id', type: 'varchar' });
    expect(resolved.specs.filter((s) => s.required).map((s) => s.field)).toEqual(['Id', 'SystemModstamp']);
  });

  it('flags formula fields: they change without SystemModstamp moving', () => {
    expect(resolveFields({ object: 'Contact', fields: 'all' }, described('Contact')).formulas).toEqual(['Full_Name__c', 'Account_Name__c']);
    expect(resolveFields({ object: 'Opportunity', fields: ['Id', 'Name'] }, described('Opportunity')).formulas).toEqual([]);
    expect(resolveFields({ object: 'Project__c', fields: 'all' }, described('Project__c')).formulas).toEqual(['Is_Active__c']);
  });

  it('a custom object: lookup, picklist, number, date and formula become typed specs', () => {
    const resolved = resolveFields({ object: 'Project__c', fields: 'all' }, described('Project__c'));
    const kinds = Object.fromEntries(resolved.specs.map((s) => [s.field, s.kind]));
    expect(kinds).toMatchObject({ Id: 'id', Name: 'text', Account__c: 'ref', Status__c: 'text', Contract_Value__c: 'double', Site_Count__c: 'double', Start_Date__c: 'date', Is_Active__c: 'bool', SystemModstamp: 'datetime' });
    expect(resolved.skipped).toEqual([]);
  });

  it('a list: names matched case-insensitively, a named compound stands for its parts, unknown names unreadable, key/cursor/IsDeleted always read', () => {
    const resolved = resolveFields({ object: 'Account', fields: ['name', 'BillingAddress', 'Secret_Margin__c', 'Site_Location__c'] }, described('Account'));
    expect(resolved.specs.map((s) => s.field)).toEqual([
      'Id',
      'Name',
      'BillingStreet',
      'BillingCity',
      'BillingState',
      'BillingPostalCode',
      'BillingCountry',
      'BillingLatitude',
      'BillingLongitude',
      'BillingGeocodeAccuracy',
      'Site_Location__Latitude__s',
      'Site_Location__Longitude__s',
      'SystemModstamp',
      'IsDeleted',
    ]);
    expect(resolved.unreadable).toEqual(['Secret_Margin__c']);
  });

  it('all_except: leaves the listed fields (and a listed compound with its parts) out', () => {
    const resolved = resolveFields({ object: 'Account', fields: { all_except: ['Description', 'BillingAddress'] } }, described('Account'));
    const names = resolved.specs.map((s) => s.field);
    expect(names).not.toContain('Description');
    expect(names.filter((n) => n.startsWith('Billing'))).toEqual([]);
    expect(names).toContain('Website');
    expect(resolved.skipped.map((s) => s.field)).toEqual(expect.arrayContaining(['Description', 'BillingCity', 'BillingAddress']));
  });

  it('a cursor other than SystemModstamp, deletes off, and a cursor field the org lacks', () => {
    const d = synthetic([field('Name', 'string'), field('LastModifiedDate', 'datetime')]);
    const noDeletes = resolveFields({ object: 'Thing__c', fields: ['Name'], cursor: 'LastModifiedDate', deletes: false }, d);
    expect(noDeletes.specs).toEqual([
      { field: 'Id', kind: 'id', required: true },
      { field: 'Name', kind: 'text' },
      { field: 'LastModifiedDate', kind: 'datetime', required: true },
    ]);
    expect(resolveFields({ object: 'Thing__c', fields: ['Name'], cursor: 'Modified_At__c' }, d).unreadable).toEqual(['Modified_At__c']);
  });

  it('two fields that would share a column: the second is skipped with a reason, not silently merged', () => {
    const d = synthetic([field('Region', 'string'), field('Region__c', 'picklist')]);
    const resolved = resolveFields({ object: 'Thing__c', fields: 'all' }, d);
    expect(resolved.specs.map((s) => s.field)).toContain('Region');
    expect(resolved.specs.map((s) => s.field)).not.toContain('Region__c');
    expect(resolved.skipped[0]).toMatchObject({ field: 'Region__c' });
    expect(resolved.skipped[0].reason).toContain(`column ${columnName('Region')} is already Region's`);
  });
});
