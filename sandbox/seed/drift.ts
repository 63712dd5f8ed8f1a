import type { DriftContact, DriftConversation, DriftMeeting, DriftMessage, DriftPlaybook, DriftUser, DriftWorld, ConversationStatus } from '../drift/model';
import { BOT_BUTTONS, agentLine, botFollowUp, botOpener, privateNote, visitorLine } from './drift-text';
import { person } from './people';
import { Rng } from './random';

/**
 * The sandbox's Drift account, a pure function of (seed, scale, anchor). Visitors who left an email are
 * people of the shared sandbox world (Salesforce Contacts are person indexes 0..36,999, Leads 37,000..56,999),
 * so a Drift contact and a Salesforce record with the same email are the same person; the rest are anonymous
 * visitors. The messiness is the CRM's: missing and duplicated emails (Drift does not enforce unique email),
 * case and whitespace variants, contacts without names, returning visitors with several conversations,
 * visitors identified after their first chat.
 *
 * Timestamps are relative to `anchorMs` (the emulator's start), so "the last 30 days" of meetings always has
 * data; a fixed anchor makes the world byte-for-byte reproducible.
 */

export const DRIFT_ORG_ID = 21_000;
/** People 0..56,999 exist in Salesforce (Contacts then Leads). */
export const KNOWN_PEOPLE = 57_000;
/** Scale 1 = 2,000 conversations (~15,000 messages); the bench's 20,000 / 150,000 is scale 10. */
export const CONVERSATIONS_PER_SCALE = 2_000;

const DAY = 86_400_000;
const INBOX_IDS = [71_001, 71_002];
const FIRST_CONTACT_ID = 16_000_000_000;
const FIRST_CONVERSATION_ID = 3_700_000_000;
/** Message ids are conversationId * 1,000 + n, unique and increasing within a conversation. */
export const MESSAGES_PER_CONVERSATION_ID_SPACE = 1_000;

export interface DriftSeedOptions {
  seed: number;
  scale: number;
  anchorMs: number;
  /** How far back conversations go; default 180 days. */
  historyDays?: number;
}

const AGENTS: Array<[string, string]> = [
  ['Amelia Tan', 'Asia/Singapore'],
  ['Benoît Laurent', 'Europe/Paris'],
  ['Chloe Wong', 'Asia/Hong_Kong'],
  ['Daniel Ng', 'Asia/Singapore'],
  ['Élodie Martin', 'Europe/Paris'],
  ['Farid Hassan', 'Asia/Kuala_Lumpur'],
  ['Grace Lim', 'Asia/Singapore'],
  ['Hannes Becker', 'Europe/Berlin'],
  ['Ivy Tran', 'Asia/Ho_Chi_Minh'],
  ['James Carter', 'Australia/Sydney'],
];

const TAGS = [
  { name: 'Hot Lead', color: '#e74c3c' },
  { name: 'Existing Customer', color: '#2ecc71' },
  { name: 'Partner', color: '#3498db' },
  { name: 'Spam', color: '#95a5a6' },
];

const slug = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]+/g, '.');

function makeUsers(anchorMs: number): DriftUser[] {
  const created = anchorMs - 900 * DAY;
  const humans: DriftUser[] = AGENTS.map(([name, timeZone], i) => ({
    id: 501_001 + i,
    orgId: DRIFT_ORG_ID,
    name,
    alias: name.split(' ')[0],
    email: `${slug(name)}@novade.net`,
    phone: i % 3 === 0 ? undefined : `+65 6${100 + i} 00${10 + i}`,
    locale: timeZone.startsWith('Europe') ? 'fr-FR' : 'en-US',
    availability: (['AVAILABLE', 'OFFLINE', 'ON_CALL'] as const)[i % 3],
    role: i === 0 ? 'admin' : i < 4 ? 'member' : 'agent',
    timeZone,
    avatarUrl: `https://avatars.sandbox.drift.invalid/${501_001 + i}.png`,
    verified: true,
    bot: false,
    createdAt: created + i * DAY,
    updatedAt: anchorMs - (i + 1) * 7 * DAY,
  }));
  const bots: DriftUser[] = ['Drift Bot', 'Novade Assistant'].map((name, i) => ({
    id: 509_001 + i,
    orgId: DRIFT_ORG_ID,
    name,
    email: `bot+${i}@novade.net`,
    locale: 'en-US',
    availability: 'AVAILABLE',
    role: 'agent',
    avatarUrl: `https://avatars.sandbox.drift.invalid/bot-${i}.png`,
    verified: false,
    bot: true,
    createdAt: created,
    updatedAt: created,
  }));
  return [...humans, ...bots];
}

function makePlaybooks(anchorMs: number): DriftPlaybook[] {
  const names: Array<[string, string]> = [
    ['Homepage welcome', 'BOOK_MORE_MEETINGS'],
    ['Pricing page', 'BOOK_MORE_MEETINGS'],
    ['Demo request', 'BOOK_MORE_MEETINGS'],
    ['Support triage', 'OTHER'],
    ['Webinar follow-up', 'CAPTURE_LEADS'],
    ['FR - Bienvenue', 'CAPTURE_LEADS'],
  ];
  return names.map(([name, reportType], i) => ({
    id: 120_001 + i,
    name,
    orgId: DRIFT_ORG_ID,
    createdAt: anchorMs - (400 - i * 30) * DAY,
    updatedAt: anchorMs - (60 - i * 5) * DAY,
    reportType,
    goals: [
      { id: `${120_001 + i}-email-captured`, message: 'Email captured' },
      { id: `${120_001 + i}-meeting-booked`, message: 'Meeting booked' },
    ],
  }));
}

/** The email as the visitor typed it into the chat: the CRM's value, sometimes in another case or padded. */
function typedEmail(r: Rng, email: string): string {
  if (r.chance(0.05)) return email === email.toLowerCase() ? email.charAt(0).toUpperCase() + email.slice(1) : email.toLowerCase();
  if (r.chance(0.02)) return `${email} `;
  return email;
}

function knownContact(r: Rng, seed: number, id: number, personIndex: number, createdAt: number): DriftContact {
  const p = person(seed, personIndex);
  const attributes: DriftContact['attributes'] = { tags: [], events: {}, socialProfiles: {}, start_date: createdAt, last_active: createdAt, externalId: null };
  if (p.email !== null) attributes.email = typedEmail(r, p.email);
  if (!r.chance(0.1)) attributes.name = [p.firstName, p.lastName].filter(Boolean).join(' ');
  if (p.phone !== null && r.chance(0.5)) attributes.phone = p.phone;
  if (r.chance(0.7)) attributes.company = p.company;
  if (p.title !== null && r.chance(0.4)) attributes.title = p.title;
  if (r.chance(0.05)) attributes.externalId = `nvd-${personIndex}`;
  attributes.original_ip = `203.0.113.${r.int(1, 254)}`;
  return { id, createdAt, attributes };
}

function anonymousContact(r: Rng, id: number, createdAt: number): DriftContact {
  return {
    id,
    createdAt,
    attributes: { tags: [], events: {}, socialProfiles: {}, start_date: createdAt, last_active: createdAt, externalId: null, original_ip: `198.51.100.${r.int(1, 254)}` },
  };
}

export function generateDriftWorld(opts: DriftSeedOptions): DriftWorld {
  const root = new Rng(opts.seed).fork('drift');
  const historyMs = (opts.historyDays ?? 180) * DAY;
  const conversationCount = opts.scale <= 0 ? 0 : Math.max(1, Math.round(CONVERSATIONS_PER_SCALE * opts.scale));
  const users = makeUsers(opts.anchorMs);
  const humans = users.filter((u) => !u.bot);
  const bots = users.filter((u) => u.bot);
  const playbooks = makePlaybooks(opts.anchorMs);

  const contacts: DriftContact[] = [];
  const contactsByPerson = new Map<number, DriftContact>();
  const personOfContact = new Map<number, number>();
  const conversations: DriftConversation[] = [];
  const messages = new Map<number, DriftMessage[]>();
  const meetings: DriftMeeting[] = [];
  const pick = root.fork('contacts');

  for (let i = 0; i < conversationCount; i++) {
    const r = root.fork(`conversation:${i}`);
    const createdAt = Math.floor(opts.anchorMs - historyMs + ((i + r.next()) * historyMs) / Math.max(conversationCount, 1));

    // Returning visitors chat again; a known person sometimes gets a second Drift contact (email isn't unique in Drift).
    let contact: DriftContact;
    if (contacts.length > 0 && pick.chance(0.25)) contact = contacts[pick.int(0, contacts.length - 1)];
    else if (pick.chance(0.65)) {
      const personIndex = pick.int(0, KNOWN_PEOPLE - 1);
      const existing = contactsByPerson.get(personIndex);
      if (existing && !pick.chance(0.3)) contact = existing;
      else {
        contact = knownContact(pick, opts.seed, FIRST_CONTACT_ID + contacts.length, personIndex, createdAt);
        contacts.push(contact);
        personOfContact.set(contact.id, personIndex);
        if (!existing) contactsByPerson.set(personIndex, contact);
      }
    } else {
      contact = anonymousContact(pick, FIRST_CONTACT_ID + contacts.length, createdAt);
      // Some anonymous visitors give their email later in the chat and become a known person.
      if (pick.chance(0.15)) {
        const p = person(opts.seed, pick.int(0, KNOWN_PEOPLE - 1));
        if (p.email !== null) {
          contact.attributes.email = typedEmail(pick, p.email);
          personOfContact.set(contact.id, p.index);
        }
      }
      contacts.push(contact);
    }

    const id = FIRST_CONVERSATION_ID + i;
    const statusRoll = r.next();
    const status: ConversationStatus = statusRoll < 0.03 ? 'bulk_sent' : statusRoll < 0.73 ? 'closed' : statusRoll < 0.91 ? 'open' : 'pending';
    const playbook = status === 'bulk_sent' || r.chance(0.6) ? r.pick(playbooks) : undefined;
    const bot = r.pick(bots);
    const agents = [r.pick(humans), ...(r.chance(0.2) ? [r.pick(humans)] : [])];

    const list: DriftMessage[] = [];
    let t = createdAt;
    const post = (author: DriftMessage['author'], body: string | undefined, extra: Partial<DriftMessage> = {}) => {
      list.push({ id: id * MESSAGES_PER_CONVERSATION_ID_SPACE + list.length, orgId: DRIFT_ORG_ID, body, author, type: 'chat', conversationId: id, createdAt: t, ...extra });
      t += r.int(5_000, 20 * 60_000);
      if (r.chance(0.05)) t += r.int(1, 10) * DAY; // the visitor comes back days later
    };
    const visitor = { type: 'contact' as const, id: contact.id, bot: false };
    const botAuthor = { type: 'user' as const, id: bot.id, bot: true };
    if (playbook) post(botAuthor, botOpener(r), { buttons: r.chance(0.5) ? BOT_BUTTONS : undefined, attributes: { playbookId: playbook.id } });
    if (status !== 'bulk_sent') {
      const count = r.int(2, 13) + (r.chance(0.3) ? 1 : 0) - (playbook ? 1 : 0);
      for (let n = 0; n < count; n++) {
        const roll = r.next();
        if (n === 0 || roll < 0.45) post(visitor, visitorLine(r), n === 0 ? { context: { ip: String(contact.attributes.original_ip ?? ''), userAgent: 'Mozilla/5.0 (sandbox)' } } : {});
        else if (roll < 0.55 && playbook) post(botAuthor, botFollowUp(r));
        else if (roll < 0.65) post({ type: 'user', id: r.pick(agents).id, bot: false }, privateNote(r), { type: 'private_note' });
        else post({ type: 'user', id: r.pick(agents).id, bot: false }, agentLine(r));
      }
    }
    // A conversation can't end in the future: shift it back if its last message would.
    const overshoot = list[list.length - 1].createdAt - (opts.anchorMs - 60_000);
    if (overshoot > 0) for (const m of list) m.createdAt -= overshoot;
    messages.set(id, list);

    const participants = [...new Set(list.filter((m) => m.author.type === 'user' && !m.author.bot).map((m) => m.author.id))];
    conversations.push({
      id,
      orgId: DRIFT_ORG_ID,
      participants: participants.length > 0 ? participants : [agents[0].id],
      status,
      contactId: contact.id,
      inboxId: r.pick(INBOX_IDS),
      createdAt: list[0].createdAt,
      // Closing happens a little after the last message, but never after the anchor.
      updatedAt: Math.min(list[list.length - 1].createdAt + (status === 'closed' ? r.int(1_000, 3_600_000) : 0), opts.anchorMs - 1_000),
      relatedPlaybookId: playbook?.id,
      conversationTags: r.chance(0.15) ? [r.pick(TAGS)] : [],
    });
    if (contact.attributes.last_active === undefined || contact.attributes.last_active < list[list.length - 1].createdAt) contact.attributes.last_active = list[list.length - 1].createdAt;

    if (contact.attributes.email !== undefined && status !== 'bulk_sent' && r.chance(0.1)) {
      const scheduledAt = list[Math.min(list.length - 1, 2)].createdAt;
      const slotStart = Math.ceil((scheduledAt + r.int(1, 10) * DAY) / 1_800_000) * 1_800_000;
      const agent = agents[0];
      meetings.push({
        agentId: agent.id,
        orgId: DRIFT_ORG_ID,
        status: r.chance(0.1) ? 'CANCELED' : 'ACTIVE',
        meetingSource: r.pick(['CONVERSATION', 'EMAIL_DROP', 'TEAM_PAGE']),
        schedulerId: contact.id,
        eventId: `evt-${id.toString(36)}-${r.int(1000, 9999)}`,
        slug: `${slug(agent.name).replace(/\./g, '-')}-${id.toString(36)}`,
        slotStart,
        slotEnd: slotStart + (r.chance(0.7) ? 30 : 60) * 60_000,
        updatedAt: scheduledAt,
        scheduledAt,
        meetingType: 'New Meeting',
        conversationId: id,
        endUserTimeZone: r.pick(['Asia/Singapore', 'Europe/Paris', 'Asia/Kuala_Lumpur', undefined]),
        meetingNotes: r.chance(0.3) ? 'Wants to see the inspections module' : undefined,
        bookedBy: r.chance(0.2) ? agent.id : undefined,
      });
    }
  }
  return { orgId: DRIFT_ORG_ID, inboxIds: INBOX_IDS, users, playbooks, contacts, conversations, messages, meetings, personOfContact };
}
