/**
 * Drift's resources as its developer docs model them (devdocs.drift.com: Contact, Conversation, Message,
 * User, Meeting, Playbook models). Ids are 64-bit longs in Drift and numbers here (all stay below 2^53);
 * every timestamp is epoch milliseconds.
 */

export type ConversationStatus = 'open' | 'closed' | 'pending' | 'bulk_sent';

/** statusId query values of the conversations list. */
export const STATUS_IDS: Record<number, ConversationStatus> = { 1: 'open', 2: 'closed', 3: 'pending' };

export interface ContactTag {
  name: string;
  color: string;
}

export interface DriftContact {
  id: number;
  createdAt: number;
  /** Drift-controlled and custom attributes; `email` may be absent (anonymous visitor), mixed-case or padded. */
  attributes: {
    email?: string;
    name?: string;
    phone?: string;
    externalId?: string | null;
    tags: ContactTag[];
    events: Record<string, unknown>;
    socialProfiles: Record<string, unknown>;
    start_date: number;
    last_active?: number;
    [custom: string]: unknown;
  };
}

export interface DriftConversation {
  id: number;
  orgId: number;
  participants: number[];
  status: ConversationStatus;
  contactId: number;
  inboxId: number;
  createdAt: number;
  updatedAt: number;
  relatedPlaybookId?: number;
  conversationTags: ContactTag[];
}

export interface MessageButton {
  label: string;
  value: string;
  type: 'reply' | 'action';
}

export interface DriftMessage {
  id: number;
  orgId: number;
  body?: string;
  author: { type: 'contact' | 'user'; id: number; bot: boolean };
  type: 'chat' | 'private_note';
  conversationId: number;
  createdAt: number;
  buttons?: MessageButton[];
  context?: { ip?: string; userAgent?: string };
  attributes?: Record<string, unknown>;
}

export interface DriftUser {
  id: number;
  orgId: number;
  name: string;
  alias?: string;
  email: string;
  phone?: string;
  locale: string;
  availability: 'AVAILABLE' | 'OFFLINE' | 'ON_CALL';
  role: 'member' | 'admin' | 'agent';
  timeZone?: string;
  avatarUrl: string;
  verified: boolean;
  bot: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface DriftMeeting {
  agentId: number;
  orgId: number;
  status: 'ACTIVE' | 'CANCELED';
  meetingSource: string;
  /** The contact (site visitor) who booked. */
  schedulerId: number;
  eventId: string;
  slug: string;
  slotStart: number;
  slotEnd: number;
  updatedAt: number;
  scheduledAt: number;
  meetingType: string;
  conversationId?: number;
  endUserTimeZone?: string;
  meetingNotes?: string;
  bookedBy?: number;
}

export interface DriftPlaybook {
  id: number;
  name: string;
  orgId: number;
  createdAt: number;
  updatedAt: number;
  reportType: string;
  goals: Array<{ id: string; message: string }>;
}

export interface DriftWorld {
  orgId: number;
  inboxIds: number[];
  users: DriftUser[];
  playbooks: DriftPlaybook[];
  contacts: DriftContact[];
  conversations: DriftConversation[];
  /** By conversation id, oldest first. */
  messages: Map<number, DriftMessage[]>;
  meetings: DriftMeeting[];
  /** Which person of the shared sandbox world each known contact is (not part of Drift's API). */
  personOfContact: Map<number, number>;
}
