import { describe, expect, it } from 'vitest';
import type { SchemaChangeRecord, StreamSchema, Warehouse } from '../../connectors/warehouse/types';
import { PermanentError } from '../../lib/errors';
import type { SObjectDescribe } from '../../mappings/salesforce-describe';
import type { SfFieldSpec } from '../../mappings/salesforce-fields';
import { SALESFORCE_FIELDS } from '../../mappings/salesforce-known-fields';
import { knownField } from '../../streams/schema-evolution';
import { retypeSuspects, stopOnListedRetype } from '../../streams/listed-retype';
import type { ListedSchemaStream } from '../../streams/listed-schema-sync';

const specs: readonly SfFieldSpec[] = SALESFORCE_FIELDS.Account;
const TYPES: Record<string, string> = { id: 'id', ref: 'reference', text: 'string', bool: 'boolean', double: 'currency', int: 'int', datetime: 'datetime', date: 'date' };
const describeOf = (retyped: Record<string, string> = {}): SObjectDescribe => ({ name: 'Account', fields: specs.map((s) => ({ name: s.field, type: retyped[s.field] ?? TYPES[s.kind] })) });

/** The two warehouse calls the check makes, kept in memory. */
function fakeWarehouse(stored?: StreamSchema) {
  const recorded: SchemaChangeRecord[] = [];
  const warehouse = {
    getStreamSchema: async () => stored,
    recordSchemaChanges: async (changes: SchemaChangeRecord[]) => recorded.push(...changes),
  } as Partial<Warehouse> as Warehouse;
  return { warehouse, recorded };
}

const stream: ListedSchemaStream = {
  stream: 'salesforce_account',
  object: 'Account',
  cursor: 'SystemModstamp',
  specs,
  bronze: { name: 'salesforce_account', keyColumns: [{ name: 'id', type: 'varchar' }] },
  silver: () => ({ name: 'salesforce_account', columns: [], primaryKey: ['id'], versionColumn: 'system_modstamp' }),
};
const now = () => new Date('2026-01-01T00:00:00Z');

describe('retypeSuspects', () => {
  it('names fields whose value failed its check; never the key, the cursor, a missing value or a field not read', () => {
    const suspects = retypeSuspects(
      [
        { key: 'a', issues: [{ field: 'NumberOfEmployees', message: 'not a whole number' }, { field: 'SystemModstamp', message: 'not a Salesforce datetime: "x"' }] },
        { key: 'b', issues: [{ field: 'Id', message: 'not a Salesforce id' }, { field: 'Website', message: 'required' }, { field: 'Foo__c', message: 'expected text' }] },
        { key: 'c', issues: [{ field: 'NumberOfEmployees', message: 'not a whole number' }, { field: 'AnnualRevenue', message: 'not a number' }] },
      ],
      specs,
      'SystemModstamp',
    );
    expect(suspects).toEqual(['NumberOfEmployees', 'AnnualRevenue']);
  });
});

describe('stopOnListedRetype', () => {
  it('a field whose column type moved stops the stream with SchemaChange, one change row, and the way on for a default-file object', async () => {
    const { warehouse, recorded } = fakeWarehouse();
    const describes: string[] = [];
    const err = await stopOnListedRetype({ warehouse, describe: async (o) => (describes.push(o), describeOf({ NumberOfEmployees: 'string' })), now }, stream, specs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).kind).toBe('SchemaChange');
    expect((err as Error).message).toMatch(/^Schema change stops salesforce_account: Account\.NumberOfEmployees changed type in Salesforce: it was int \(silver column number_of_employees bigint\), it is now text \(varchar\)/);
    expect((err as Error).message).toMatch(/remove NumberOfEmployees from Account's `fields` in config\/streams\.yaml/);
    expect(describes).toEqual(['Account']);
    expect(recorded.map((c) => [c.stream, c.object, c.change, c.field, c.column, c.fromType, c.toType, c.action])).toEqual([
      ['salesforce_account', 'Account', 'type_changed', 'NumberOfEmployees', 'number_of_employees', 'int/bigint', 'text/varchar', 'stream_stopped'],
    ]);
  });

  it('the same stop twice has the same change id (recorded once); a remembered schema version gives another', async () => {
    const a = fakeWarehouse();
    const b = fakeWarehouse();
    const c = fakeWarehouse({ stream: 'salesforce_account', version: 2, fields: specs.map(knownField), updatedAt: now() });
    const d = { describe: async () => describeOf({ NumberOfEmployees: 'string' }), now };
    for (const w of [a, b]) await stopOnListedRetype({ ...d, warehouse: w.warehouse }, stream, specs).catch(() => undefined);
    expect(a.recorded[0].id).toBe(b.recorded[0].id);
    await stopOnListedRetype({ ...d, warehouse: c.warehouse }, stream, specs).catch(() => undefined);
    expect(c.recorded.map((r) => r.field)).toEqual(['NumberOfEmployees']);
    expect(c.recorded[0].id).not.toBe(a.recorded[0].id);
  });

  it('no type change, or one that keeps the column type: nothing recorded, the stream goes on', async () => {
    const same = fakeWarehouse();
    expect(await stopOnListedRetype({ warehouse: same.warehouse, describe: async () => describeOf(), now }, stream, specs)).toEqual([]);
    expect(same.recorded).toEqual([]);
    // A date field retyped to text: both stored as varchar.
    const lead = SALESFORCE_FIELDS.Lead;
    const compatible = fakeWarehouse();
    const leadDescribe: SObjectDescribe = { name: 'Lead', fields: lead.map((s) => ({ name: s.field, type: s.field === 'ConvertedDate' ? 'string' : TYPES[s.kind] })) };
    const changes = await stopOnListedRetype({ warehouse: compatible.warehouse, describe: async () => leadDescribe, now }, { ...stream, stream: 'salesforce_lead', object: 'Lead', specs: lead }, lead);
    expect(changes.map((c) => [c.field, c.fromType, c.toType, c.action])).toEqual([['ConvertedDate', 'date/varchar', 'text/varchar', 'compatible']]);
    expect(compatible.recorded).toEqual([]);
  });

  it('a field describe no longer returns is not taken for a type change', async () => {
    const { warehouse, recorded } = fakeWarehouse();
    const hidden = describeOf();
    hidden.fields = hidden.fields.filter((f) => f.name !== 'NumberOfEmployees');
    expect(await stopOnListedRetype({ warehouse, describe: async () => hidden, now }, stream, specs)).toEqual([]);
    expect(recorded).toEqual([]);
  });
});
