import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { startDriftEmulator, type DriftEmulator } from '../../sandbox/drift';
import { DriftClient, StaleListCursor, type ListPosition } from '../../connectors/drift';
import { PermanentError, TransientError } from '../../lib/errors';
import { toFailure } from '../../activities/failures';
import { SANDBOX } from '../../config/sandbox-endpoints';

/** The Drift connector against the Drift emulator (no Temporal): paging, lookups and every failure shape. */

let drift: DriftEmulator;
beforeAll(async () => {
  drift = await startDriftEmulator({ port: 0, scale: 0.1, messagesPageSize: 3 });
});
afterAll(async () => {
  await drift?.close();
});

const client = (opts: { fetch?: typeof fetch; token?: string; timeoutMs?: number } = {}) => new DriftClient({ baseUrl: drift.url, token: opts.token ?? SANDBOX.drift.token, fetch: opts.fetch, timeoutMs: opts.timeoutMs });

/** A fetch that removes one of the two pagination styles from list answers, as an older or newer Drift API would send. */
function only(style: 'legacy' | 'links'): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!String(input).includes('/conversations/list')) return res;
    const body = (await res.json()) as Record<string, unknown>;
    if (style === 'legacy') delete body.links;
    else delete body.pagination;
    return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
  };
}

async function listAll(c: DriftClient): Promise<{ ids: number[]; positions: ListPosition[] }> {
  const ids: number[] = [];
  const positions: ListPosition[] = [];
  let at: ListPosition | null = null;
  do {
    const page = await c.listConversations(at);
    ids.push(...page.items.map((i) => i.id));
    at = page.next;
    if (at) positions.push(at);
  } while (at);
  return { ids, positions };
}

describe('Drift connector', () => {
  it('pages the conversation list newest first with legacy pagination.next and with links.next alike', async () => {
    const expected = drift.store.listConversations({ limit: 1_000_000 }).page.map((c) => c.id);
    const legacy = await listAll(client({ fetch: only('legacy') }));
    const links = await listAll(client({ fetch: only('links') }));
    expect(legacy.ids).toEqual(expected);
    expect(links.ids).toEqual(expected);
    expect(legacy.positions.every((p) => p.kind === 'next')).toBe(true);
    expect(links.positions.every((p) => p.kind === 'page_token')).toBe(true);
    // page_token pages are bigger (100 against 50): fewer calls for the same list.
    expect(links.positions.length).toBeLessThan(legacy.positions.length);
  });

  it('reads every message of a conversation across pages, contacts by id and by email (a list), users and meetings', async () => {
    const c = client();
    const conversation = drift.store.listConversations({ limit: 1_000_000 }).page.find((x) => drift.store.messagesOf(x.id)!.length > 7)!;
    expect(await c.messages(conversation.id)).toEqual(JSON.parse(JSON.stringify(drift.store.messagesOf(conversation.id))));
    expect(await c.contact(conversation.contactId)).toEqual(JSON.parse(JSON.stringify(drift.store.contact(conversation.contactId))));
    expect(await c.contact(1)).toBeUndefined();
    expect(await c.conversation(1)).toBeUndefined();
    // Drift keeps emails as typed and not unique: two visitors gave the same address.
    const first = drift.store.createContact({ email: ' Jane.Tan@Straits-Build.example.com' });
    const second = drift.store.createContact({ email: 'jane.tan@straits-build.example.com' });
    const byEmail = (await c.contactsByEmail('JANE.TAN@straits-build.example.com')) as { id: number }[];
    expect(byEmail.map((x) => x.id).sort()).toEqual([first.id, second.id].sort());
    expect((await c.users()).length).toBe(drift.store.userList().length);
    const now = Date.now();
    const meetings = (await c.meetings(now - 40 * 86_400_000, now + 365 * 86_400_000)) as { eventId: string }[];
    expect(meetings.map((m) => m.eventId).sort()).toEqual(drift.store.meetingsBetween(now - 30 * 86_400_000, now + 365 * 86_400_000).map((m) => m.eventId).sort());
    expect(c.calls).toBeGreaterThan(5);
  });

  it('turns a 429 into a TransientError carrying Retry-After, which Temporal gets as nextRetryDelay', async () => {
    drift.faults.set({ 'GET /conversations/list': { failNext: 1, statuses: [429], retryAfterSeconds: 7 } });
    const err = await client()
      .listConversations(null)
      .catch((e: unknown) => e);
    drift.faults.clear();
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).retryAfterMs).toBe(7_000);
    const failure = toFailure(err) as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBe(7_000);

    // The emulator's own per-minute limit answers the same way.
    drift.setRateLimit(1);
    const c = client();
    await c.users();
    const limited = await c.users().catch((e: unknown) => e);
    drift.setRateLimit(undefined);
    expect(limited).toBeInstanceOf(TransientError);
    expect((limited as TransientError).retryAfterMs).toBeGreaterThanOrEqual(1_000);
  });

  it('5xx, dropped connections and hung requests are transient; a bad token is permanent and says which variable to fix; a forgotten list cursor is told apart', async () => {
    for (const status of [500, 503, 'reset'] as const) {
      drift.faults.set({ 'GET /users/list': { failNext: 1, statuses: [status] } });
      const err = await client()
        .users()
        .catch((e: unknown) => e);
      expect(err, String(status)).toBeInstanceOf(TransientError);
    }
    drift.faults.set({ 'GET /users/list': { failNext: 1, statuses: ['timeout'] } });
    const hung = await client({ timeoutMs: 300 })
      .users()
      .catch((e: unknown) => e);
    expect(hung).toBeInstanceOf(TransientError);
    expect((hung as Error).message).toMatch(/No answer from Drift after/);
    drift.faults.clear();

    const denied = await client({ token: 'nope' })
      .users()
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(PermanentError);
    expect((denied as PermanentError).kind).toBe('AuthError');
    expect((denied as Error).message).toMatch(/DRIFT_TOKEN/);
    expect((toFailure(denied) as ApplicationFailure).nonRetryable).toBe(true);

    const stale = await client()
      .listConversations({ kind: 'next', token: '12345' })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(StaleListCursor);
  });
});
