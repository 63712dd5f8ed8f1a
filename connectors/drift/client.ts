import { z } from 'zod';
import { PermanentError, TransientError, retryAfterMs } from '../../lib/errors';
import { contactSchema, conversationListSchema, dataSchema, errorBodySchema, messagesPageSchema, userSchema, type ConversationListItem, type DriftUserRecord } from './schemas';

/**
 * A plain client of Drift's REST API (https://driftapi.com by default), no Temporal in it. Every
 * failure becomes a lib/errors error: 429 and 5xx, timeouts and network errors a TransientError (a
 * 429 with the Retry-After Drift sent, so Temporal waits that long before the retry: no sleep loop
 * here), a bad token a PermanentError saying which variable to fix.
 */

export interface DriftClientOptions {
  baseUrl: string;
  token: string;
  /** A request with no answer after this is abandoned (TransientError). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Called for every HTTP request, for the run summary's API call count. */
  onCall?: () => void;
}

/** Where the next page of the conversations list is: a legacy `next` cursor or a newer `page_token`. */
export type ListPosition = { kind: 'next'; token: string } | { kind: 'page_token'; token: string };

export interface ConversationListPage {
  items: ConversationListItem[];
  next: ListPosition | null;
}

/** A list cursor Drift no longer accepts (expired): the caller starts the list again. */
export class StaleListCursor extends Error {
  override name = 'StaleListCursor';
}

/** When Drift asks for no wait, still leave it a moment. */
const DEFAULT_RATE_LIMIT_WAIT_MS = 10_000;
const LEGACY_LIMIT = 50;
const PAGE_TOKEN_LIMIT = 100;

export class DriftClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  /** HTTP requests made, for the run summary's API call count. */
  calls = 0;

  constructor(private readonly opts: DriftClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.fetchFn = opts.fetch ?? fetch;
  }

  /** One page of conversations, newest `updatedAt` first. */
  async listConversations(at: ListPosition | null): Promise<ConversationListPage> {
    const params: Record<string, string> = {};
    if (at?.kind === 'page_token') Object.assign(params, { page_token: at.token, limit: String(PAGE_TOKEN_LIMIT) });
    else Object.assign(params, { limit: String(LEGACY_LIMIT) }, at ? { next: at.token } : {});
    let body: unknown;
    try {
      body = await this.get('/conversations/list', params, 'listing conversations');
    } catch (err) {
      // Drift answers 400 to a cursor it no longer knows; only a cursor we sent can be stale.
      if (at && err instanceof DriftHttpError && err.status === 400) throw new StaleListCursor(`Drift no longer accepts the conversations cursor: ${err.message}`);
      throw err;
    }
    const page = this.parse(conversationListSchema, body, 'the conversations list');
    return { items: page.data, next: nextPosition(page) };
  }

  /** A conversation's full model, or undefined when Drift no longer has it. */
  async conversation(id: number): Promise<unknown> {
    try {
      return await this.getData(`/conversations/${id}`, {}, `reading conversation ${id}`);
    } catch (err) {
      if (err instanceof DriftHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Every message of a conversation, oldest first, following `pagination.next`. */
  async messages(conversationId: number): Promise<unknown[]> {
    const out: unknown[] = [];
    let next: string | undefined;
    for (let guard = 0; guard < 10_000; guard++) {
      const body = this.parse(messagesPageSchema, await this.get(`/conversations/${conversationId}/messages`, next ? { next } : {}, `reading messages of conversation ${conversationId}`), 'a messages page');
      out.push(...body.data.messages);
      const n = body.pagination?.next;
      if (!body.pagination?.more || n === undefined || n === null || String(n) === next) return out;
      next = String(n);
    }
    throw new TransientError(`Conversation ${conversationId} has more message pages than expected; retrying.`);
  }

  /** A contact as Drift returns it, or undefined when Drift no longer has it. */
  async contact(id: number): Promise<unknown> {
    try {
      return await this.getData(`/contacts/${id}`, {}, `reading contact ${id}`);
    } catch (err) {
      if (err instanceof DriftHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Every contact with this email: Drift does not keep emails unique. */
  async contactsByEmail(email: string): Promise<unknown[]> {
    const data = await this.getData('/contacts', { email }, 'finding contacts by email');
    return this.parse(z.array(contactSchema), data, 'contacts by email');
  }

  async users(): Promise<DriftUserRecord[]> {
    return this.parse(z.array(userSchema), await this.getData('/users/list', {}, 'listing users'), 'the users list');
  }

  /** Booked meetings whose slot starts in [min, max] (Drift serves the last 30 days, at most 1,000 per call). */
  async meetings(minStart: number, maxStart: number): Promise<unknown[]> {
    const data = await this.getData('/users/meetings/org', { min_start_time: String(minStart), max_start_time: String(maxStart) }, 'listing meetings');
    return this.parse(z.array(z.unknown()), data, 'the meetings list');
  }

  private async getData(path: string, params: Record<string, string>, doing: string): Promise<unknown> {
    return this.parse(dataSchema, await this.get(path, params, doing), doing).data;
  }

  private parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new TransientError(`Unexpected answer from Drift for ${what}: ${z.prettifyError(parsed.error)}`);
    return parsed.data;
  }

  private async get(path: string, params: Record<string, string>, doing: string): Promise<unknown> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    this.calls++;
    this.opts.onCall?.();
    let res: Response;
    try {
      res = await this.fetchFn(url, { headers: { Authorization: `Bearer ${this.opts.token}`, Accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new TransientError(timedOut ? `No answer from Drift after ${Math.round(this.timeoutMs / 1000)} s while ${doing}.` : `Could not reach Drift at ${this.baseUrl} while ${doing}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text().catch(() => '');
    if (res.ok) {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new TransientError(`Drift answered ${res.status} with a body that is not JSON while ${doing}.`);
      }
    }
    const message = errorMessage(text) ?? res.statusText;
    if (res.status === 429)
      throw new TransientError(`Drift rate limit reached while ${doing}; retrying after the wait Drift asked for.`, { retryAfterMs: retryAfterMs(res.headers.get('retry-after')) ?? DEFAULT_RATE_LIMIT_WAIT_MS });
    if (res.status >= 500) throw new TransientError(`Drift answered ${res.status} while ${doing}: ${message}`);
    if (res.status === 401 || res.status === 403)
      throw new PermanentError('AuthError', `Drift refused the access token (${res.status}: ${message}) while ${doing}. Set DRIFT_TOKEN to a valid OAuth access token of the Drift app (with the conversation, contact, user and meeting read scopes).`);
    throw new DriftHttpError(res.status, `Drift answered ${res.status} while ${doing}: ${message}`);
  }
}

/** A 4xx other than auth and rate limit: the caller decides (404 contact, stale cursor) or it fails for good. */
export class DriftHttpError extends PermanentError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('InvalidRequest', message);
  }
}

function errorMessage(text: string): string | undefined {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.error.message : undefined;
  } catch {
    return text.slice(0, 200) || undefined;
  }
}

/** Prefers the newer `links.next` (bigger pages); falls back to the legacy `pagination.next`. */
export function nextPosition(page: z.infer<typeof conversationListSchema>): ListPosition | null {
  const link = page.links?.next;
  if (link) {
    const token = new URL(link, 'https://driftapi.com').searchParams.get('page_token');
    if (token) return { kind: 'page_token', token };
  }
  const next = page.pagination?.next;
  if (page.pagination?.more !== false && next !== undefined && next !== null && String(next) !== '') return { kind: 'next', token: String(next) };
  return null;
}
