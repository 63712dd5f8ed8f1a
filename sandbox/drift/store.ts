import type { ContactTag, ConversationStatus, DriftContact, DriftConversation, DriftMeeting, DriftMessage, DriftPlaybook, DriftUser, DriftWorld, MessageButton } from './model';
import { MESSAGES_PER_CONVERSATION_ID_SPACE } from '../seed/drift';

/**
 * The Drift account behind the emulator: the seeded world plus what tests do to it. Reads serve the API
 * routes; mutations (a visitor writes, an agent answers, a meeting is booked...) change the data the way
 * Drift would, bump `updatedAt` so the conversation moves to the top of the list, and emit the webhook
 * event Drift would send.
 */

export type DriftEventType = 'new_conversation' | 'new_message' | 'contact_identified' | 'contact_updated' | 'new_meeting' | 'playbook_goal_met';
export type Emit = (type: DriftEventType, data: unknown) => void;

export interface ConversationCursor {
  updatedAt: number;
  id: number;
}

export interface NewMessage {
  /** Default: the conversation's contact. A user without id is the conversation's first participant. */
  author?: { type: 'contact' } | { type: 'user'; id?: number; bot?: boolean };
  body?: string;
  type?: 'chat' | 'private_note';
  buttons?: MessageButton[];
  /** Default: now. */
  createdAt?: number;
}

export interface NewConversation {
  contactId?: number;
  /** Finds the contact with this email, or creates one (the visitor typed it into the widget). */
  email?: string;
  body?: string;
  playbookId?: number;
  inboxId?: number;
}

export interface NewMeeting {
  contactId?: number;
  conversationId?: number;
  agentId?: number;
  /** Default: tomorrow, on the half hour. */
  slotStart?: number;
  durationMinutes?: number;
  meetingSource?: string;
}

const MEETINGS_LOOKBACK_MS = 30 * 86_400_000;
const MAX_MEETINGS_PER_REQUEST = 1_000;

/** Newest updatedAt first; ties by id, newest first, so the order is total and a cursor is unambiguous. */
const newestFirst = (a: ConversationCursor, b: ConversationCursor) => b.updatedAt - a.updatedAt || b.id - a.id;
const normalizeEmail = (email: string) => email.trim().toLowerCase();

export class DriftStore {
  readonly orgId: number;
  private readonly conversations = new Map<number, DriftConversation>();
  private readonly ordered: DriftConversation[];
  private readonly messages: Map<number, DriftMessage[]>;
  private readonly contacts = new Map<number, DriftContact>();
  private readonly byEmail = new Map<string, number[]>();
  private readonly byExternalId = new Map<string, number>();
  private readonly users: DriftUser[];
  private readonly playbookList: DriftPlaybook[];
  private readonly meetingList: DriftMeeting[];
  private readonly inboxIds: number[];
  private readonly personOfContact: Map<number, number>;
  private nextContactId: number;
  private nextConversationId: number;
  private meetingsBooked = 0;

  constructor(
    world: DriftWorld,
    private readonly now: () => Date,
    private readonly emit: Emit = () => undefined,
  ) {
    this.orgId = world.orgId;
    for (const c of world.conversations) this.conversations.set(c.id, c);
    this.ordered = [...world.conversations].sort(newestFirst);
    this.messages = world.messages;
    for (const c of world.contacts) this.indexContact(c);
    this.users = world.users;
    this.playbookList = world.playbooks;
    this.meetingList = [...world.meetings].sort((a, b) => a.slotStart - b.slotStart);
    this.inboxIds = world.inboxIds;
    this.personOfContact = world.personOfContact;
    this.nextContactId = world.contacts.reduce((max, c) => Math.max(max, c.id + 1), 16_000_000_000);
    this.nextConversationId = world.conversations.reduce((max, c) => Math.max(max, c.id + 1), 3_700_000_000);
  }

  // ---- reads -------------------------------------------------------------------------------------

  /** A page of conversations after `after`, newest updatedAt first, optionally only some statuses. */
  listConversations(opts: { limit: number; statusIds?: ConversationStatus[]; after?: ConversationCursor }): { page: DriftConversation[]; more: boolean } {
    let i = opts.after ? this.firstAfter(opts.after) : 0;
    const page: DriftConversation[] = [];
    const wanted = opts.statusIds && opts.statusIds.length > 0 ? new Set(opts.statusIds) : undefined;
    for (; i < this.ordered.length && page.length < opts.limit; i++) {
      if (!wanted || wanted.has(this.ordered[i].status)) page.push(this.ordered[i]);
    }
    for (; i < this.ordered.length; i++) if (!wanted || wanted.has(this.ordered[i].status)) return { page, more: true };
    return { page, more: false };
  }

  conversation(id: number): DriftConversation | undefined {
    return this.conversations.get(id);
  }

  conversationCount(): number {
    return this.conversations.size;
  }

  messagesOf(conversationId: number): DriftMessage[] | undefined {
    return this.messages.get(conversationId);
  }

  messageCount(): number {
    let n = 0;
    for (const list of this.messages.values()) n += list.length;
    return n;
  }

  contact(id: number): DriftContact | undefined {
    return this.contacts.get(id);
  }

  /** Every contact with this email (Drift doesn't keep emails unique), ignoring case and padding. */
  contactsByEmail(email: string, limit = Number.POSITIVE_INFINITY): DriftContact[] {
    return (this.byEmail.get(normalizeEmail(email)) ?? []).slice(0, limit).map((id) => this.contacts.get(id) as DriftContact);
  }

  contactByExternalId(externalId: string): DriftContact | undefined {
    const id = this.byExternalId.get(externalId);
    return id === undefined ? undefined : this.contacts.get(id);
  }

  allContacts(): DriftContact[] {
    return [...this.contacts.values()];
  }

  /** The sandbox person a contact is (for tests linking Drift to Salesforce); undefined for anonymous visitors. */
  personIndexOf(contactId: number): number | undefined {
    return this.personOfContact.get(contactId);
  }

  userList(): DriftUser[] {
    return this.users;
  }

  user(id: number): DriftUser | undefined {
    return this.users.find((u) => u.id === id);
  }

  playbooks(): DriftPlaybook[] {
    return this.playbookList;
  }

  /** Booked meetings whose slot starts in [min, max]; Drift only returns the last 30 days and at most 1,000. */
  meetingsBetween(minStart: number, maxStart: number): DriftMeeting[] {
    const from = Math.max(minStart, this.now().getTime() - MEETINGS_LOOKBACK_MS);
    return this.meetingList.filter((m) => m.slotStart >= from && m.slotStart <= maxStart).slice(0, MAX_MEETINGS_PER_REQUEST);
  }

  allMeetings(): DriftMeeting[] {
    return [...this.meetingList];
  }

  // ---- mutations ---------------------------------------------------------------------------------

  createContact(attributes: { email?: string; name?: string; [custom: string]: unknown } = {}): DriftContact {
    const t = this.now().getTime();
    const contact: DriftContact = { id: this.nextContactId++, createdAt: t, attributes: { tags: [], events: {}, socialProfiles: {}, start_date: t, last_active: t, externalId: null, ...attributes } };
    this.indexContact(contact);
    return contact;
  }

  /** The visitor typed their email into the chat: Drift's `contact_identified`. */
  identifyContact(contactId: number, identity: { email: string; name?: string }): DriftContact {
    const contact = this.mustContact(contactId);
    this.unindexEmail(contact);
    contact.attributes.email = identity.email;
    if (identity.name !== undefined) contact.attributes.name = identity.name;
    this.indexContact(contact);
    this.emit('contact_identified', contact);
    return contact;
  }

  /** Any attribute change: Drift's `contact_updated`, with the documented diff. */
  updateContact(contactId: number, attributes: Record<string, unknown>): DriftContact {
    const contact = this.mustContact(contactId);
    const diff = Object.entries(attributes)
      .filter(([k, v]) => JSON.stringify(contact.attributes[k]) !== JSON.stringify(v))
      .map(([k, v]) => ({ name: `attributes.${k}`, previous: contact.attributes[k] ?? null, updated: v }));
    this.unindexEmail(contact);
    Object.assign(contact.attributes, attributes);
    this.indexContact(contact);
    if (diff.length > 0) this.emit('contact_updated', { endUserId: contact.id, timestamp: this.now().getTime(), orgId: this.orgId, diff });
    return contact;
  }

  createConversation(input: NewConversation = {}): { conversation: DriftConversation; messages: DriftMessage[] } {
    const t = this.now().getTime();
    let contactId = input.contactId;
    if (contactId === undefined && input.email !== undefined) contactId = (this.contactsByEmail(input.email)[0] ?? this.createContact({ email: input.email })).id;
    const contact = contactId === undefined ? this.createContact() : this.mustContact(contactId);
    const human = this.users.find((u) => !u.bot) as DriftUser;
    const conversation: DriftConversation = {
      id: this.nextConversationId++,
      orgId: this.orgId,
      participants: [human.id],
      status: 'open',
      contactId: contact.id,
      inboxId: input.inboxId ?? this.inboxIds[0],
      createdAt: t,
      updatedAt: t,
      relatedPlaybookId: input.playbookId,
      conversationTags: [],
    };
    this.conversations.set(conversation.id, conversation);
    this.messages.set(conversation.id, []);
    this.insertOrdered(conversation);
    this.emit('new_conversation', conversation);
    const posted: DriftMessage[] = [];
    if (input.playbookId !== undefined) {
      const bot = this.users.find((u) => u.bot) as DriftUser;
      posted.push(this.addMessage(conversation.id, { author: { type: 'user', id: bot.id, bot: true }, body: '<p>Hi there! 👋 How can we help?</p>', createdAt: t }));
    }
    posted.push(this.addMessage(conversation.id, { author: { type: 'contact' }, body: input.body ?? 'Hello, I have a question', createdAt: t }));
    return { conversation, messages: posted };
  }

  addMessage(conversationId: number, input: NewMessage = {}): DriftMessage {
    const conversation = this.mustConversation(conversationId);
    const list = this.messages.get(conversationId) ?? [];
    const createdAt = input.createdAt ?? this.now().getTime();
    const authorIn = input.author ?? { type: 'contact' as const };
    let author: DriftMessage['author'];
    if (authorIn.type === 'contact') author = { type: 'contact', id: conversation.contactId, bot: false };
    else {
      const id = authorIn.id ?? conversation.participants[0];
      author = { type: 'user', id, bot: authorIn.bot ?? this.user(id)?.bot ?? false };
    }
    if (author.type === 'contact' && input.type === 'private_note') throw new Error('only users can write private notes');
    const lastId = list.length > 0 ? list[list.length - 1].id : conversationId * MESSAGES_PER_CONVERSATION_ID_SPACE - 1;
    const message: DriftMessage = { id: lastId + 1, orgId: this.orgId, body: input.body, author, type: input.type ?? 'chat', conversationId, createdAt, buttons: input.buttons };
    if (message.buttons === undefined) delete message.buttons;
    list.push(message);
    this.messages.set(conversationId, list);

    // A visitor writing into a closed conversation reopens it, as in Drift.
    const status: ConversationStatus = author.type === 'contact' && conversation.status !== 'open' ? 'open' : conversation.status;
    if (author.type === 'user' && !author.bot && !conversation.participants.includes(author.id)) conversation.participants.push(author.id);
    this.touch(conversation, Math.max(createdAt, conversation.updatedAt), status);
    if (author.type === 'contact') {
      const contact = this.contacts.get(conversation.contactId);
      if (contact) contact.attributes.last_active = createdAt;
    }
    this.emit('new_message', message);
    return message;
  }

  setConversationStatus(conversationId: number, status: ConversationStatus): DriftConversation {
    const conversation = this.mustConversation(conversationId);
    this.touch(conversation, this.now().getTime(), status);
    return conversation;
  }

  setConversationTags(conversationId: number, tags: ContactTag[]): DriftConversation {
    const conversation = this.mustConversation(conversationId);
    conversation.conversationTags = tags;
    this.touch(conversation, this.now().getTime(), conversation.status);
    return conversation;
  }

  bookMeeting(input: NewMeeting): DriftMeeting {
    const t = this.now().getTime();
    const conversation = input.conversationId !== undefined ? this.mustConversation(input.conversationId) : undefined;
    const contactId = input.contactId ?? conversation?.contactId;
    if (contactId === undefined) throw new Error('bookMeeting needs a contactId or a conversationId');
    this.mustContact(contactId);
    const agentId = input.agentId ?? conversation?.participants[0] ?? (this.users.find((u) => !u.bot) as DriftUser).id;
    const slotStart = input.slotStart ?? Math.ceil((t + 86_400_000) / 1_800_000) * 1_800_000;
    const meeting: DriftMeeting = {
      agentId,
      orgId: this.orgId,
      status: 'ACTIVE',
      meetingSource: input.meetingSource ?? (conversation ? 'CONVERSATION' : 'TEAM_PAGE'),
      schedulerId: contactId,
      eventId: `evt-${t.toString(36)}-${++this.meetingsBooked}`,
      slug: `meeting-${agentId}-${t.toString(36)}-${this.meetingsBooked}`,
      slotStart,
      slotEnd: slotStart + (input.durationMinutes ?? 30) * 60_000,
      updatedAt: t,
      scheduledAt: t,
      meetingType: 'New Meeting',
      conversationId: conversation?.id,
    };
    if (meeting.conversationId === undefined) delete meeting.conversationId;
    const at = this.meetingList.findIndex((m) => m.slotStart > slotStart);
    this.meetingList.splice(at === -1 ? this.meetingList.length : at, 0, meeting);
    this.emit('new_meeting', meeting);
    return meeting;
  }

  /** A playbook goal was reached in a conversation (the payload's shape is not documented; see the report). */
  playbookGoalMet(conversationId: number, goalId?: string): { conversationId: number; playbookId: number; goalId: string; goalMessage: string; contactId: number } {
    const conversation = this.mustConversation(conversationId);
    const playbook = this.playbookList.find((p) => p.id === conversation.relatedPlaybookId) ?? this.playbookList[0];
    const goal = playbook.goals.find((g) => g.id === goalId) ?? playbook.goals[0];
    const data = { conversationId, playbookId: playbook.id, goalId: goal.id, goalMessage: goal.message, contactId: conversation.contactId };
    this.emit('playbook_goal_met', data);
    return data;
  }

  // ---- internals ---------------------------------------------------------------------------------

  private touch(conversation: DriftConversation, updatedAt: number, status: ConversationStatus): void {
    this.removeOrdered(conversation);
    conversation.updatedAt = updatedAt;
    conversation.status = status;
    this.insertOrdered(conversation);
  }

  /** Index of the first conversation strictly after the cursor in newest-first order. */
  private firstAfter(cursor: ConversationCursor): number {
    let lo = 0;
    let hi = this.ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (newestFirst(cursor, this.ordered[mid]) >= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insertOrdered(c: DriftConversation): void {
    let lo = 0;
    let hi = this.ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (newestFirst(this.ordered[mid], c) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.ordered.splice(lo, 0, c);
  }

  private removeOrdered(c: DriftConversation): void {
    const at = this.firstAfter(c) - 1;
    if (this.ordered[at] === c) this.ordered.splice(at, 1);
    else this.ordered.splice(this.ordered.indexOf(c), 1);
  }

  private indexContact(c: DriftContact): void {
    this.contacts.set(c.id, c);
    if (typeof c.attributes.email === 'string' && c.attributes.email.trim() !== '') {
      const key = normalizeEmail(c.attributes.email);
      const ids = this.byEmail.get(key) ?? [];
      if (!ids.includes(c.id)) ids.push(c.id);
      this.byEmail.set(key, ids);
    }
    if (typeof c.attributes.externalId === 'string') this.byExternalId.set(c.attributes.externalId, c.id);
  }

  private unindexEmail(c: DriftContact): void {
    if (typeof c.attributes.email !== 'string') return;
    const key = normalizeEmail(c.attributes.email);
    const ids = (this.byEmail.get(key) ?? []).filter((id) => id !== c.id);
    if (ids.length > 0) this.byEmail.set(key, ids);
    else this.byEmail.delete(key);
  }

  private mustConversation(id: number): DriftConversation {
    const c = this.conversations.get(id);
    if (!c) throw new Error(`no Drift conversation ${id}`);
    return c;
  }

  private mustContact(id: number): DriftContact {
    const c = this.contacts.get(id);
    if (!c) throw new Error(`no Drift contact ${id}`);
    return c;
  }
}
