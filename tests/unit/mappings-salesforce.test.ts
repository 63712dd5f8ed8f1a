import { describe, expect, it } from 'vitest';
import { resolveUserId, isPlausibleEmail } from '../../mappings/identity';
import { columnName } from '../../mappings/salesforce-fields';
import { amplitudeEventSchema, identifyToEvent } from '../../mappings/amplitude-types';
import { salesforceDeclarations } from '../../streams/salesforce';
import { DEFAULT_STREAMS_FILE, STREAM_DECLARATIONS } from '../../streams/registry';
import { loadStreamsFile } from '../../streams/config/load';
import { STREAMS_BY_SOURCE } from '../../streams/names';
import type { Row } from '../../connectors/warehouse/types';
import type { MappingContext } from '../../mappings/types';
import type { StreamDeclaration } from '../../streams/types';

const ctx: MappingContext = { minIdLength: 5, userIdField: 'Email' };
const DEFAULT_FILE = loadStreamsFile(DEFAULT_STREAMS_FILE);
const decl = (name: string) => STREAM_DECLARATIONS.get(name) as StreamDeclaration;

/** Validates like the pipeline does, then maps. */
function map(name: string, raw: Record<string, unknown>, previous?: Row, c: MappingContext = ctx) {
  const d = decl(name);
  const parsed = d.schema.safeParse(raw);
  if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues));
  const record = parsed.data;
  return { record, row: d.toRow(record), out: d.toEvents(record, previous, c) };
}

const contact = (over: Record<string, unknown> = {}) => ({
  attributes: { type: 'Contact', url: '/services/data/v62.0/sobjects/Contact/0035g00000AbCdEAAZ' },
  Id: '0035g00000AbCdEAAZ',
  AccountId: '0015g00000XyZabAAB',
  FirstName: 'Chloé',
  LastName: 'Dubois',
  Name: 'Chloé Dubois',
  Email: '  Chloe.Dubois@Example.COM ',
  Title: 'Site Engineer',
  Phone: null,
  MailingCountry: 'FR',
  LeadSource: 'Web',
  HasOptedOutOfEmail: false,
  Description: null,
  Account_Name__c: 'Lumière Bâtiment SA',
  OwnerId: '0055g00000Own01AAA',
  IsDeleted: false,
  CreatedDate: '2024-03-01T08:00:00.000+0000',
  LastModifiedDate: '2024-03-02T09:30:00.000+0000',
  SystemModstamp: '2024-03-02T09:30:00.000+0000',
  ...over,
});

const lead = (over: Record<string, unknown> = {}) => ({
  Id: '00Q5g00000LeAd1AAA',
  FirstName: 'Wei Ming',
  LastName: 'Tan',
  Name: 'Wei Ming Tan',
  Email: 'weiming.tan@straits.com',
  Title: 'Project Manager',
  Phone: '+65 6123 4567',
  Company: 'Straits Construction Pte Ltd',
  Country: 'SG',
  Status: 'Working - Contacted',
  LeadSource: 'Drift Chat',
  Rating: 'Hot',
  IsConverted: false,
  ConvertedDate: null,
  ConvertedContactId: null,
  ConvertedAccountId: null,
  ConvertedOpportunityId: null,
  OwnerId: '0055g00000Own01AAA',
  IsDeleted: false,
  CreatedDate: '2024-01-10T02:00:00.000+0000',
  LastModifiedDate: '2024-01-10T02:00:00.000+0000',
  SystemModstamp: '2024-01-10T02:00:00.000+0000',
  ...over,
});

const opportunity = (over: Record<string, unknown> = {}) => ({
  Id: '0065g00000OpP01AAA',
  AccountId: '0015g00000XyZabAAB',
  Name: 'Straits - Novade Quality',
  StageName: 'Prospecting',
  Amount: 120000,
  CloseDate: '2024-06-30',
  Probability: 10,
  ForecastCategoryName: 'Pipeline',
  IsClosed: false,
  IsWon: false,
  Type: 'New Business',
  LeadSource: 'Web',
  NextStep: '=HYPERLINK("http://example.com","click")',
  Description: null,
  OwnerId: '0055g00000Own01AAA',
  IsDeleted: false,
  CreatedDate: '2024-02-01T00:00:00.000+0000',
  LastModifiedDate: '2024-02-01T00:00:00.000+0000',
  SystemModstamp: '2024-02-01T00:00:00.000+0000',
  ...over,
});

const ms = (iso: string) => Date.parse(iso);

describe('identity', () => {
  it('lower-cases and trims emails, and requires a plausible email of the minimum length', () => {
    expect(resolveUserId(' Jane.Doe@Example.com ', { field: 'Email', minIdLength: 5 })).toEqual({ ok: true, userId: 'jane.doe@example.com' });
    expect(resolveUserId('info@straits', { field: 'Email', minIdLength: 5 })).toMatchObject({ ok: false, reason: expect.stringContaining('not a valid email') });
    expect(resolveUserId(null, { field: 'Email', minIdLength: 5 })).toMatchObject({ ok: false, reason: expect.stringContaining('no Email') });
    expect(resolveUserId('   ', { field: 'Email', minIdLength: 5 })).toMatchObject({ ok: false, reason: expect.stringContaining('empty') });
    expect(resolveUserId('a@b.c', { field: 'Email', minIdLength: 6 })).toMatchObject({ ok: false, reason: expect.stringContaining('minimum id length') });
    expect(resolveUserId(`${'x'.repeat(1100)}@example.com`, { field: 'Email', minIdLength: 5 })).toMatchObject({ ok: false, reason: expect.stringContaining('1024') });
    expect(isPlausibleEmail('zoë.müller@bau.de')).toBe(true);
    expect(isPlausibleEmail('a b@c.de')).toBe(false);
  });

  it('keeps the case of non-email id fields and refuses Amplitude placeholders', () => {
    expect(resolveUserId(' 0035g00000AbCdE ', { field: 'Novade_User_Id__c', minIdLength: 5 })).toEqual({ ok: true, userId: '0035g00000AbCdE' });
    expect(resolveUserId('unknown', { field: 'Novade_User_Id__c', minIdLength: 5 })).toMatchObject({ ok: false });
    expect(resolveUserId(42, { field: 'Novade_User_Id__c', minIdLength: 1 })).toMatchObject({ ok: false, reason: expect.stringContaining('not text') });
  });
});

describe('Salesforce declarations', () => {
  it('declares the four streams of STREAMS_BY_SOURCE with snake_case silver tables versioned by system_modstamp', () => {
    const salesforce = [...STREAM_DECLARATIONS.values()].filter((d) => d.name.startsWith('salesforce_'));
    expect(salesforce.map((d) => d.name).sort()).toEqual([...STREAMS_BY_SOURCE.salesforce].sort());
    for (const d of salesforce) {
      expect(d).toMatchObject({ source: 'salesforce', primaryKey: 'Id', cursorField: 'SystemModstamp' });
      expect(d.silver).toMatchObject({ name: d.name, primaryKey: ['id'], versionColumn: 'system_modstamp' });
      expect(d.bronze.keyColumns).toEqual([{ name: 'id', type: 'varchar' }]);
      expect(d.fields).toContain('IsDeleted');
      for (const c of d.silver.columns) expect(c.name).toMatch(/^[a-z][a-z0-9_]*$/);
    }
    const contactCols = Object.fromEntries(decl('salesforce_contact').silver.columns.map((c) => [c.name, c.type]));
    expect(contactCols).toMatchObject({ id: 'varchar', email: 'varchar', first_name: 'varchar', has_opted_out_of_email: 'boolean', system_modstamp: 'timestamp', account_name: 'varchar' });
    const opp = Object.fromEntries(decl('salesforce_opportunity').silver.columns.map((c) => [c.name, c.type]));
    expect(opp).toMatchObject({ amount: 'double', close_date: 'varchar', is_won: 'boolean', stage_name: 'varchar' });
    expect(Object.fromEntries(decl('salesforce_account').silver.columns.map((c) => [c.name, c.type]))).toMatchObject({ number_of_employees: 'bigint', annual_revenue: 'double' });
    expect(columnName('Account_Name__c')).toBe('account_name');
    expect(columnName('HasOptedOutOfEmail')).toBe('has_opted_out_of_email');
  });

  it('selects a configured user-id field that is not in the standard list', () => {
    const [, c, l, o] = salesforceDeclarations(DEFAULT_FILE.salesforce, { userIdField: 'Work_Email__c' });
    expect(c.fields).toContain('Work_Email__c');
    expect(l.fields).toContain('Work_Email__c');
    expect(o.fields).not.toContain('Work_Email__c');
    expect(c.silver.columns.map((x) => x.name)).toContain('work_email');
  });

  it('accepts REST and Bulk CSV shapes of one record and normalises them alike', () => {
    const d = decl('salesforce_opportunity');
    const rest = d.schema.parse(opportunity());
    const csv = d.schema.parse({
      Id: '0065g00000OpP01AAA',
      AccountId: '0015g00000XyZabAAB',
      Name: 'Straits - Novade Quality',
      StageName: 'Prospecting',
      Amount: '120000',
      CloseDate: '2024-06-30',
      Probability: '10',
      ForecastCategoryName: 'Pipeline',
      IsClosed: 'false',
      IsWon: 'false',
      Type: 'New Business',
      LeadSource: 'Web',
      NextStep: '=HYPERLINK("http://example.com","click")',
      Description: '',
      OwnerId: '0055g00000Own01AAA',
      IsDeleted: 'false',
      CreatedDate: '2024-02-01T00:00:00.000Z',
      LastModifiedDate: '2024-02-01T00:00:00.000Z',
      SystemModstamp: '2024-02-01T00:00:00.000Z',
    });
    expect(d.toRow(csv)).toEqual(d.toRow(rest));
    expect(d.toRow(rest)).toMatchObject({ id: '0065g00000OpP01AAA', amount: 120000, is_won: false, system_modstamp: '2024-02-01T00:00:00.000Z', description: null, _deleted: false });
  });

  it('accepts messy data: nulls, 300-character names, unicode, CSV-hostile text', () => {
    const longName = `Sigurðsson-${'x'.repeat(289)}`;
    const { row } = map('salesforce_contact', contact({ LastName: longName, Name: `Ólafur ${longName}`, FirstName: null, Title: null, Description: 'Référence: chantier — 日本語のメモ。\n"quoted", =1+1', Email: null }));
    expect(row.last_name).toBe(longName);
    expect(row.first_name).toBeNull();
    expect(row.description).toBe('Référence: chantier — 日本語のメモ。\n"quoted", =1+1');
  });

  it('rejects records without Id or SystemModstamp, or with broken values', () => {
    const d = decl('salesforce_contact');
    expect(d.schema.safeParse(contact({ Id: undefined })).success).toBe(false);
    expect(d.schema.safeParse(contact({ Id: 'not-an-id' })).success).toBe(false);
    expect(d.schema.safeParse(contact({ SystemModstamp: null })).success).toBe(false);
    expect(d.schema.safeParse(contact({ SystemModstamp: 'yesterday' })).success).toBe(false);
    expect(d.schema.safeParse(contact({ HasOptedOutOfEmail: 'maybe' })).success).toBe(false);
    expect(decl('salesforce_opportunity').schema.safeParse(opportunity({ Amount: 'lots' })).success).toBe(false);
  });
});

describe('Contact events', () => {
  it('identifies a new contact and sends Contact Created at its CreatedDate', () => {
    const { out } = map('salesforce_contact', contact());
    expect(out.unsendable).toBeUndefined();
    expect(out.identify).toEqual({
      user_id: 'chloe.dubois@example.com',
      insert_id: 'sf:Contact:0035g00000AbCdEAAZ:2024-03-02T09:30:00.000Z:identify',
      time: ms('2024-03-02T09:30:00Z'),
      user_properties: {
        $set: {
          name: 'Chloé Dubois',
          first_name: 'Chloé',
          last_name: 'Dubois',
          title: 'Site Engineer',
          company: 'Lumière Bâtiment SA',
          country: 'FR',
          lead_source: 'Web',
          salesforce_account_id: '0015g00000XyZabAAB',
          salesforce_owner_id: '0055g00000Own01AAA',
          salesforce_contact_id: '0035g00000AbCdEAAZ',
        },
      },
    });
    expect(out.events).toEqual([
      expect.objectContaining({ event_type: 'Contact Created', user_id: 'chloe.dubois@example.com', time: ms('2024-03-01T08:00:00Z'), insert_id: 'sf:Contact:0035g00000AbCdEAAZ:created' }),
    ]);
    for (const e of [...out.events, identifyToEvent(out.identify!)]) expect(amplitudeEventSchema.safeParse(e).success).toBe(true);
  });

  it('sends nothing when a new version changes no person property, and an identify with $unset when one is cleared', () => {
    const first = map('salesforce_contact', contact());
    const touched = map('salesforce_contact', contact({ SystemModstamp: '2024-04-01T00:00:00.000+0000' }), first.row);
    expect(touched.out).toEqual({ events: [], identify: undefined });
    const cleared = map('salesforce_contact', contact({ Title: null, SystemModstamp: '2024-04-02T00:00:00.000+0000' }), first.row);
    expect(cleared.out.events).toEqual([]);
    expect(cleared.out.identify?.user_properties.$unset).toEqual({ title: '-' });
    expect(cleared.out.identify?.user_properties.$set).not.toHaveProperty('title');
  });

  it('re-identifies when the email changes', () => {
    const first = map('salesforce_contact', contact());
    const moved = map('salesforce_contact', contact({ Email: 'chloe@lumiere.fr', SystemModstamp: '2024-05-01T00:00:00.000+0000' }), first.row);
    expect(moved.out.identify?.user_id).toBe('chloe@lumiere.fr');
    expect(moved.out.identify?.user_properties.$unset).toBeUndefined();
  });

  it('makes a contact without a usable email unsendable, with the reason', () => {
    expect(map('salesforce_contact', contact({ Email: 'chloe@lumiere' })).out).toEqual({ events: [], unsendable: expect.stringContaining('not a valid email') });
    expect(map('salesforce_contact', contact({ Email: null })).out.unsendable).toContain('no Email');
    // Nothing to say about an unchanged person: no dead letter either.
    const first = map('salesforce_contact', contact({ Email: null }));
    expect(map('salesforce_contact', contact({ Email: null, SystemModstamp: '2024-06-01T00:00:00.000+0000' }), first.row).out).toEqual({ events: [] });
  });

  it('uses the configured user-id field', () => {
    const c: MappingContext = { minIdLength: 5, userIdField: 'Work_Email__c' };
    const [, d] = salesforceDeclarations(DEFAULT_FILE.salesforce, { userIdField: 'Work_Email__c' });
    const record = d.schema.parse({ ...contact(), Work_Email__c: 'Chloe@Work.example' });
    expect(d.toEvents(record, undefined, c).identify?.user_id).toBe('chloe@work.example');
  });

  it('sends nothing for a deleted contact (silver keeps it as a soft delete)', () => {
    const { out, row } = map('salesforce_contact', contact({ IsDeleted: true }));
    expect(out).toEqual({ events: [] });
    expect(row._deleted).toBe(true);
  });

  it('truncates property values to Amplitude’s 1,024 characters', () => {
    const long = 'Ü'.repeat(1500);
    const { out } = map('salesforce_contact', contact({ Title: long }));
    expect((out.identify?.user_properties.$set?.title as string).length).toBe(1024);
  });
});

describe('Lead events', () => {
  it('identifies the lead with company, status and owner, and sends Lead Created', () => {
    const { out } = map('salesforce_lead', lead());
    expect(out.identify?.user_properties.$set).toMatchObject({ company: 'Straits Construction Pte Ltd', lead_status: 'Working - Contacted', lead_rating: 'Hot', salesforce_owner_id: '0055g00000Own01AAA', salesforce_lead_id: '00Q5g00000LeAd1AAA', name: 'Wei Ming Tan', title: 'Project Manager' });
    expect(out.events.map((e) => [e.event_type, e.insert_id, e.time])).toEqual([['Lead Created', 'sf:Lead:00Q5g00000LeAd1AAA:created', ms('2024-01-10T02:00:00Z')]]);
  });

  it('sends Lead Converted once, at the change when it is seen happening', () => {
    const first = map('salesforce_lead', lead());
    const converted = map(
      'salesforce_lead',
      lead({ Status: 'Closed - Converted', IsConverted: true, ConvertedDate: '2024-02-01', ConvertedContactId: '0035g00000AbCdEAAZ', ConvertedAccountId: '0015g00000XyZabAAB', SystemModstamp: '2024-02-01T10:15:00.000+0000' }),
      first.row,
    );
    expect(converted.out.events).toEqual([
      expect.objectContaining({ event_type: 'Lead Converted', insert_id: 'sf:Lead:00Q5g00000LeAd1AAA:converted', time: ms('2024-02-01T10:15:00Z'), event_properties: expect.objectContaining({ salesforce_contact_id: '0035g00000AbCdEAAZ' }) }),
    ]);
    expect(converted.out.identify?.user_properties.$set?.lead_status).toBe('Closed - Converted');
    const later = map('salesforce_lead', lead({ Status: 'Closed - Converted', IsConverted: true, ConvertedDate: '2024-02-01', SystemModstamp: '2024-03-01T00:00:00.000+0000' }), converted.row);
    expect(later.out.events).toEqual([]);
  });

  it('dates a conversion first seen on an initial sync by its ConvertedDate, within the record’s lifetime', () => {
    const { out } = map('salesforce_lead', lead({ IsConverted: true, ConvertedDate: '2024-02-01', SystemModstamp: '2024-09-01T00:00:00.000+0000' }));
    expect(out.events.map((e) => [e.event_type, e.time])).toEqual([
      ['Lead Created', ms('2024-01-10T02:00:00Z')],
      ['Lead Converted', ms('2024-02-01T00:00:00Z')],
    ]);
    const sameDay = map('salesforce_lead', lead({ IsConverted: true, ConvertedDate: '2024-01-10' }));
    expect(sameDay.out.events[1].time).toBe(ms('2024-01-10T02:00:00Z'));
  });
});

describe('Opportunity events', () => {
  it('sends Opportunity Created to the account’s device, with the account as a group', () => {
    const { out } = map('salesforce_opportunity', opportunity());
    expect(out.identify).toBeUndefined();
    expect(out.events).toEqual([
      {
        event_type: 'Opportunity Created',
        device_id: 'sf-account:0015g00000XyZabAAB',
        groups: { salesforce_account: '0015g00000XyZabAAB' },
        time: ms('2024-02-01T00:00:00Z'),
        insert_id: 'sf:Opportunity:0065g00000OpP01AAA:created',
        event_properties: expect.objectContaining({ stage: 'Prospecting', amount: 120000, salesforce_opportunity_id: '0065g00000OpP01AAA', close_date: '2024-06-30' }),
      },
    ]);
    expect(amplitudeEventSchema.safeParse(out.events[0]).success).toBe(true);
    expect(map('salesforce_opportunity', opportunity({ AccountId: null })).out.events[0]).toMatchObject({ device_id: 'sf-opportunity:0065g00000OpP01AAA' });
    expect(map('salesforce_opportunity', opportunity({ AccountId: null })).out.events[0]).not.toHaveProperty('groups');
  });

  it('sends Stage Changed with from/to found in the previous silver row', () => {
    const first = map('salesforce_opportunity', opportunity());
    const next = map('salesforce_opportunity', opportunity({ StageName: 'Needs Analysis', Probability: 20, SystemModstamp: '2024-03-05T11:00:00.000+0000' }), first.row);
    expect(next.out.events).toEqual([
      expect.objectContaining({
        event_type: 'Opportunity Stage Changed',
        time: ms('2024-03-05T11:00:00Z'),
        insert_id: 'sf:Opportunity:0065g00000OpP01AAA:2024-03-05T11:00:00.000Z:stage',
        event_properties: expect.objectContaining({ from_stage: 'Prospecting', to_stage: 'Needs Analysis' }),
      }),
    ]);
    // A new version with the same stage (an amount change) says nothing to Amplitude.
    expect(map('salesforce_opportunity', opportunity({ Amount: 5, SystemModstamp: '2024-03-06T00:00:00.000+0000' }), first.row).out.events).toEqual([]);
  });

  it('sends Opportunity Won and Lost when a deal closes', () => {
    const first = map('salesforce_opportunity', opportunity());
    const won = map('salesforce_opportunity', opportunity({ StageName: 'Closed Won', IsClosed: true, IsWon: true, Probability: 100, SystemModstamp: '2024-06-01T00:00:00.000+0000' }), first.row);
    expect(won.out.events.map((e) => [e.event_type, e.insert_id, e.time])).toEqual([
      ['Opportunity Stage Changed', 'sf:Opportunity:0065g00000OpP01AAA:2024-06-01T00:00:00.000Z:stage', ms('2024-06-01T00:00:00Z')],
      ['Opportunity Won', 'sf:Opportunity:0065g00000OpP01AAA:2024-06-01T00:00:00.000Z:won', ms('2024-06-01T00:00:00Z')],
    ]);
    const lost = map('salesforce_opportunity', opportunity({ StageName: 'Closed Lost', IsClosed: true, IsWon: false, SystemModstamp: '2024-06-02T00:00:00.000+0000' }), first.row);
    expect(lost.out.events.map((e) => e.event_type)).toEqual(['Opportunity Stage Changed', 'Opportunity Lost']);
    // Re-reading a closed deal (lookback, retry, system bump) does not win it twice.
    expect(map('salesforce_opportunity', opportunity({ StageName: 'Closed Won', IsClosed: true, IsWon: true, SystemModstamp: '2024-07-01T00:00:00.000+0000' }), won.row).out.events).toEqual([]);
  });

  it('backfills a deal first seen closed: Created, then Won at its CloseDate', () => {
    const { out } = map('salesforce_opportunity', opportunity({ StageName: 'Closed Won', IsClosed: true, IsWon: true, CloseDate: '2024-05-20', SystemModstamp: '2024-05-22T00:00:00.000+0000' }));
    expect(out.events.map((e) => [e.event_type, e.time])).toEqual([
      ['Opportunity Created', ms('2024-02-01T00:00:00Z')],
      ['Opportunity Won', ms('2024-05-20T00:00:00Z')],
    ]);
  });

  it('sends nothing for deleted opportunities and accounts', () => {
    expect(map('salesforce_opportunity', opportunity({ IsDeleted: true })).out).toEqual({ events: [] });
    const account = map('salesforce_account', { Id: '0015g00000XyZabAAB', Name: 'Straits', NumberOfEmployees: '120', AnnualRevenue: null, IsDeleted: false, SystemModstamp: '2024-01-01T00:00:00Z' });
    expect(account.out).toEqual({ events: [] });
    expect(account.row).toMatchObject({ id: '0015g00000XyZabAAB', number_of_employees: 120, annual_revenue: null });
  });
});
