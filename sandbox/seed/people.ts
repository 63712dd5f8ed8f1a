import { Rng } from './random';

/**
 * The people of the sandbox world, shared by the Salesforce and Drift emulators so that a Drift
 * visitor and a Salesforce contact with the same email are the same person (Amplitude user_id).
 * Person i is a pure function of (seed, i).
 */
export interface Person {
  index: number;
  firstName: string | null;
  lastName: string;
  /** Null for the CRM's usual share of records without email; some emails are shared by two people. */
  email: string | null;
  title: string | null;
  company: string;
  phone: string | null;
  country: string;
}

const FIRST = ['Wei Ming', 'Siti', 'Arjun', 'Chloé', 'Jürgen', 'Thanh', 'Ahmad', 'Mei Ling', 'Olivia', 'Rafael', 'Søren', 'Zoë', 'Kenji', 'Priya', 'Lucas', 'Fatimah', 'Hiroshi', 'Ana', 'Nguyễn', 'Ólafur', 'Marie', 'Björn', 'Daniel', 'Aisyah'];
const LAST = ['Tan', 'Lim', 'Ng', 'Dubois', 'Müller', 'Nguyen', 'Rahman', 'Chen', 'Smith', 'García', 'Jørgensen', 'O\'Brien', 'Sato', 'Iyer', 'Martin', 'Abdullah', 'Yamamoto', 'Silva', 'Trần', 'Sigurðsson', 'Lefèvre', 'Andersson', 'Lee', 'Ismail'];
const TITLES = ['Project Manager', 'Site Engineer', 'QA/QC Manager', 'HSE Officer', 'Construction Director', 'BIM Coordinator', 'Procurement Lead', 'CEO', 'Operations Manager', 'Facility Manager'];
const COMPANY_PARTS = ['Straits', 'Lion City', 'Pacific', 'Orchard', 'Marina', 'Keppel', 'Lumière', 'Nordbau', 'Sunway', 'Harbour', 'Emerald', 'Summit'];
const COMPANY_KINDS = ['Construction Pte Ltd', 'Builders', 'Engineering Sdn Bhd', 'Bâtiment SA', 'Bau GmbH', 'Infrastructure', 'Contractors', 'Facilities Management'];
const COUNTRIES = ['SG', 'MY', 'FR', 'DE', 'VN', 'ID', 'AU', 'GB', 'HK', 'TH'];
const DOMAINS = ['gmail.com', 'outlook.com', 'yahoo.com'];

export const COMPANY_COUNT = 3_000;

export function companyName(seed: number, i: number): string {
  const r = new Rng(seed).fork(`company:${i}`);
  return `${r.pick(COMPANY_PARTS)} ${r.pick(COMPANY_PARTS)} ${r.pick(COMPANY_KINDS)}`.replace(/^(\S+) \1/, '$1');
}

function slug(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.|\.$/g, '');
}

export function person(seed: number, index: number): Person {
  const r = new Rng(seed).fork(`person:${index}`);
  const firstName = r.chance(0.02) ? null : r.pick(FIRST);
  const lastName = r.chance(0.005) ? `${r.pick(LAST)}-${'x'.repeat(260)}` : r.pick(LAST);
  const companyIndex = r.int(0, COMPANY_COUNT - 1);
  const company = companyName(seed, companyIndex);
  let email: string | null;
  if (r.chance(0.06)) email = null;
  else if (r.chance(0.015)) email = `${slug(firstName ?? 'info')}@${slug(company).split('.')[0]}`; // no TLD: invalid
  else if (r.chance(0.02) && index > 0) email = person(seed, index - 1).email; // duplicate email
  else {
    const domain = r.chance(0.3) ? r.pick(DOMAINS) : `${slug(company).split('.').slice(0, 2).join('')}.com`;
    email = `${slug(firstName ?? 'contact')}.${slug(lastName).slice(0, 20)}${index}@${domain}`;
    if (r.chance(0.03)) email = email.toUpperCase(); // mixed case in the CRM; identity lower-cases it
  }
  return {
    index,
    firstName,
    lastName,
    email,
    title: r.chance(0.15) ? null : r.pick(TITLES),
    company,
    phone: r.chance(0.3) ? null : `+65 ${r.int(6000, 9999)} ${r.int(1000, 9999)}`,
    country: r.pick(COUNTRIES),
  };
}
