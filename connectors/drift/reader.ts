import { z } from 'zod';
import type { AppConfig } from '../../config/config';
import type { Logger } from '../../config/logger';
import { PermanentError } from '../../lib/errors';
import type { Cursor, ReadMode, ReadOptions, SourcePage, SourceReader, SourceStream } from '../../ports/source-reader';
import { DriftClient, StaleListCursor, type ListPosition } from './client';
import type { ConversationListItem } from './schemas';
import { targetsSchema } from '../../mappings/drift-records';

/**
 * Reads Drift for the generic sync (streams/pipeline.ts).
 *
 * Conversations, their messages and their contacts: Drift has no "updated since" filter, but lists
 * conversations newest `updatedAt` first. A run is a pass down that list from the top until it meets a
 * conversation not updated since the stored `since` (inclusive, so two conversations updated in the same
 * millisecond are not split by a run boundary; what is re-read is skipped by its silver version). Each
 * stream walks the list from its own cursor and keeps from each page only the conversations that
 * changed: their full model (the list shows a few fields), all their messages (new ones are recognised
 * by silver, messages never change), or their contact (Drift cannot list contacts; a conversation's
 * visitor is who changed). When the pass ends, `since` becomes the newest updatedAt the pass started
 * from: a conversation updated during the pass leads the next one. A pass in progress lives in the cursor
 * (`pass.next`), so a crashed run carries on; a list cursor Drift has forgotten restarts the pass.
 *
 * Meetings: listed by slot start (last 30 days up to a horizon, at most 1,000 per call, so a full window
 * is halved until it fits) and kept when updated since the cursor.
 *
 * Targeted reads (mode `targeted`): the records a webhook named (conversations, contacts, meetings, playbook
 * goals), fetched now and pushed through the same pipeline without touching the stream's cursor.
 *
 * What a page fetched is remembered per run for a while, so a page retried after a 429 asks Drift only
 * for what it does not have yet: a long 429 storm slows the run down but every attempt makes progress.
 */

export interface DriftReaderOptions {
  config: AppConfig['drift'];
  log?: Logger;
  /** Requests in flight at once within a page. */
  concurrency?: number;
  /** Conversations listed per pipeline page (several Drift list pages); default 500. */
  conversationsPerPage?: number;
  /** Read the next page while the current one is written (default true). */
  prefetch?: boolean;
  /** How far ahead of now meetings are listed. */
  meetingHorizonDays?: number;
  timeoutMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

const positionSchema = z.discriminatedUnion('kind', [z.object({ kind: z.literal('next'), token: z.string() }), z.object({ kind: z.literal('page_token'), token: z.string() })]);
/**
 * `since`: updatedAt the next pass reads down to; `sinceIds`: the conversations at exactly `since` the
 * last pass already read, skipped unless they change again (without them every tick would re-read
 * whatever shares the newest millisecond). `pass`: the pass in progress.
 */
const passCursorSchema = z.object({
  since: z.number().nullable(),
  sinceIds: z.array(z.number()).optional(),
  pass: z.object({ top: z.number().nullable(), topIds: z.array(z.number()).optional(), next: positionSchema }).nullable().optional(),
});
type PassCursor = z.infer<typeof passCursorSchema>;
const meetingCursorSchema = z.object({
  since: z.number().nullable(),
  pass: z.object({ top: z.number().nullable(), from: z.number(), to: z.number(), end: z.number() }).nullable().optional(),
});
type MeetingCursor = z.infer<typeof meetingCursorSchema>;

const DAY = 86_400_000;
/** Drift's meetings endpoint serves the last 30 days only. */
const MEETINGS_LOOKBACK_MS = 30 * DAY;
const MEETINGS_PER_CALL = 1_000;
/** Beyond this many conversations at one millisecond, the rest are simply read again next time. */
const MAX_SINCE_IDS = 1_000;
const CACHE_TTL_MS = 10 * 60_000;
const CACHE_MAX = 5_000;

const meetingItemSchema = z.looseObject({ eventId: z.string(), updatedAt: z.number() });
const conversationRefSchema = z.looseObject({ id: z.number(), contactId: z.number() });

export class DriftReader implements SourceReader {
  private readonly log?: Logger;
  private readonly concurrency: number;
  private readonly horizonMs: number;
  private readonly now: () => number;
  private readonly prefetch: boolean;
  private readonly conversationsPerPage: number;
  private readonly runCalls = new Map<string, number>();
  private readonly cache = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(private readonly opts: DriftReaderOptions) {
    this.log = opts.log?.child({ component: 'drift-reader' });
    this.concurrency = opts.concurrency ?? 16;
    this.prefetch = opts.prefetch ?? true;
    this.conversationsPerPage = opts.conversationsPerPage ?? 500;
    this.horizonMs = (opts.meetingHorizonDays ?? 365) * DAY;
    this.now = opts.now ?? Date.now;
  }

  /** Every request counts for its run, prefetches and failed attempts included; a page reports what accrued since the last one. */
  private client(runId: string): DriftClient {
    const onCall = () => this.runCalls.set(runId, (this.runCalls.get(runId) ?? 0) + 1);
    return new DriftClient({ baseUrl: this.opts.config.baseUrl, token: this.opts.config.token, timeoutMs: this.opts.timeoutMs, fetch: this.opts.fetch, onCall });
  }

  private takeCalls(runId: string): number {
    const n = this.runCalls.get(runId) ?? 0;
    this.runCalls.delete(runId);
    return n;
  }

  async plan(decl: SourceStream, cursor: Cursor, full: boolean): Promise<{ cursor: Cursor; mode: ReadMode }> {
    if (full || cursor === null) return { cursor: { since: null }, mode: 'rest' };
    const schema = decl.object === 'meetings' ? meetingCursorSchema : passCursorSchema;
    if (!schema.safeParse(cursor).success) throw new PermanentError('InvalidRequest', `Unreadable Drift cursor for ${decl.name}: ${JSON.stringify(cursor)}; run the stream with --full to start over.`);
    return { cursor, mode: 'rest' };
  }

  async readPage(decl: SourceStream, cursor: Cursor, mode: ReadMode, opts: ReadOptions): Promise<SourcePage> {
    const api = this.client(opts.runId);
    let page: SourcePage;
    if (mode === 'targeted') page = await this.readTargeted(api, decl, cursor, opts);
    else if (decl.object === 'meetings') page = await this.readMeetingsPage(api, decl, cursor);
    else if (decl.object === 'playbook_goals') page = { records: [], nextCursor: cursor, nextMode: 'rest', done: true, apiCalls: 0 };
    else page = await this.readPassPage(api, decl, cursor, opts);
    return { ...page, apiCalls: this.takeCalls(opts.runId) };
  }

  // ---- conversations list pass ----------------------------------------------------------------------

  private async readPassPage(api: DriftClient, decl: SourceStream, cursor: Cursor, opts: ReadOptions): Promise<SourcePage> {
    const parsed = passCursorSchema.safeParse(cursor ?? { since: null });
    if (!parsed.success) throw new PermanentError('InvalidRequest', `Unreadable Drift cursor for ${decl.name}: ${JSON.stringify(cursor)}; run the stream with --full to start over.`);
    const at: PassCursor = parsed.data;
    const since = at.since;
    let top = at.pass?.top ?? null;
    let topIds = at.pass?.topIds ?? [];
    let position = at.pass?.next ?? null;
    const changed: ConversationListItem[] = [];
    let done = false;
    // Several list pages per pipeline page: each page costs a Temporal round trip, a list page only 100 conversations.
    for (let listed = 0; !done && listed < this.conversationsPerPage; ) {
      let page;
      try {
        page = await this.listPage(api, opts.runId, position);
      } catch (err) {
        if (!(err instanceof StaleListCursor)) throw err;
        // Starting over costs re-reads that silver recognises; `since` is unchanged, so nothing is skipped.
        this.log?.warn({ stream: decl.name, reason: err.message }, 'Drift list cursor expired, restarting the pass');
        return { records: [], nextCursor: { since, sinceIds: at.sinceIds ?? [] }, nextMode: 'rest', done: false, apiCalls: api.calls };
      }
      if (!at.pass && listed === 0) {
        // The first page of a pass fixes where the next pass will stop.
        top = maxOf(page.items.reduce<number | null>((m, c) => maxOf(m, c.updatedAt), null), since);
        topIds = top === since ? [...(at.sinceIds ?? [])] : [];
      }
      topIds = [...new Set([...topIds, ...page.items.filter((c) => c.updatedAt === top).map((c) => c.id)])].slice(0, MAX_SINCE_IDS);
      changed.push(...page.items.filter(isChanged(at)));
      listed += page.items.length;
      done = (since !== null && page.items.some((c) => c.updatedAt < since)) || page.next === null;
      position = page.next;
    }
    const records = await this.recordsOf(api, decl, changed, opts.runId);
    const nextCursor: PassCursor = done || !position ? { since: maxOf(top, since), sinceIds: topIds } : { since, sinceIds: at.sinceIds ?? [], pass: { top, topIds, next: position } };
    if (!done && position && this.prefetch) this.prefetchNext(decl, position, at, opts.runId);
    return { records, nextCursor, nextMode: 'rest', done, apiCalls: api.calls };
  }

  /** The list pages of a run are remembered like the rest: a retried or prefetched page is not listed twice. */
  private listPage(api: DriftClient, runId: string, at: ListPosition | null) {
    return this.cached(`${runId}|list|${at ? `${at.kind}:${at.token}` : 'top'}`, () => api.listConversations(at));
  }

  /**
   * Reads the next page into the cache while the pipeline writes this one, so Drift's answers overlap
   * our writes. Failures are dropped (the page reads again); its calls are not counted in the summary.
   */
  private prefetchNext(decl: SourceStream, next: ListPosition, at: PassCursor, runId: string): void {
    const api = this.client(runId);
    void this.listPage(api, runId, next)
      .then((page) => this.recordsOf(api, decl, page.items.filter(isChanged(at)), runId))
      .catch(() => undefined);
  }

  private async recordsOf(api: DriftClient, decl: SourceStream, changed: Pick<ConversationListItem, 'id' | 'updatedAt' | 'contactId'>[], runId: string): Promise<unknown[]> {
    switch (decl.object) {
      case 'conversations':
        return (await mapLimit(changed, this.concurrency, (c) => this.cached(`${runId}|conversation|${c.id}|${c.updatedAt}`, () => api.conversation(c.id)))).filter((c) => c !== undefined);
      case 'messages':
        return (await mapLimit(changed, this.concurrency, (c) => this.cached(`${runId}|messages|${c.id}|${c.updatedAt}`, () => api.messages(c.id)) as Promise<unknown[]>)).flat();
      case 'contacts': {
        const ids = [...new Set(changed.map((c) => c.contactId).filter((id): id is number => typeof id === 'number'))];
        return this.contacts(api, ids, runId);
      }
      default:
        throw new PermanentError('UnknownStream', `The Drift reader does not know the object "${decl.object}" of stream ${decl.name}.`);
    }
  }

  /** Contacts stamped with when they were read: Drift gives no modification time, a later read is newer. */
  private async contacts(api: DriftClient, ids: number[], runId: string): Promise<unknown[]> {
    const found = await mapLimit(ids, this.concurrency, (id) =>
      this.cached(`${runId}|contact|${id}`, async () => {
        const contact = await api.contact(id);
        return contact && typeof contact === 'object' ? { ...contact, _observedAt: this.now() } : undefined;
      }),
    );
    return found.filter((c) => c !== undefined);
  }

  // ---- meetings ------------------------------------------------------------------------------------

  private async readMeetingsPage(api: DriftClient, decl: SourceStream, cursor: Cursor): Promise<SourcePage> {
    const parsed = meetingCursorSchema.safeParse(cursor ?? { since: null });
    if (!parsed.success) throw new PermanentError('InvalidRequest', `Unreadable Drift cursor for ${decl.name}: ${JSON.stringify(cursor)}; run the stream with --full to start over.`);
    const { since } = parsed.data;
    const now = this.now();
    const pass = parsed.data.pass ?? { top: since, from: now - MEETINGS_LOOKBACK_MS, to: now + this.horizonMs, end: now + this.horizonMs };
    let to = pass.to;
    let meetings = await api.meetings(pass.from, to);
    // A full answer may have been cut at 1,000: narrow the window until it is not.
    while (meetings.length >= MEETINGS_PER_CALL && to > pass.from) {
      to = pass.from + Math.floor((to - pass.from) / 2);
      meetings = await api.meetings(pass.from, to);
    }
    if (meetings.length >= MEETINGS_PER_CALL) this.log?.warn({ stream: decl.name, at: pass.from }, 'more than 1,000 meetings start in the same millisecond: some may be missed');
    let top = pass.top;
    const records: unknown[] = [];
    for (const m of meetings) {
      const item = meetingItemSchema.safeParse(m);
      // An unreadable meeting is still passed on: the pipeline keeps it in bronze and dead-letters it.
      if (!item.success || since === null || item.data.updatedAt >= since) records.push(m);
      if (item.success) top = maxOf(top, item.data.updatedAt);
    }
    const done = to >= pass.end;
    const nextCursor: MeetingCursor = done ? { since: maxOf(top, since) } : { since, pass: { top, from: to + 1, to: pass.end, end: pass.end } };
    return { records, nextCursor, nextMode: 'rest', done, apiCalls: api.calls };
  }

  // ---- targeted (webhooks) ---------------------------------------------------------------------------

  private async readTargeted(api: DriftClient, decl: SourceStream, cursor: Cursor, opts: ReadOptions): Promise<SourcePage> {
    const parsed = targetsSchema.safeParse(cursor);
    if (!parsed.success) throw new PermanentError('InvalidRequest', `Unreadable Drift targets for ${decl.name}: ${z.prettifyError(parsed.error)}`);
    const t = parsed.data;
    const page = (records: unknown[]): SourcePage => ({ records, nextCursor: cursor, nextMode: 'targeted', done: true, apiCalls: api.calls });
    const conversationIds = [...new Set(t.conversationIds ?? [])];
    const conversation = (id: number) => this.cached(`${opts.runId}|conversation|${id}`, () => api.conversation(id));
    switch (decl.object) {
      case 'conversations':
        return page((await mapLimit(conversationIds, this.concurrency, conversation)).filter((c) => c !== undefined));
      case 'messages':
        return page((await mapLimit(conversationIds, this.concurrency, (id) => this.cached(`${opts.runId}|messages|${id}`, () => api.messages(id)) as Promise<unknown[]>)).flat());
      case 'contacts': {
        const ofConversations = (await mapLimit(conversationIds, this.concurrency, conversation)).flatMap((c) => {
          const ref = conversationRefSchema.safeParse(c);
          return ref.success ? [ref.data.contactId] : [];
        });
        return page(await this.contacts(api, [...new Set([...(t.contactIds ?? []), ...ofConversations])], opts.runId));
      }
      case 'meetings': {
        const found = await mapLimit(t.meetings ?? [], this.concurrency, async (m) => {
          const list = await api.meetings(m.slotStart, m.slotStart);
          return list.filter((x) => meetingItemSchema.safeParse(x).data?.eventId === m.eventId);
        });
        return page(found.flat());
      }
      case 'playbook_goals':
        return page(t.goals ?? []);
      default:
        throw new PermanentError('UnknownStream', `The Drift reader does not know the object "${decl.object}" of stream ${decl.name}.`);
    }
  }

  // ---- cache ---------------------------------------------------------------------------------------

  private cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < CACHE_TTL_MS) return hit.value as Promise<T>;
    const value = load();
    this.cache.set(key, { at: now, value });
    // A failed read is forgotten at once: the retry asks again.
    value.catch(() => {
      if (this.cache.get(key)?.value === value) this.cache.delete(key);
    });
    while (this.cache.size > CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    return value;
  }
}

/** Updated since the last pass: after `since`, or at `since` and not read by that pass. */
function isChanged(at: PassCursor): (c: { id: number; updatedAt: number }) => boolean {
  const seen = new Set(at.sinceIds ?? []);
  return (c) => at.since === null || c.updatedAt > at.since || (c.updatedAt === at.since && !seen.has(c.id));
}

function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

/** Maps with at most `limit` calls in flight; rejects with the first failure (the others still finish into the cache). */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
