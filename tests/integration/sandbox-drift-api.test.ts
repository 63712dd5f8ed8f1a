import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDriftEmulator, type DriftEmulator } from '../../sandbox/drift';

/** The Drift emulator's REST API as the Drift sync will use it, with plain fetch. */

const TOKEN = 'sandbox-drift-token';
const DAY = 86_400_000;
let clock = Date.UTC(2026, 10, 1, 9, 0, 0);
let emu: DriftEmulator;

beforeAll(async () => {
  emu = await startDriftEmulator({ port: 0, seed: 11, scale: 0.1, now: () => new Date(clock), messagesPageSize: 3 });
});
afterAll(async () => {
  await emu.close();
});
afterEach(() => {
  emu.faults.clear();
  emu.setRateLimit(undefined);
});

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

async function get<T = Record<string, unknown>>(path: string, token: string | null = TOKEN): Promise<Answer<T>> {
  const res = await fetch(path.startsWith('http') ? path : `${emu.url}${path}`, { headers: token === null ? {} : { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

interface ListItem {
  id: number;
  updatedAt: number;
  status: string;
}
interface ListAnswer {
  data: ListItem[];
  pagination?: { more: boolean; next: string };
  links: { self: string; next?: string };
}

async function walkLegacy(query = 'limit=50'): Promise<ListItem[]> {
  const seen: ListItem[] = [];
  let next: string | undefined;
  do {
    const { body } = await get<ListAnswer>(`/conversations/list?${query}${next ? `&next=${next}` : ''}`);
    seen.push(...body.data);
    next = body.pagination?.next;
  } while (next);
  return seen;
}

describe('Drift emulator REST API', () => {
  it('rejects a missing or wrong Bearer token with 401 in Drift\'s error format', async () => {
    expect(await get('/conversations/list', null)).toMatchObject({ status: 401, body: { error: { type: 'authentication_error' } } });
    expect(await get('/contacts/1', 'wrong')).toMatchObject({ status: 401, body: { error: { type: 'authentication_error', message: 'Invalid access token' } } });
  });

  it('conversations list pages newest updatedAt first with pagination.next', async () => {
    const first = await get<ListAnswer>('/conversations/list?limit=10');
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(10);
    expect(first.body.pagination).toEqual({ more: true, next: expect.any(String) });
    expect(Object.keys(first.body.data[0]).sort()).toEqual(['contactId', 'createdAt', 'id', 'inboxId', 'status', 'updatedAt']);

    const all = await walkLegacy();
    expect(all).toHaveLength(emu.store.conversationCount());
    expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
    for (let i = 1; i < all.length; i++) expect(all[i - 1].updatedAt).toBeGreaterThanOrEqual(all[i].updatedAt);
  });

  it('leaves pagination out on the last page and caps limit at 50 (legacy) or 100 (page_token)', async () => {
    const legacy = await get<ListAnswer>('/conversations/list?limit=500');
    expect(legacy.body.data).toHaveLength(50);
    const total = emu.store.conversationCount();
    const viaToken = await get<ListAnswer>(`/conversations/list?page_token=${new URL(legacy.body.links.self).searchParams.get('page_token')}&limit=500`);
    expect(viaToken.body.data).toHaveLength(Math.min(100, total));
    const { body } = await get<ListAnswer>(`/conversations/list?limit=50&next=${legacy.body.pagination?.next}`);
    expect(body.data.length).toBeGreaterThan(0);
    const last = await walkLegacy();
    expect(last.length).toBe(total);
    const lastPage = await get<ListAnswer>(`/conversations/list?limit=50&statusId=3`);
    expect(lastPage.body.pagination).toBeUndefined();
    expect(lastPage.body.links.next).toBeUndefined();
  });

  it('follows links.next (page_token) keeping the page size', async () => {
    let url: string | undefined = `${emu.url}/conversations/list?limit=30`;
    const sizes: number[] = [];
    let count = 0;
    while (url) {
      const { body }: Answer<ListAnswer> = await get<ListAnswer>(url);
      sizes.push(body.data.length);
      count += body.data.length;
      url = body.links.next;
    }
    expect(count).toBe(emu.store.conversationCount());
    expect(sizes.slice(0, -1).every((n) => n === 30)).toBe(true);
  });

  it('filters by statusId, repeatable (1 open, 2 closed, 3 pending), and rejects an unknown one', async () => {
    const openOrPending = await walkLegacy('limit=50&statusId=1&statusId=3');
    expect(openOrPending.length).toBeGreaterThan(0);
    expect(openOrPending.every((c) => c.status === 'open' || c.status === 'pending')).toBe(true);
    expect(await get('/conversations/list?statusId=9')).toMatchObject({ status: 400, body: { error: { type: 'validation_error' } } });
    expect(await get('/conversations/list?next=not-a-cursor')).toMatchObject({ status: 400, body: { error: { type: 'validation_error' } } });
  });

  it('a conversation updated after a sync pass comes first on the next pass, so a sync can stop at its cursor', async () => {
    const before = await walkLegacy();
    const cursor = before[0].updatedAt;
    const target = before[before.length - 1];
    clock += 60_000;
    emu.store.addMessage(target.id, { body: 'Back again!' });
    const { body } = await get<ListAnswer>('/conversations/list?limit=5');
    expect(body.data[0]).toMatchObject({ id: target.id, updatedAt: clock });
    expect(body.data.filter((c) => c.updatedAt > cursor).map((c) => c.id)).toEqual([target.id]);
  });

  it('GET /conversations/{id} returns the full model; unknown ids are 404 not_found', async () => {
    const id = emu.store.listConversations({ limit: 1 }).page[0].id;
    const { body } = await get<{ data: Record<string, unknown> }>(`/conversations/${id}`);
    expect(body.data).toMatchObject({ id, participants: expect.any(Array), conversationTags: expect.any(Array), contactId: expect.any(Number) });
    expect(await get('/conversations/1')).toMatchObject({ status: 404, body: { error: { type: 'not_found' } } });
  });

  it('conversation messages page with pagination {more, next}, oldest first', async () => {
    const conversation = emu.store.listConversations({ limit: 1_000 }).page.find((c) => (emu.store.messagesOf(c.id)?.length ?? 0) > 3);
    const id = conversation?.id as number;
    const collected: Array<{ id: number; createdAt: number; conversationId: number }> = [];
    let next: string | undefined;
    do {
      const { body } = await get<{ data: { messages: typeof collected }; pagination: { more: boolean; next?: string } }>(`/conversations/${id}/messages${next ? `?next=${next}` : ''}`);
      expect(body.data.messages.length).toBeLessThanOrEqual(3);
      collected.push(...body.data.messages);
      next = body.pagination.more ? body.pagination.next : undefined;
    } while (next);
    expect(collected.map((m) => m.id)).toEqual(emu.store.messagesOf(id)?.map((m) => m.id));
    expect(collected.every((m) => m.conversationId === id)).toBe(true);
    expect(await get('/conversations/1/messages')).toMatchObject({ status: 404 });
  });

  it('contacts by id, and by email as a list (email is not unique in Drift)', async () => {
    const known = emu.store.allContacts().find((c) => c.attributes.email !== undefined);
    const email = known?.attributes.email as string;
    const twin = emu.store.createContact({ email: email.toUpperCase() });
    expect((await get<{ data: { id: number } }>(`/contacts/${known?.id}`)).body.data.id).toBe(known?.id);
    const { body } = await get<{ data: Array<{ id: number }> }>(`/contacts?email=${encodeURIComponent(email.trim().toLowerCase())}`);
    expect(body.data.map((c) => c.id)).toEqual(expect.arrayContaining([known?.id, twin.id]));
    expect((await get<{ data: unknown[] }>(`/contacts?email=${encodeURIComponent(email)}&limit=1`)).body.data).toHaveLength(1);
    expect((await get<{ data: unknown[] }>('/contacts?email=nobody%40nowhere.test')).body.data).toEqual([]);
    expect(await get('/contacts/123')).toMatchObject({ status: 404, body: { error: { type: 'not_found' } } });
    expect(await get('/contacts')).toMatchObject({ status: 400, body: { error: { type: 'validation_error' } } });
  });

  it('contacts by external id', async () => {
    const contact = emu.store.createContact({ email: 'ext@acme.test', externalId: 'ext-42' });
    expect((await get<{ data: Array<{ id: number }> }>('/contacts?idType=external&id=ext-42')).body.data.map((c) => c.id)).toEqual([contact.id]);
  });

  it('users list (agents and bots) and a user by id', async () => {
    const { body } = await get<{ data: Array<{ id: number; bot: boolean; email: string }> }>('/users/list');
    expect(body.data.some((u) => u.bot)).toBe(true);
    expect(body.data.some((u) => !u.bot)).toBe(true);
    expect((await get<{ data: { id: number } }>(`/users/${body.data[0].id}`)).body.data.id).toBe(body.data[0].id);
  });

  it('meetings need min_start_time and max_start_time and only go back 30 days', async () => {
    const contact = emu.store.allContacts().find((c) => c.attributes.email !== undefined);
    const recent = emu.store.bookMeeting({ contactId: contact?.id, slotStart: clock - 3 * DAY });
    const old = emu.store.bookMeeting({ contactId: contact?.id, slotStart: clock - 45 * DAY });
    expect(await get('/users/meetings/org?min_start_time=0')).toMatchObject({ status: 400, body: { error: { type: 'validation_error' } } });
    const { body } = await get<{ data: Array<{ slug: string; slotStart: number }> }>(`/users/meetings/org?min_start_time=0&max_start_time=${clock + 30 * DAY}`);
    expect(body.data.map((m) => m.slug)).toContain(recent.slug);
    expect(body.data.map((m) => m.slug)).not.toContain(old.slug);
  });

  it('answers 429 with Retry-After above the configured rate, set at run time', async () => {
    const put = await fetch(`${emu.url}/__sandbox/rate-limit`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ perMinute: 2 }) });
    expect(put.status).toBe(200);
    expect((await get('/users/list')).status).toBe(200);
    expect((await get('/users/list')).status).toBe(200);
    const limited = await get('/users/list');
    expect(limited).toMatchObject({ status: 429, body: { error: { type: 'rate_limit' } } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('fault injection per endpoint: 503 with Retry-After in Drift\'s error format, then a connection reset', async () => {
    emu.faults.set({ 'GET /conversations/list': { failNext: 1, statuses: [503], retryAfterSeconds: 5 } });
    const failed = await get('/conversations/list');
    expect(failed).toMatchObject({ status: 503, body: { error: { type: 'internal_error' } } });
    expect(failed.headers.get('retry-after')).toBe('5');
    expect((await get('/users/list')).status).toBe(200);
    emu.faults.set({ 'GET /contacts/:id': { failNext: 1, statuses: ['reset'] } });
    await expect(get('/contacts/1')).rejects.toThrow();
  });

  it('fault injection by error rate: a share of requests fails with the configured 5xx statuses, then a latency-only rule', async () => {
    emu.faults.set({ 'GET /users/list': { errorRate: 0.5, statuses: [500, 502, 504] } });
    const codes = await Promise.all(Array.from({ length: 40 }, async () => (await get('/users/list')).status));
    const failed = codes.filter((c) => c !== 200);
    expect(failed.length).toBeGreaterThan(5);
    expect(failed.length).toBeLessThan(35);
    expect(new Set(failed).size).toBeGreaterThan(1);
    expect(failed.every((c) => [500, 502, 504].includes(c))).toBe(true);

    emu.faults.set({ 'GET /users/list': { latencyMs: 150 } });
    const started = Date.now();
    expect((await get('/users/list')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('control routes change the data from another process', async () => {
    const post = (path: string, body: unknown, method = 'POST') => fetch(`${emu.url}${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    clock += 60_000;
    const created = (await (await post('/__sandbox/conversations', { email: 'remote@visitor.test', body: 'Hi from far away' })).json()) as { conversation: { id: number; contactId: number } };
    expect((await get<ListAnswer>('/conversations/list?limit=1')).body.data[0].id).toBe(created.conversation.id);
    expect((await post(`/__sandbox/conversations/${created.conversation.id}/messages`, { author: { type: 'user' }, body: 'Welcome' })).status).toBe(200);
    expect((await post(`/__sandbox/conversations/${created.conversation.id}/status`, { status: 'closed' }, 'PUT')).status).toBe(200);
    expect((await post('/__sandbox/meetings', { conversationId: created.conversation.id })).status).toBe(200);
    expect((await post(`/__sandbox/contacts/${created.conversation.contactId}/identify`, { email: 'remote.visitor@acme.test' })).status).toBe(200);
    expect((await post('/__sandbox/conversations/1/messages', {})).status).toBe(404);
    const stats = (await (await fetch(`${emu.url}/__sandbox/stats`)).json()) as { conversations: number };
    expect(stats.conversations).toBe(emu.store.conversationCount());
  });
});
