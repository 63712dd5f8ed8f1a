import { describe, expect, it } from 'vitest';
import { SalesforceApiError } from '../../sandbox/salesforce/errors';
import { sfId } from '../../sandbox/salesforce/ids';
import type { FormulaContext, StoredRecord } from '../../sandbox/salesforce/schema';
import { parseSoql } from '../../sandbox/salesforce/soql/parser';
import { planSoql } from '../../sandbox/salesforce/soql/plan';
import { parseSfDateTime } from '../../sandbox/salesforce/time';

const ctx: FormulaContext = { now: Date.UTC(2025, 0, 1), record: () => undefined };
const ts = (iso: string) => Date.parse(iso);

function contact(n: number, fields: Record<string, string | number | boolean | null>): StoredRecord {
  return { Id: sfId('003', n), FirstName: null, LastName: 'X', Email: null, Title: null, IsDeleted: false, SystemModstamp: ts('2024-01-01T00:00:00Z'), ...fields };
}

function soqlError(soql: string): SalesforceApiError {
  try {
    planSoql(soql);
  } catch (err) {
    if (err instanceof SalesforceApiError) return err;
    throw err;
  }
  throw new Error(`no error for ${soql}`);
}

function select(soql: string, records: StoredRecord[]): string[] {
  const plan = planSoql(soql);
  const rows = records.filter((r) => plan.matches(r, ctx));
  const compare = plan.compare;
  if (compare) rows.sort((a, b) => compare(a, b, ctx));
  return rows.slice(plan.offset, plan.limit === undefined ? undefined : plan.offset + plan.limit).map((r) => r.Id as string);
}

describe('SOQL parser', () => {
  it('parses SELECT fields FROM object WHERE (AND/OR with parentheses) ORDER BY ... LIMIT / OFFSET', () => {
    const q = parseSoql("select Id, Email FROM Contact WHERE (SystemModstamp > 2024-01-01T00:00:00Z) OR (SystemModstamp = 2024-01-01T00:00:00Z AND Id > '003000000000001AAA') ORDER BY SystemModstamp ASC, Id DESC NULLS FIRST LIMIT 2000 OFFSET 10");
    expect(q.select).toEqual({ kind: 'fields', fields: [{ path: ['Id'], pos: 7 }, { path: ['Email'], pos: 11 }] });
    expect(q.from.name).toBe('Contact');
    expect(q.where?.type).toBe('or');
    expect(q.where?.type === 'or' && q.where.items[1].type).toBe('and');
    expect(q.orderBy.map((o) => [o.field.path[0], o.descending, o.nullsFirst])).toEqual([
      ['SystemModstamp', false, true],
      ['Id', true, true],
    ]);
    expect(q.limit).toBe(2000);
    expect(q.offset).toBe(10);
  });

  it('reads datetime literals in the Z, .000+0000 and ±hh:mm forms as the same instant', () => {
    const forms = ['2024-01-01T08:00:00Z', '2024-01-01T08:00:00.000+0000', '2024-01-01T16:00:00+08:00', '2024-01-01T08:00:00.000Z'];
    const values = forms.map((f) => {
      const q = parseSoql(`SELECT Id FROM Contact WHERE SystemModstamp > ${f}`);
      return q.where?.type === 'compare' && q.where.value.kind === 'datetime' ? q.where.value.value : undefined;
    });
    expect(new Set(values)).toEqual(new Set([Date.UTC(2024, 0, 1, 8)]));
    expect(parseSfDateTime('2024-02-30T00:00:00Z')).toBeUndefined();
  });

  it('parses SELECT COUNT() FROM object WHERE ...', () => {
    expect(parseSoql("SELECT COUNT() FROM Lead WHERE IsConverted = true AND Email != null").select).toEqual({ kind: 'count', pos: 7 });
  });

  it('answers MALFORMED_QUERY with Salesforce row/column message for syntax errors', () => {
    const err = soqlError('SELECT Id FORM Contact');
    expect(err.status).toBe(400);
    expect(err.errorCode).toBe('MALFORMED_QUERY');
    expect(err.message).toBe('\nSELECT Id FORM Contact\n          ^\nERROR at Row:1:Column:11\nunexpected token: FORM');
    expect(soqlError("SELECT Id FROM Contact WHERE Email = 'unterminated").errorCode).toBe('MALFORMED_QUERY');
    expect(soqlError('SELECT FROM Contact').errorCode).toBe('MALFORMED_QUERY');
    expect(soqlError('SELECT Id FROM Contact LIMIT x').errorCode).toBe('MALFORMED_QUERY');
  });

  it('refuses AND and OR mixed without parentheses, as SOQL does', () => {
    expect(soqlError("SELECT Id FROM Contact WHERE Email = 'a' AND Title = 'b' OR LastName = 'c'").errorCode).toBe('MALFORMED_QUERY');
    expect(() => planSoql("SELECT Id FROM Contact WHERE Email = 'a' AND (Title = 'b' OR LastName = 'c')")).not.toThrow();
  });
});

describe('SOQL binding to the schema', () => {
  it('answers INVALID_FIELD for an unknown field, in Salesforce words', () => {
    const err = soqlError('SELECT Id, Foo__c FROM Contact');
    expect(err.errorCode).toBe('INVALID_FIELD');
    expect(err.message).toContain("No such column 'Foo__c' on entity 'Contact'");
    expect(err.message).toContain('ERROR at Row:1:Column:12');
    expect(soqlError("SELECT Id FROM Contact WHERE Nope = 'x'").errorCode).toBe('INVALID_FIELD');
    expect(soqlError('SELECT Id FROM Contact ORDER BY Nope').errorCode).toBe('INVALID_FIELD');
    expect(soqlError('SELECT Account.Name FROM Contact').message).toContain("Didn't understand relationship 'Account'");
  });

  it('answers INVALID_TYPE for an unknown object', () => {
    const err = soqlError('SELECT Id FROM Widget__c');
    expect(err.errorCode).toBe('INVALID_TYPE');
    expect(err.message).toContain("sObject type 'Widget__c' is not supported");
  });

  it('answers INVALID_FIELD when a datetime is quoted or a string is not', () => {
    const quoted = soqlError("SELECT Id FROM Contact WHERE SystemModstamp > '2024-01-01T00:00:00Z'");
    expect(quoted.errorCode).toBe('INVALID_FIELD');
    expect(quoted.message).toContain("value of filter criterion for field 'SystemModstamp' must be of type dateTime and should not be enclosed in quotes");
    expect(soqlError('SELECT Id FROM Contact WHERE Email = 5').message).toContain('should be enclosed in quotes');
    expect(soqlError('SELECT Id FROM Opportunity WHERE CloseDate > 2024-01-01T00:00:00Z').message).toContain('must be of type date');
    expect(soqlError("SELECT Id FROM Contact WHERE Id = 'abc'").errorCode).toBe('INVALID_QUERY_FILTER_OPERATOR');
  });

  it('refuses filtering and sorting on long text areas', () => {
    expect(soqlError('SELECT Id FROM Contact WHERE Description != null').message).toContain("field 'Description' can not be filtered");
    expect(soqlError('SELECT Id FROM Contact ORDER BY Description').message).toContain("field 'Description' can not be sorted");
  });

  it('resolves field and object names case-insensitively to their API names', () => {
    const plan = planSoql('select id, EMAIL, systemmodstamp from contact');
    expect(plan.object.name).toBe('Contact');
    expect(plan.fields.map((f) => f.name)).toEqual(['Id', 'Email', 'SystemModstamp']);
  });
});

describe('SOQL evaluation', () => {
  const t0 = '2024-01-01T00:00:00Z';
  const records = [
    contact(1, { Email: 'A@Example.com', SystemModstamp: ts(t0) }),
    contact(2, { Email: null, SystemModstamp: ts(t0) }),
    contact(3, { Email: 'b@example.com', SystemModstamp: ts(t0) }),
    contact(4, { Email: 'c@example.com', SystemModstamp: ts('2024-01-02T00:00:00Z') }),
    contact(5, { Email: 'a@example.com', SystemModstamp: ts('2023-12-31T00:00:00Z'), Title: 'CEO' }),
  ];

  it('compares text case-insensitively, and != keeps null fields', () => {
    expect(select("SELECT Id FROM Contact WHERE Email = 'a@example.COM'", records)).toEqual([sfId('003', 1), sfId('003', 5)]);
    expect(select("SELECT Id FROM Contact WHERE Email != 'a@example.com'", records)).toEqual([sfId('003', 2), sfId('003', 3), sfId('003', 4)]);
    expect(select('SELECT Id FROM Contact WHERE Email = null', records)).toEqual([sfId('003', 2)]);
    expect(select("SELECT Id FROM Contact WHERE Title != null", records)).toEqual([sfId('003', 5)]);
  });

  it('supports IN, NOT IN, LIKE and NOT', () => {
    expect(select("SELECT Id FROM Contact WHERE Email IN ('b@example.com', 'C@example.com')", records)).toEqual([sfId('003', 3), sfId('003', 4)]);
    expect(select("SELECT Id FROM Contact WHERE Email NOT IN ('b@example.com')", records)).toHaveLength(4);
    expect(select("SELECT Id FROM Contact WHERE Email LIKE 'a%'", records)).toEqual([sfId('003', 1), sfId('003', 5)]);
    expect(select("SELECT Id FROM Contact WHERE NOT Email LIKE 'a%'", records)).toEqual([sfId('003', 2), sfId('003', 3), sfId('003', 4)]);
  });

  it('orders by several fields with nulls first ascending and last descending, then LIMIT / OFFSET', () => {
    expect(select('SELECT Id FROM Contact ORDER BY SystemModstamp, Id', records)).toEqual([5, 1, 2, 3, 4].map((n) => sfId('003', n)));
    expect(select('SELECT Id FROM Contact ORDER BY Email', records)[0]).toBe(sfId('003', 2));
    expect(select('SELECT Id FROM Contact ORDER BY Email DESC', records).at(-1)).toBe(sfId('003', 2));
    expect(select('SELECT Id FROM Contact ORDER BY SystemModstamp DESC, Id DESC LIMIT 2 OFFSET 1', records)).toEqual([sfId('003', 3), sfId('003', 2)]);
  });

  it('keyset condition (ts > T) OR (ts = T AND Id > I) resumes exactly after the last record seen', () => {
    const soql = `SELECT Id FROM Contact WHERE (SystemModstamp > ${t0}) OR (SystemModstamp = ${t0} AND Id > '${sfId('003', 2)}') ORDER BY SystemModstamp, Id`;
    expect(select(soql, records)).toEqual([sfId('003', 3), sfId('003', 4)]);
    // A 15-character id literal means the same record as its 18-character form.
    expect(select(`SELECT Id FROM Contact WHERE Id = '${sfId('003', 3).slice(0, 15)}'`, records)).toEqual([sfId('003', 3)]);
  });
});
