import { KEY_PREFIX, sfId } from '../salesforce/ids';
import { OPEN_STAGES, OBJECTS, JOB_ROLES, LEAD_SOURCES, PROJECT_STATUSES, stageFields, type FieldValue, type SObjectName, type StoredRecord } from '../salesforce/schema';
import { toSfDate, truncateToSecond } from '../salesforce/time';
import { companyName, COMPANY_COUNT, person } from './people';
import { Rng } from './random';

/**
 * The Salesforce org of the sandbox: a Novade-like B2B CRM (construction companies), a pure
 * function of (seed, scale). At scale 1: 37,000 contacts, 20,000 leads, 8,000 opportunities and
 * 3,000 accounts, with the messiness of a real CRM (missing and duplicate emails, unicode names,
 * long and CSV-hostile text, nulls, formula fields, bulk imports that share one SystemModstamp).
 *
 * People come from `person(seed, i)`, shared with the Drift emulator:
 * - Contact i is person i (0..36,999 at scale 1).
 * - Lead k is person LEAD_PERSON_OFFSET + k, except a converted lead: it is the person of the
 *   contact it was converted into (`convertedContactIndex`), so both carry the same name and email.
 */
export const SALESFORCE_SEED_COUNTS = { Account: COMPANY_COUNT, Contact: 37_000, Lead: 20_000, Opportunity: 8_000, Project__c: 1_500 } as const;
export const LEAD_PERSON_OFFSET = 37_000;
/** The moment the seeded org was exported; every seeded timestamp is before it. */
export const SEED_AS_OF = Date.UTC(2025, 11, 1, 0, 0, 0);
const WORLD_START = Date.UTC(2021, 0, 4, 1, 0, 0);
const DAY = 86_400_000;
const MINUTE = 60_000;

/** Large imports: every contact in the index range got the same CreatedDate and SystemModstamp. */
const CONTACT_IMPORTS = [
  { from: 0.1, to: 0.2, at: Date.UTC(2022, 2, 14, 9, 12, 44) },
  { from: 0.45, to: 0.52, at: Date.UTC(2023, 8, 4, 16, 30, 2) },
  { from: 0.8, to: 0.86, at: Date.UTC(2025, 1, 20, 7, 45, 10) },
];
/** Nightly system jobs (e.g. a managed package recalculation) bump SystemModstamp, not LastModifiedDate. */
const SYSTEM_JOBS = [Date.UTC(2023, 5, 11, 2, 0, 0), Date.UTC(2024, 10, 3, 2, 0, 0), Date.UTC(2025, 9, 26, 2, 0, 0)];

/** Billing cities and site coordinates per country (a site is somewhere within ~1° of its city). */
const PLACES: Record<string, { city: string; lat: number; lon: number }> = {
  Singapore: { city: 'Singapore', lat: 1.29, lon: 103.85 },
  Malaysia: { city: 'Kuala Lumpur', lat: 3.14, lon: 101.69 },
  France: { city: 'Paris', lat: 48.86, lon: 2.35 },
  Germany: { city: 'Berlin', lat: 52.52, lon: 13.4 },
  Vietnam: { city: 'Ho Chi Minh City', lat: 10.82, lon: 106.63 },
  Indonesia: { city: 'Jakarta', lat: -6.2, lon: 106.85 },
  Australia: { city: 'Sydney', lat: -33.87, lon: 151.21 },
  'United Kingdom': { city: 'London', lat: 51.51, lon: -0.13 },
  'Hong Kong': { city: 'Hong Kong', lat: 22.32, lon: 114.17 },
  Thailand: { city: 'Bangkok', lat: 13.76, lon: 100.5 },
};
const STREETS = ['Marina Boulevard', 'Jalan Ampang', 'Rue de Rivoli', 'Friedrichstraße', 'Nguyễn Huệ', 'Jalan Sudirman', 'George Street', 'King\'s Road', 'Queen\'s Road Central', 'Sukhumvit Road'];
const PROJECT_KINDS = ['Tower', 'Hospital', 'MRT Station', 'Warehouse', 'Campus', 'Data Centre', 'Bridge', 'Mall'];

const INDUSTRIES = ['Construction', 'Construction', 'Engineering', 'Real Estate', 'Facilities Management', 'Government'];
const PRODUCTS = ['Novade Quality', 'Novade Safety', 'Novade Site Diary', 'Novade Inspections', 'Novade Enterprise', 'Novade Lite'];
const NEXT_STEPS = ['Demo scheduled', 'Send proposal', 'Pilot on site, review in 2 weeks', 'Follow up with "procurement"', '=HYPERLINK("http://example.com","click")', '+65 follow-up call', '@mention legal'];
const DESCRIPTIONS = [
  'Met at BuildTech Asia. Interested in digitising QA/QC checklists, currently on paper & Excel.',
  'Main contractor, 12 active sites; wants "permit to work" flows.\nSecond line: asked for SSO.',
  '=1+1',
  '-2 sites closed; see notes, "quoted" text, commas, and more',
  'Référence client: chantier Île-de-France — équipe HSE. 日本語のメモ。',
];

export interface StagePlanStep {
  opportunityId: string;
  /** When the stage changes, counted from the emulator's start. */
  afterMs: number;
  stage: string;
}

export interface SalesforceSeed {
  seed: number;
  scale: number;
  asOf: number;
  ownerIds: string[];
  records: Record<SObjectName, StoredRecord[]>;
  /** Future stage changes of open opportunities, sorted by `afterMs`. */
  stagePlan: StagePlanStep[];
}

export interface SalesforceSeedOptions {
  seed?: number;
  /** 1 = the full org; tests use e.g. 0.02. */
  scale?: number;
}

/** Id number of the i-th seeded record of an object; later records continue after the seed. */
export const SEED_ID_BASE = 10_000_000;

export function seedCounts(scale: number): Record<SObjectName, number> {
  const n = (full: number) => Math.max(1, Math.round(full * scale));
  return {
    Account: Math.max(10, n(SALESFORCE_SEED_COUNTS.Account)),
    Contact: n(SALESFORCE_SEED_COUNTS.Contact),
    Lead: n(SALESFORCE_SEED_COUNTS.Lead),
    Opportunity: n(SALESFORCE_SEED_COUNTS.Opportunity),
    Project__c: Math.max(5, n(SALESFORCE_SEED_COUNTS.Project__c)),
  };
}

/** Contact index of the contact lead k was converted into (distinct for distinct leads while contacts ≥ leads). */
export function convertedContactIndex(k: number, counts: Record<SObjectName, number>): number {
  return Math.min(counts.Contact - 1, Math.floor(((k + 0.5) * counts.Contact) / counts.Lead));
}

const clip = (object: SObjectName, field: string, value: string | null): string | null => {
  const length = OBJECTS[object].byLowerName.get(field.toLowerCase())?.length;
  return value !== null && length !== undefined && value.length > length ? value.slice(0, length) : value;
};

const sec = truncateToSecond;
/** Contact and Lead `Name`: the read-only compound of FirstName and LastName. */
export const compoundName = (first: FieldValue, last: FieldValue): string => [first, last].filter((p) => typeof p === 'string' && p !== '').join(' ');
const between = (r: Rng, from: number, to: number) => (to <= from ? from : from + Math.floor(r.next() * (to - from)));
const exponential = (r: Rng, mean: number) => -Math.log(1 - r.next()) * mean;

interface Audit {
  CreatedDate: number;
  LastModifiedDate: number;
  SystemModstamp: number;
  IsDeleted: boolean;
}

/** Edits after creation, nightly system bumps and the odd record in the recycle bin. */
function audit(r: Rng, created: number, editChance: number): Audit {
  const createdS = sec(created);
  let modified = createdS;
  if (r.chance(editChance)) modified = sec(between(r, createdS, SEED_AS_OF - MINUTE));
  let stamp = modified;
  if (r.chance(0.08)) {
    const job = SYSTEM_JOBS.find((t) => t > modified);
    if (job !== undefined) stamp = job;
  }
  const deleted = r.chance(0.01);
  if (deleted) {
    modified = sec(between(r, stamp, SEED_AS_OF - MINUTE));
    stamp = modified;
  }
  return { CreatedDate: createdS, LastModifiedDate: modified, SystemModstamp: stamp, IsDeleted: deleted };
}

/** Account's address components and Novade's custom fields (customer id, site geolocation). */
function accountNovadeFields(r: Rng, account: StoredRecord, index: number): Record<string, FieldValue> {
  const country = typeof account.BillingCountry === 'string' ? account.BillingCountry : null;
  const place = country ? PLACES[country] : undefined;
  const located = place !== undefined && account.Type !== 'Prospect' && r.chance(0.6);
  const coordinate = (v: number) => Math.round((v + (r.next() - 0.5) * 2) * 1e6) / 1e6;
  return {
    BillingStreet: place && r.chance(0.8) ? `${r.int(1, 400)} ${r.pick(STREETS)}` : null,
    BillingCity: place?.city ?? null,
    BillingState: null,
    BillingPostalCode: place && r.chance(0.7) ? String(r.int(10_000, 999_999)) : null,
    // Salesforce does not geocode addresses by itself: latitude, longitude and accuracy stay empty.
    BillingLatitude: null,
    BillingLongitude: null,
    BillingGeocodeAccuracy: null,
    Novade_Customer_Id__c: account.Type === 'Customer' ? `NVD-${String(10_000 + index).padStart(6, '0')}` : null,
    Site_Location__Latitude__s: located ? coordinate(place.lat) : null,
    Site_Location__Longitude__s: located ? coordinate(place.lon) : null,
  };
}

export function generateSalesforceSeed(opts: SalesforceSeedOptions = {}): SalesforceSeed {
  const seed = opts.seed ?? 42;
  const scale = opts.scale ?? 1;
  const counts = seedCounts(scale);
  const root = new Rng(seed).fork('salesforce');
  const ownerIds = Array.from({ length: 12 }, (_, i) => sfId(KEY_PREFIX.User, SEED_ID_BASE + 100 + i));
  const span = SEED_AS_OF - WORLD_START - 30 * DAY;

  // Accounts: one per company of the shared people world; duplicate names happen, as in real CRMs.
  const accounts: StoredRecord[] = [];
  const accountByName = new Map<string, number>();
  for (let i = 0; i < counts.Account; i++) {
    const r = root.fork(`account:${i}`);
    const name = companyName(seed, i);
    if (!accountByName.has(name)) accountByName.set(name, i);
    const domain = name.toLowerCase().normalize('NFD').replace(/[^a-z]+/g, '').slice(0, 24);
    const created = WORLD_START + Math.floor((i / counts.Account) * span * 0.6) + between(r, 0, DAY);
    accounts.push({
      Id: sfId(KEY_PREFIX.Account, SEED_ID_BASE + i),
      Name: name,
      Type: r.pick(['Prospect', 'Prospect', 'Customer', 'Partner', 'Other']),
      Industry: r.chance(0.1) ? null : r.pick(INDUSTRIES),
      BillingCountry: r.chance(0.15) ? null : r.pick(['Singapore', 'Malaysia', 'France', 'Germany', 'Vietnam', 'Indonesia', 'Australia', 'United Kingdom', 'Hong Kong', 'Thailand']),
      Website: r.chance(0.3) ? null : `https://www.${domain}.com`,
      NumberOfEmployees: r.chance(0.25) ? null : r.int(5, 25_000),
      AnnualRevenue: r.chance(0.5) ? null : r.int(1, 5_000) * 100_000,
      Description: r.chance(0.02) ? `${r.pick(DESCRIPTIONS)} ${'Long history of projects. '.repeat(r.int(50, 400))}` : r.chance(0.1) ? r.pick(DESCRIPTIONS) : null,
      OwnerId: r.pick(ownerIds),
      ...audit(r, created, 0.4),
    });
    Object.assign(accounts[i], accountNovadeFields(root.fork(`account-novade:${i}`), accounts[i], i));
  }
  const accountFor = (company: string, r: Rng): string | null => {
    if (r.chance(0.05)) return null; // private contacts
    const index = accountByName.get(company) ?? r.int(0, counts.Account - 1);
    return accounts[index].Id as string;
  };

  // Contacts, in creation order (ids grow with CreatedDate, as real ids do).
  const contacts: StoredRecord[] = [];
  for (let i = 0; i < counts.Contact; i++) {
    const r = root.fork(`contact:${i}`);
    const p = person(seed, i);
    const share = i / counts.Contact;
    const imported = CONTACT_IMPORTS.find((b) => share >= b.from && share < b.to);
    const created = imported ? imported.at : WORLD_START + Math.floor(share * span) + between(r, 0, 12 * 3_600_000);
    const a = audit(r, created, imported ? 0.35 : 0.5);
    contacts.push({
      Id: sfId(KEY_PREFIX.Contact, SEED_ID_BASE + i),
      AccountId: accountFor(p.company, r),
      FirstName: p.firstName,
      LastName: clip('Contact', 'LastName', p.lastName),
      Name: compoundName(p.firstName, clip('Contact', 'LastName', p.lastName)),
      Email: p.email,
      Title: p.title,
      Phone: p.phone,
      MailingCountry: p.country,
      LeadSource: r.chance(0.2) ? null : r.pick(LEAD_SOURCES),
      HasOptedOutOfEmail: r.chance(0.05),
      Description: r.chance(0.03) ? r.pick(DESCRIPTIONS) : null,
      OwnerId: r.pick(ownerIds),
      ...a,
    });
    // Custom fields come from a generator of their own: the standard fields above stay what they were.
    const custom = root.fork(`contact-novade:${i}`);
    Object.assign(contacts[i], { Job_Role__c: custom.chance(0.3) ? null : custom.pick(JOB_ROLES) });
  }

  // Leads; converted ones point at the contact they became, created some weeks before it.
  const leads: StoredRecord[] = [];
  for (let k = 0; k < counts.Lead; k++) {
    const r = root.fork(`lead:${k}`);
    const converted = r.chance(0.18);
    const contactIndex = converted ? convertedContactIndex(k, counts) : -1;
    const contact = converted ? contacts[contactIndex] : undefined;
    const p = person(seed, converted ? contactIndex : LEAD_PERSON_OFFSET + k);
    let fields: Record<string, FieldValue>;
    let a: Audit;
    if (contact) {
      const convertedAt = contact.CreatedDate as number;
      const created = Math.max(WORLD_START, convertedAt - between(r, DAY, 90 * DAY));
      a = audit(r, created, 0);
      const stamp = Math.max(convertedAt, a.SystemModstamp);
      a = { ...a, LastModifiedDate: Math.max(convertedAt, a.LastModifiedDate), SystemModstamp: stamp };
      fields = {
        Status: 'Closed - Converted',
        IsConverted: true,
        ConvertedDate: toSfDate(convertedAt),
        ConvertedContactId: contact.Id,
        ConvertedAccountId: contact.AccountId,
        ConvertedOpportunityId: null,
      };
    } else {
      a = audit(r, WORLD_START + Math.floor((k / counts.Lead) * span) + between(r, 0, DAY), 0.45);
      fields = {
        Status: r.pick(['Open - Not Contacted', 'Open - Not Contacted', 'Working - Contacted', 'Closed - Not Converted']),
        IsConverted: false,
        ConvertedDate: null,
        ConvertedContactId: null,
        ConvertedAccountId: null,
        ConvertedOpportunityId: null,
      };
    }
    leads.push({
      Id: sfId(KEY_PREFIX.Lead, SEED_ID_BASE + k),
      FirstName: p.firstName,
      LastName: clip('Lead', 'LastName', p.lastName),
      Name: compoundName(p.firstName, clip('Lead', 'LastName', p.lastName)),
      Email: p.email,
      Title: p.title,
      Phone: p.phone,
      Company: r.chance(0.03) ? '[not provided]' : p.company,
      Country: r.chance(0.1) ? null : p.country,
      LeadSource: r.chance(0.15) ? null : r.pick(LEAD_SOURCES),
      Rating: r.chance(0.5) ? null : r.pick(['Hot', 'Warm', 'Cold']),
      ...fields,
      OwnerId: r.pick(ownerIds),
      ...a,
    });
  }

  // Opportunities: closed ones ended before the export, open ones keep moving after it.
  const opportunities: StoredRecord[] = [];
  const stagePlan: StagePlanStep[] = [];
  for (let i = 0; i < counts.Opportunity; i++) {
    const r = root.fork(`opportunity:${i}`);
    const id = sfId(KEY_PREFIX.Opportunity, SEED_ID_BASE + i);
    const account = accounts[r.int(0, accounts.length - 1)];
    const created = sec(WORLD_START + Math.floor((i / counts.Opportunity) * span) + between(r, 0, DAY));
    const age = SEED_AS_OF - created;
    const open = r.chance(age < 180 * DAY ? 0.7 : 0.08);
    let stage: string;
    let closeAt: number;
    let modified: number;
    if (open) {
      stage = OPEN_STAGES[r.int(0, OPEN_STAGES.length - 1)];
      modified = sec(between(r, created, SEED_AS_OF - MINUTE));
      closeAt = SEED_AS_OF + between(r, 10 * DAY, 180 * DAY);
      // The plan from here: climb some stages, then win or lose.
      let afterMs = r.chance(0.05) ? between(r, 5_000, 10 * MINUTE) : Math.floor(exponential(r, 3 * DAY));
      for (let s = OPEN_STAGES.indexOf(stage) + 1; ; s++) {
        const next = s >= OPEN_STAGES.length || r.chance(0.25) ? (r.chance(0.4) ? 'Closed Won' : 'Closed Lost') : OPEN_STAGES[s];
        stagePlan.push({ opportunityId: id, afterMs, stage: next });
        if (next.startsWith('Closed')) break;
        afterMs += Math.floor(exponential(r, 6 * DAY)) + 1_000;
      }
    } else {
      stage = r.chance(0.38) ? 'Closed Won' : 'Closed Lost';
      closeAt = Math.min(SEED_AS_OF - DAY, created + between(r, 20 * DAY, 200 * DAY));
      modified = sec(between(r, closeAt, Math.min(SEED_AS_OF - MINUTE, closeAt + 2 * DAY)));
    }
    const a = audit(r, created, 0);
    if (a.IsDeleted) a.LastModifiedDate = a.SystemModstamp = sec(between(r, modified, SEED_AS_OF - MINUTE));
    else {
      a.LastModifiedDate = modified;
      a.SystemModstamp = Math.max(modified, a.SystemModstamp);
    }
    opportunities.push({
      Id: id,
      AccountId: r.chance(0.02) ? null : account.Id,
      Name: clip('Opportunity', 'Name', `${account.Name} - ${r.pick(PRODUCTS)}${r.chance(0.3) ? ` (${r.int(10, 2_000)} users)` : ''}`),
      StageName: stage,
      Amount: r.chance(0.15) ? null : r.chance(0.1) ? r.int(100_000, 5_000_000) / 100 : r.int(50, 5_000) * 100,
      CloseDate: toSfDate(closeAt),
      ...stageFields(stage),
      Type: r.chance(0.1) ? null : r.pick(['New Business', 'New Business', 'Existing Business - Upgrade', 'Renewal']),
      LeadSource: r.chance(0.3) ? null : r.pick(LEAD_SOURCES),
      NextStep: r.chance(0.6) ? null : r.pick(NEXT_STEPS),
      Description: r.chance(0.01) ? `${r.pick(DESCRIPTIONS)}\n${'Negotiation notes, "quoted", with commas. '.repeat(r.int(100, 600))}` : r.chance(0.05) ? r.pick(DESCRIPTIONS) : null,
      OwnerId: r.pick(ownerIds),
      ...a,
    });
  }
  stagePlan.sort((x, y) => x.afterMs - y.afterMs || (x.opportunityId < y.opportunityId ? -1 : 1));

  // Projects (custom object Project__c): construction sites of accounts created before them.
  const projects: StoredRecord[] = [];
  for (let i = 0; i < counts.Project__c; i++) {
    const r = root.fork(`project:${i}`);
    const created = sec(WORLD_START + span * 0.1 + Math.floor((i / counts.Project__c) * span * 0.9) + between(r, 0, DAY));
    const known = Math.max(1, Math.min(accounts.length, Math.floor(((created - WORLD_START - DAY) / (span * 0.6)) * accounts.length)));
    const account = accounts[r.int(0, known - 1)];
    const status = r.pick(PROJECT_STATUSES);
    projects.push({
      Id: sfId(KEY_PREFIX.Project__c, SEED_ID_BASE + i),
      Name: clip('Project__c', 'Name', `${String(account.Name)} ${r.pick(PROJECT_KINDS)} ${r.int(1, 40)}`),
      Account__c: r.chance(0.03) ? null : account.Id,
      Status__c: status,
      Contract_Value__c: r.chance(0.2) ? null : r.int(200, 80_000) * 50,
      Site_Count__c: r.chance(0.1) ? null : r.int(1, 30),
      Start_Date__c: status === 'Planning' && r.chance(0.5) ? null : toSfDate(created + between(r, 0, 120 * DAY)),
      OwnerId: r.pick(ownerIds),
      ...audit(r, created, 0.5),
    });
  }

  return {
    seed,
    scale,
    asOf: SEED_AS_OF,
    ownerIds,
    records: { Account: accounts, Contact: contacts, Lead: leads, Opportunity: opportunities, Project__c: projects },
    stagePlan,
  };
}
