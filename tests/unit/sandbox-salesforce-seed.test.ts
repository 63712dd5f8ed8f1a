import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { caseSafeSuffix, toId18 } from '../../sandbox/salesforce/ids';
import { OBJECT_NAMES, OPPORTUNITY_STAGES, stageFields } from '../../sandbox/salesforce/schema';
import { person } from '../../sandbox/seed/people';
import { convertedContactIndex, generateSalesforceSeed, LEAD_PERSON_OFFSET, SEED_AS_OF, seedCounts } from '../../sandbox/seed/salesforce';

const digest = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

describe('Salesforce seed generator', () => {
  const started = Date.now();
  const full = generateSalesforceSeed({ seed: 42, scale: 1 });
  const elapsedMs = Date.now() - started;
  const { Account, Contact, Lead, Opportunity } = full.records;

  it('generates 37,000 contacts, 20,000 leads, 8,000 opportunities and 3,000 accounts at scale 1, in a couple of seconds', () => {
    expect([Contact.length, Lead.length, Opportunity.length, Account.length]).toEqual([37_000, 20_000, 8_000, 3_000]);
    expect(elapsedMs).toBeLessThan(4_000);
  });

  it('is deterministic from the seed number', () => {
    const again = generateSalesforceSeed({ seed: 42, scale: 0.05 });
    const same = generateSalesforceSeed({ seed: 42, scale: 0.05 });
    const other = generateSalesforceSeed({ seed: 43, scale: 0.05 });
    expect(digest(again)).toBe(digest(same));
    expect(digest(again.records.Contact)).not.toBe(digest(other.records.Contact));
    expect(seedCounts(0.02)).toEqual({ Account: 60, Contact: 740, Lead: 400, Opportunity: 160, Project__c: 30 });
  });

  it('gives 18-character ids with the object key prefix (001, 003, 00Q, 006) and a valid case-safe suffix, unique', () => {
    // The documented example of the checksum.
    expect(caseSafeSuffix('001A0000006Vm9r')).toBe('IAC');
    const prefixes = { Account: '001', Contact: '003', Lead: '00Q', Opportunity: '006' } as const;
    for (const name of OBJECT_NAMES) {
      const ids = full.records[name].map((r) => r.Id as string);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids.slice(0, 200)) {
        expect(id).toHaveLength(18);
        expect(id.startsWith(prefixes[name])).toBe(true);
        expect(toId18(id)).toBe(id);
      }
    }
  });

  it('builds contact i from person(seed, i), and lead k from person 37,000 + k unless converted', () => {
    for (const i of [0, 1, 500, 36_999]) {
      const p = person(42, i);
      expect(Contact[i].Email).toBe(p.email);
      expect(Contact[i].FirstName).toBe(p.firstName);
    }
    const unconverted = Lead.findIndex((l) => !l.IsConverted);
    expect(Lead[unconverted].Email).toBe(person(42, LEAD_PERSON_OFFSET + unconverted).email);
  });

  it('converted leads point at the contact they became, with the same email and a conversion after the lead was created', () => {
    const contacts = new Map(Contact.map((c) => [c.Id, c]));
    const converted = Lead.filter((l) => l.IsConverted);
    expect(converted.length).toBeGreaterThan(2_000);
    for (const lead of converted) {
      const c = contacts.get(lead.ConvertedContactId as string);
      expect(c?.Email).toBe(lead.Email);
      expect(lead.Status).toBe('Closed - Converted');
      expect(lead.CreatedDate as number).toBeLessThanOrEqual(c?.CreatedDate as number);
    }
    const targets = converted.map((l) => l.ConvertedContactId);
    expect(new Set(targets).size).toBe(targets.length);
    expect(convertedContactIndex(0, seedCounts(1))).toBe(0);
  });

  it('has the messiness of a real CRM: missing and duplicate emails, unicode names, long fields, CSV-hostile text, nulls', () => {
    const emails = Contact.map((c) => c.Email);
    const missing = emails.filter((e) => e === null).length;
    expect(missing / Contact.length).toBeGreaterThan(0.03);
    const present = emails.filter((e): e is string => typeof e === 'string').map((e) => e.toLowerCase());
    expect(present.length - new Set(present).size).toBeGreaterThan(100);
    expect(Contact.some((c) => /[^\u0000-\u007f]/.test(String(c.LastName) + String(c.FirstName)))).toBe(true);
    expect(Contact.some((c) => c.FirstName === null)).toBe(true);
    expect(Math.max(...Account.map((a) => String(a.Description ?? '').length))).toBeGreaterThan(2_000);
    expect(Opportunity.some((o) => String(o.NextStep ?? '').startsWith('='))).toBe(true);
    expect(Opportunity.some((o) => String(o.Description ?? '').includes('\n'))).toBe(true);
    expect(Opportunity.some((o) => o.Amount === null)).toBe(true);
    expect(Lead.some((l) => l.Company === '[not provided]')).toBe(true);
    // Field lengths are Salesforce's: the shared people world's very long names are clipped to 80.
    expect(Math.max(...Contact.map((c) => String(c.LastName).length))).toBe(80);
  });

  it('has bulk imports that share one SystemModstamp, and consistent audit fields in whole seconds', () => {
    const byStamp = new Map<number, number>();
    for (const c of Contact) byStamp.set(c.SystemModstamp as number, (byStamp.get(c.SystemModstamp as number) ?? 0) + 1);
    expect(Math.max(...byStamp.values())).toBeGreaterThan(2_000);
    const inconsistent = OBJECT_NAMES.flatMap((name) =>
      full.records[name].filter((r) => {
        const [created, modified, stamp] = [r.CreatedDate, r.LastModifiedDate, r.SystemModstamp] as number[];
        return !(created <= modified && modified <= stamp && stamp < SEED_AS_OF && stamp % 1000 === 0 && created % 1000 === 0);
      }),
    );
    expect(inconsistent).toEqual([]);
    // Some records were touched by a system job only: SystemModstamp after LastModifiedDate.
    expect(Contact.some((c) => (c.SystemModstamp as number) > (c.LastModifiedDate as number))).toBe(true);
  });

  it('keeps about 1% of records in the recycle bin (IsDeleted)', () => {
    const deleted = Contact.filter((c) => c.IsDeleted).length;
    expect(deleted).toBeGreaterThan(200);
    expect(deleted).toBeLessThan(800);
  });

  it('gives opportunities consistent stages, and open ones a plan of future stage changes ending closed', () => {
    for (const o of Opportunity) expect(o).toMatchObject(stageFields(o.StageName as string));
    const open = Opportunity.filter((o) => !o.IsClosed && !o.IsDeleted);
    expect(open.length).toBeGreaterThan(1_000);
    const planned = new Set(full.stagePlan.map((s) => s.opportunityId));
    for (const o of open) expect(planned.has(o.Id as string)).toBe(true);
    const stageNames = OPPORTUNITY_STAGES.map((s) => s.name as string);
    expect(full.stagePlan.every((s) => stageNames.includes(s.stage))).toBe(true);
    expect(full.stagePlan.some((s) => s.afterMs < 10 * 60_000)).toBe(true);
    const sorted = full.stagePlan.map((s) => s.afterMs);
    expect(sorted).toEqual([...sorted].sort((a, b) => a - b));
  });
});
