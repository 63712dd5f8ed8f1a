import { describe, expect, it } from 'vitest';
import { generateDriftWorld, KNOWN_PEOPLE } from '../../sandbox/seed/drift';
import { person } from '../../sandbox/seed/people';

const ANCHOR = Date.UTC(2026, 10, 1, 0, 0, 0);
const small = () => generateDriftWorld({ seed: 42, scale: 0.5, anchorMs: ANCHOR });
const messageCount = (w: ReturnType<typeof small>) => [...w.messages.values()].reduce((n, l) => n + l.length, 0);

describe('Drift seed data', () => {
  it('is deterministic: the same seed, scale and anchor give the same world; another seed does not', () => {
    const a = small();
    const b = small();
    expect(JSON.stringify(a.conversations)).toBe(JSON.stringify(b.conversations));
    expect(JSON.stringify(a.contacts)).toBe(JSON.stringify(b.contacts));
    expect(JSON.stringify([...a.messages.values()])).toBe(JSON.stringify([...b.messages.values()]));
    expect(JSON.stringify(generateDriftWorld({ seed: 43, scale: 0.5, anchorMs: ANCHOR }).contacts)).not.toBe(JSON.stringify(a.contacts));
  });

  it('scale 10 is the bench world: 20,000 conversations with about 150,000 messages', () => {
    const world = generateDriftWorld({ seed: 1, scale: 10, anchorMs: ANCHOR });
    expect(world.conversations).toHaveLength(20_000);
    expect(messageCount(world)).toBeGreaterThan(145_000);
    expect(messageCount(world)).toBeLessThan(155_000);
  });

  it('known contacts are people of the shared world, so their emails match Salesforce', () => {
    const world = small();
    expect(world.personOfContact.size).toBeGreaterThan(0);
    for (const [contactId, index] of world.personOfContact) {
      expect(index).toBeLessThan(KNOWN_PEOPLE);
      const contact = world.contacts.find((c) => c.id === contactId);
      const email = person(42, index).email;
      if (contact?.attributes.email !== undefined) expect(contact.attributes.email.trim().toLowerCase()).toBe(email?.toLowerCase());
    }
  });

  it('has the messiness of a real CRM: anonymous visitors, shared emails, case and whitespace variants, missing names', () => {
    const world = generateDriftWorld({ seed: 42, scale: 3, anchorMs: ANCHOR });
    const emails = world.contacts.map((c) => c.attributes.email).filter((e): e is string => e !== undefined);
    expect(world.contacts.filter((c) => c.attributes.email === undefined).length).toBeGreaterThan(100);
    const normalized = emails.map((e) => e.trim().toLowerCase());
    expect(new Set(normalized).size).toBeLessThan(normalized.length);
    expect(emails.some((e) => e !== e.trim())).toBe(true);
    expect(emails.some((e) => e !== e.toLowerCase())).toBe(true);
    expect(world.contacts.some((c) => c.attributes.email !== undefined && c.attributes.name === undefined)).toBe(true);
    const perContact = new Map<number, number>();
    for (const c of world.conversations) perContact.set(c.contactId, (perContact.get(c.contactId) ?? 0) + 1);
    expect(Math.max(...perContact.values())).toBeGreaterThan(1);
  });

  it('timestamps are epoch ms before the anchor, messages are in order and updatedAt is at or after the last message', () => {
    const world = small();
    for (const c of world.conversations) {
      const list = world.messages.get(c.id) ?? [];
      expect(list.length).toBeGreaterThan(0);
      expect(c.createdAt).toBe(list[0].createdAt);
      expect(c.updatedAt).toBeGreaterThanOrEqual(list[list.length - 1].createdAt);
      expect(c.updatedAt).toBeLessThan(ANCHOR);
      expect(c.createdAt).toBeGreaterThan(ANCHOR - 181 * 86_400_000);
      for (let i = 1; i < list.length; i++) {
        expect(list[i].createdAt).toBeGreaterThanOrEqual(list[i - 1].createdAt);
        expect(list[i].id).toBeGreaterThan(list[i - 1].id);
      }
    }
  });

  it('messages come from visitors, agents and bots, as chat and private notes; meetings tie to contacts with an email', () => {
    const world = generateDriftWorld({ seed: 42, scale: 2, anchorMs: ANCHOR });
    const all = [...world.messages.values()].flat();
    expect(all.some((m) => m.author.type === 'contact')).toBe(true);
    expect(all.some((m) => m.author.type === 'user' && m.author.bot)).toBe(true);
    expect(all.some((m) => m.author.type === 'user' && !m.author.bot)).toBe(true);
    expect(all.some((m) => m.type === 'private_note')).toBe(true);
    expect(all.filter((m) => m.type === 'private_note').every((m) => m.author.type === 'user')).toBe(true);
    expect(new Set(world.conversations.map((c) => c.status))).toEqual(new Set(['open', 'closed', 'pending', 'bulk_sent']));
    expect(world.meetings.length).toBeGreaterThan(0);
    for (const m of world.meetings) {
      expect(world.contacts.find((c) => c.id === m.schedulerId)?.attributes.email).toBeDefined();
      expect(m.slotEnd).toBeGreaterThan(m.slotStart);
    }
  });
});
