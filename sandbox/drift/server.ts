import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { logger } from '../../config/logger';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { Faults, installFaults, type FaultConfigInput, type InjectedFault } from '../faults';
import { generateDriftWorld } from '../seed/drift';
import { STATUS_IDS, type ConversationStatus, type DriftConversation, type DriftWorld } from './model';
import { PerMinuteLimiter } from './rate-limit';
import { DriftStore, type ConversationCursor } from './store';
import { DRIFT_EVENT_TYPES, DriftWebhooks, webhookConfigSchema, type EmittedEvent, type WebhookConfigInput } from './webhooks';
import type { OutboundStats } from '../amplitude/outbound-queue';
import { DRIFT_SANDBOX_SCOPES, registerTokenInfoRoute, TOKEN_INFO_PATH } from './token-info';

/**
 * HTTP emulator of Drift's REST API (driftapi.com) for the endpoints the Drift sync reads: conversations
 * (legacy `next` cursor and newer `page_token` links), their messages, contacts by id / email / external id,
 * users and booked meetings, behind a Bearer token, with Drift's error format, a per-token rate limit and
 * webhook delivery when the data changes. Control routes under `/__sandbox/` change the data and the knobs
 * from another process.
 */

export interface DriftEmulatorOptions {
  /** 0 picks a free port; default 4020. */
  port?: number;
  host?: string;
  seed?: number;
  /** 1 = 2,000 conversations (~15,000 messages); the bench's 20,000 / 150,000 is 10. Default 1. */
  scale?: number;
  /** A world generated beforehand (the bench reuses one); overrides seed and scale. */
  world?: DriftWorld;
  token?: string;
  faults?: FaultConfigInput;
  rateLimitPerMinute?: number;
  webhook?: WebhookConfigInput;
  now?: () => Date;
  /** Messages per page of /conversations/{id}/messages (not documented by Drift); default 50. */
  messagesPageSize?: number;
  /** Scopes `POST /app/token_info` reports for the token; default DRIFT_SANDBOX_SCOPES. */
  scopes?: readonly string[];
}

export interface DriftEmulator {
  url: string;
  port: number;
  store: DriftStore;
  faults: Faults;
  setWebhook(config: WebhookConfigInput | undefined): void;
  flushWebhooks(timeoutMs?: number): Promise<void>;
  webhookStats(): OutboundStats;
  /** Every webhook event the data changes produced, delivered or not. */
  emittedEvents(type?: EmittedEvent['type']): EmittedEvent[];
  setRateLimit(perMinute: number | undefined): void;
  /** Scopes `POST /app/token_info` reports from now on. */
  setScopes(scopes: readonly string[]): void;
  close(): Promise<void>;
}

type ErrorType = 'validation_error' | 'authentication_error' | 'not_found' | 'internal_error' | 'rate_limit';

const LEGACY_MAX_LIMIT = 50;
const PAGE_TOKEN_MAX_LIMIT = 100;
const DEFAULT_LIMIT = 25;
const MAX_CURSORS = 100_000;

interface ListCursor {
  after?: ConversationCursor;
  limit: number;
  statusIds: ConversationStatus[];
}

const driftError = (reply: FastifyReply, status: number, type: ErrorType, message: string) => reply.code(status).send({ error: { type, message } });

function errorTypeFor(status: number): ErrorType {
  if (status === 401 || status === 403) return 'authentication_error';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limit';
  if (status >= 500) return 'internal_error';
  return 'validation_error';
}

function respondToFault(fault: InjectedFault, _req: FastifyRequest, reply: FastifyReply): unknown {
  const status = fault.status as number;
  return reply.send({ error: { type: errorTypeFor(status), message: status === 429 ? 'You have maxed your number of API calls for the provided time window' : `Injected ${status}` } });
}

/** The conversation as the list endpoint shows it (its documented example carries only these fields). */
const listItem = (c: DriftConversation) => ({ status: c.status, contactId: c.contactId, createdAt: c.createdAt, id: c.id, inboxId: c.inboxId, updatedAt: c.updatedAt });

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
const toInt = (v: unknown): number | undefined => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : undefined);

export async function startDriftEmulator(opts: DriftEmulatorOptions = {}): Promise<DriftEmulator> {
  const log = logger().child({ component: 'sandbox-drift' });
  const now = opts.now ?? (() => new Date());
  const token = opts.token ?? SANDBOX.drift.token;
  const world = opts.world ?? generateDriftWorld({ seed: opts.seed ?? 1, scale: opts.scale ?? 1, anchorMs: now().getTime() });
  const webhooks = new DriftWebhooks(world.orgId, now);
  webhooks.set(opts.webhook);
  const store = new DriftStore(world, now, (type, data) => webhooks.emit(type, data));
  const faults = new Faults(opts.faults);
  const limiter = new PerMinuteLimiter(opts.rateLimitPerMinute);
  const messagesPageSize = opts.messagesPageSize ?? 50;
  const cursors = new Map<string, ListCursor>();
  let nextCursor = 100_000_001;
  let baseUrl = '';

  const saveCursor = (c: ListCursor): string => {
    const id = String(nextCursor++);
    cursors.set(id, c);
    // Oldest cursors expire first, as a server's would.
    if (cursors.size > MAX_CURSORS) cursors.delete(cursors.keys().next().value as string);
    return id;
  };

  const app = Fastify({ logger: false });
  installFaults(app, faults, respondToFault);
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/__sandbox/') || req.url === TOKEN_INFO_PATH) return;
    const auth = req.headers.authorization;
    if (auth !== `Bearer ${token}`) return driftError(reply, 401, 'authentication_error', auth ? 'Invalid access token' : 'Missing Authorization header');
    const wait = limiter.take(token, now().getTime());
    if (wait !== undefined) {
      reply.header('Retry-After', String(wait));
      return driftError(reply, 429, 'rate_limit', 'You have maxed your number of API calls for the provided time window');
    }
  });
  app.setNotFoundHandler((_req, reply) => driftError(reply, 404, 'not_found', 'The requested resource was not found'));
  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    return driftError(reply, status, errorTypeFor(status), status === 500 ? 'Something went wrong in our system' : err.message);
  });

  app.get('/conversations/list', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const pageToken = typeof q.page_token === 'string' && q.page_token !== '' ? q.page_token : undefined;
    const legacyNext = typeof q.next === 'string' && q.next !== '' ? q.next : undefined;
    let cursor: ListCursor;
    if (pageToken !== undefined || legacyNext !== undefined) {
      const saved = cursors.get((pageToken ?? legacyNext) as string);
      if (!saved) return driftError(reply, 400, 'validation_error', pageToken !== undefined ? 'Invalid page_token' : 'Invalid next cursor');
      cursor = { ...saved };
    } else cursor = { limit: DEFAULT_LIMIT, statusIds: [] };
    if (q.limit !== undefined) {
      const limit = toInt(q.limit);
      if (limit === undefined || limit < 1) return driftError(reply, 400, 'validation_error', 'limit must be a positive integer');
      cursor.limit = limit;
    }
    cursor.limit = Math.min(cursor.limit, pageToken !== undefined ? PAGE_TOKEN_MAX_LIMIT : LEGACY_MAX_LIMIT);
    const statusParams = asList(q.statusId);
    if (statusParams.length > 0) {
      const statuses = statusParams.map((s) => STATUS_IDS[toInt(s) ?? -1]);
      if (statuses.some((s) => s === undefined)) return driftError(reply, 400, 'validation_error', 'statusId must be 1 (open), 2 (closed) or 3 (pending)');
      cursor.statusIds = statuses;
    }

    const { page, more } = store.listConversations({ limit: cursor.limit, statusIds: cursor.statusIds, after: cursor.after });
    const selfToken = saveCursor(cursor);
    const body: Record<string, unknown> = { data: page.map(listItem) };
    const links: Record<string, string> = { self: `${baseUrl}/conversations/list?page_token=${selfToken}` };
    if (more) {
      const last = page[page.length - 1];
      const next = saveCursor({ ...cursor, after: { updatedAt: last.updatedAt, id: last.id } });
      // Legacy answers carry `pagination` only when there is a next page (documented: "present if there are more").
      body.pagination = { more: true, next };
      links.next = `${baseUrl}/conversations/list?page_token=${next}`;
    }
    body.links = links;
    return body;
  });

  app.get('/conversations/:id', async (req, reply) => {
    const conversation = store.conversation(toInt((req.params as { id: string }).id) ?? -1);
    return conversation ? { data: conversation } : driftError(reply, 404, 'not_found', 'Conversation not found');
  });

  app.get('/conversations/:id/messages', async (req, reply) => {
    const messages = store.messagesOf(toInt((req.params as { id: string }).id) ?? -1);
    if (!messages) return driftError(reply, 404, 'not_found', 'Conversation not found');
    const next = (req.query as { next?: string }).next;
    const offset = next === undefined || next === '' ? 0 : toInt(next);
    if (offset === undefined || offset < 0) return driftError(reply, 400, 'validation_error', 'Invalid next cursor');
    const page = messages.slice(offset, offset + messagesPageSize);
    const more = offset + messagesPageSize < messages.length;
    return { data: { messages: page }, pagination: more ? { more: true, next: String(offset + messagesPageSize) } : { more: false } };
  });

  app.get('/contacts/:id', async (req, reply) => {
    const contact = store.contact(toInt((req.params as { id: string }).id) ?? -1);
    return contact ? { data: contact } : driftError(reply, 404, 'not_found', 'Contact not found');
  });

  app.get('/contacts', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const limit = q.limit === undefined ? undefined : toInt(q.limit);
    if (q.limit !== undefined && (limit === undefined || limit < 1)) return driftError(reply, 400, 'validation_error', 'limit must be a positive integer');
    if (typeof q.email === 'string' && q.email !== '') return { data: store.contactsByEmail(q.email, limit) };
    if (q.idType === 'external' && q.id !== undefined) {
      return { data: asList(q.id).flatMap((id) => store.contactByExternalId(id) ?? []).slice(0, limit) };
    }
    return driftError(reply, 400, 'validation_error', 'Query by email, or by idType=external&id=');
  });

  app.get('/users/list', async () => ({ data: store.userList() }));
  app.get('/users/meetings/org', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const min = toInt(q.min_start_time);
    const max = toInt(q.max_start_time);
    if (min === undefined || max === undefined) return driftError(reply, 400, 'validation_error', 'min_start_time and max_start_time are required (epoch milliseconds)');
    return { data: store.meetingsBetween(min, max) };
  });
  app.get('/users/:id', async (req, reply) => {
    const user = store.user(toInt((req.params as { id: string }).id) ?? -1);
    return user ? { data: user } : driftError(reply, 404, 'not_found', 'User not found');
  });

  let scopes: readonly string[] = opts.scopes ?? DRIFT_SANDBOX_SCOPES;
  registerTokenInfoRoute(app, { token, orgId: world.orgId, appId: 'novade-sandbox-app', scopes: () => scopes, createdAt: now().getTime() });
  registerControlRoutes(app, { store, webhooks, limiter });

  await app.listen({ port: opts.port ?? SANDBOX.drift.port, host: opts.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? SANDBOX.drift.port);
  baseUrl = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  log.info({ url: baseUrl, conversations: store.conversationCount() }, 'Drift emulator listening');

  return {
    url: baseUrl,
    port,
    store,
    faults,
    setWebhook: (config) => webhooks.set(config),
    flushWebhooks: (timeoutMs) => webhooks.flush(timeoutMs),
    webhookStats: () => webhooks.stats(),
    emittedEvents: (type) => webhooks.emitted(type),
    setRateLimit: (perMinute) => limiter.set(perMinute),
    setScopes: (next) => {
      scopes = next;
    },
    close: async () => {
      webhooks.close();
      await app.close();
    },
  };
}

const authorSchema = z.union([z.object({ type: z.literal('contact') }), z.object({ type: z.literal('user'), id: z.number().int().optional(), bot: z.boolean().optional() })]);
const newMessageSchema = z.object({
  author: authorSchema.optional(),
  body: z.string().optional(),
  type: z.enum(['chat', 'private_note']).optional(),
  createdAt: z.number().int().optional(),
});
const newConversationSchema = z.object({
  contactId: z.number().int().optional(),
  email: z.string().optional(),
  body: z.string().optional(),
  playbookId: z.number().int().optional(),
  inboxId: z.number().int().optional(),
});
const newMeetingSchema = z.object({
  contactId: z.number().int().optional(),
  conversationId: z.number().int().optional(),
  agentId: z.number().int().optional(),
  slotStart: z.number().int().optional(),
  durationMinutes: z.number().int().positive().optional(),
  meetingSource: z.string().optional(),
});

interface ControlDeps {
  store: DriftStore;
  webhooks: DriftWebhooks;
  limiter: PerMinuteLimiter;
}

function registerControlRoutes(app: FastifyInstance, d: ControlDeps): void {
  const idOf = (req: FastifyRequest) => Number((req.params as { id: string }).id);
  /** Runs a store mutation; a missing id is a 404, a bad body a 400. */
  const mutate = async <T>(reply: FastifyReply, schema: z.ZodType<T>, body: unknown, run: (input: T) => unknown) => {
    const parsed = schema.safeParse(body ?? {});
    if (!parsed.success) return reply.code(400).send({ error: z.prettifyError(parsed.error) });
    try {
      return run(parsed.data);
    } catch (err) {
      return reply.code(404).send({ error: err instanceof Error ? err.message : String(err) });
    }
  };

  app.get('/__sandbox/stats', async () => ({
    conversations: d.store.conversationCount(),
    messages: d.store.messageCount(),
    contacts: d.store.allContacts().length,
    meetings: d.store.allMeetings().length,
    rateLimitPerMinute: d.limiter.limit ?? null,
    webhook: { target: d.webhooks.target ?? null, stats: d.webhooks.stats() },
  }));
  app.put('/__sandbox/webhook', async (req, reply) => {
    if (req.body === null || (typeof req.body === 'object' && Object.keys(req.body as object).length === 0)) {
      d.webhooks.set(undefined);
      return { target: null };
    }
    const parsed = webhookConfigSchema.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: z.prettifyError(parsed.error) });
    d.webhooks.set(parsed.data);
    return { target: d.webhooks.target };
  });
  app.post('/__sandbox/webhook/flush', async () => {
    await d.webhooks.flush();
    return d.webhooks.stats();
  });
  app.get('/__sandbox/webhook/emitted', async (req) => {
    const type = (req.query as { type?: string }).type;
    return d.webhooks.emitted(DRIFT_EVENT_TYPES.find((t) => t === type));
  });
  app.put('/__sandbox/rate-limit', async (req, reply) =>
    mutate(reply, z.object({ perMinute: z.number().int().positive().nullable() }), req.body, ({ perMinute }) => {
      d.limiter.set(perMinute ?? undefined);
      return { perMinute };
    }),
  );
  app.post('/__sandbox/conversations', async (req, reply) => mutate(reply, newConversationSchema, req.body, (input) => d.store.createConversation(input)));
  app.post('/__sandbox/conversations/:id/messages', async (req, reply) => mutate(reply, newMessageSchema, req.body, (input) => d.store.addMessage(idOf(req), input)));
  app.put('/__sandbox/conversations/:id/status', async (req, reply) =>
    mutate(reply, z.object({ status: z.enum(['open', 'closed', 'pending', 'bulk_sent']) }), req.body, ({ status }) => d.store.setConversationStatus(idOf(req), status)),
  );
  app.post('/__sandbox/conversations/:id/playbook-goal', async (req, reply) =>
    mutate(reply, z.object({ goalId: z.string().optional() }), req.body, ({ goalId }) => d.store.playbookGoalMet(idOf(req), goalId)),
  );
  app.post('/__sandbox/contacts/:id/identify', async (req, reply) =>
    mutate(reply, z.object({ email: z.string().min(1), name: z.string().optional() }), req.body, (input) => d.store.identifyContact(idOf(req), input)),
  );
  app.patch('/__sandbox/contacts/:id', async (req, reply) => mutate(reply, z.record(z.string(), z.unknown()), req.body, (attrs) => d.store.updateContact(idOf(req), attrs)));
  app.post('/__sandbox/meetings', async (req, reply) => mutate(reply, newMeetingSchema, req.body, (input) => d.store.bookMeeting(input)));
}
