import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { logger } from '../../config/logger';
import { Faults, installFaults, type FaultConfigInput, type InjectedFault } from '../faults';
import { generateSalesforceSeed } from '../seed/salesforce';
import { ApiUsage } from './api-usage';
import { BulkQueryJobs } from './bulk-jobs';
import { apiVersion, type EmulatorContext, type SalesforceCredentials } from './context';
import { notFound, SalesforceApiError, sessionInvalid } from './errors';
import { QueryCursors } from './query-cursors';
import { SALESFORCE_ROUTES } from './routes';
import { registerBulkRoutes } from './routes/bulk';
import { registerControlRoutes } from './routes/control';
import { registerOAuthRoutes } from './routes/oauth';
import { registerQueryRoutes } from './routes/query';
import { registerSObjectRoutes } from './routes/sobjects';
import { Sessions } from './sessions';
import { SalesforceStore } from './store';

export interface SalesforceEmulatorOptions {
  /** 0 picks a free port; default 4010 (config/sandbox-endpoints.ts). */
  port?: number;
  host?: string;
  seed?: number;
  /** 1 = 37,000 contacts / 20,000 leads / 8,000 opportunities; tests use e.g. 0.02. */
  scale?: number;
  faults?: FaultConfigInput;
  /** Every session expires after this many API calls (401 INVALID_SESSION_ID); default never. */
  sessionExpiresAfterCalls?: number;
  /** API calls allowed per rolling 24 hours before 403 REQUEST_LIMIT_EXCEEDED; default 100,000. */
  apiDailyLimit?: number;
  /** The emulator clock (SystemModstamp of changes, stage plan, API window); default real time. */
  now?: () => Date;
  /** Real time a Bulk 2.0 query job takes to reach JobComplete; default 250 ms. */
  bulkJobDurationMs?: number;
  /**
   * Records per Bulk 2.0 results page when the client sends no maxRecords; default 50,000 (the
   * real default is unpublished, "based on the service"). jsforce 3's `bulk2.query()` mis-reads
   * multi-page results (it concatenates the pages, header rows included), so a smaller value here
   * reproduces that trap; page with maxRecords + Sforce-Locator yourself to avoid it.
   */
  bulkResultsPageSize?: number;
  credentials?: Partial<SalesforceCredentials>;
}

export interface SalesforceEmulator {
  /** Base URL: jsforce's loginUrl and the instance_url the token endpoint answers. */
  url: string;
  port: number;
  store: SalesforceStore;
  faults: Faults;
  sessions: Sessions;
  credentials: SalesforceCredentials;
  /** Every session (open or future) expires after `calls` more API calls; undefined: never. */
  setSessionExpiry(calls: number | undefined): void;
  /** Invalidates every open session now. */
  expireSessions(): void;
  /** Sets the daily API allowance, and optionally how much of it is already used. */
  setApiLimit(max: number, used?: number): void;
  apiUsage(): { used: number; max: number };
  close(): Promise<void>;
}

export const SALESFORCE_SANDBOX_USER = { username: 'integration@novade-sandbox.example', password: 'sandbox-password', securityToken: 'SANDBOXTOKEN0' } as const;

const REST_PREFIX = '/services/data/:version';

/** The Salesforce error body for an injected fault (502 / 504 come from the edge, as HTML). */
function respondToFault(fault: InjectedFault, request: FastifyRequest, reply: FastifyReply) {
  const status = typeof fault.status === 'number' ? fault.status : 500;
  if (request.url.startsWith('/services/oauth2/')) {
    return reply.send({ error: status === 429 ? 'rate_limited' : 'server_error', error_description: `injected ${status}` });
  }
  if (status === 502 || status === 504) {
    return reply.type('text/html').send(`<html><head><title>${status}</title></head><body><h1>${status === 502 ? 'Bad Gateway' : 'Gateway Timeout'}</h1></body></html>`);
  }
  const [errorCode, message] =
    status === 401
      ? ['INVALID_SESSION_ID', 'Session expired or invalid']
      : status === 403
        ? ['REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.']
        : status === 404
          ? ['NOT_FOUND', 'The requested resource does not exist']
          : status === 429
            ? ['REQUEST_LIMIT_EXCEEDED', `Too many requests, retry after ${fault.retryAfterSeconds ?? 1} seconds`]
            : status === 503
              ? ['SERVER_UNAVAILABLE', 'Server temporarily unavailable, please retry']
              : status >= 500
                ? ['UNKNOWN_EXCEPTION', 'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-987654321)']
                : ['BAD_REQUEST', `Injected error ${status}`];
  return reply.send([{ message, errorCode }]);
}

/**
 * Starts the Salesforce REST / Bulk 2.0 emulator: jsforce talks to it unchanged with
 * `loginUrl: emulator.url`. See sandbox/salesforce/README.md for what it emulates.
 */
export async function startSalesforceEmulator(opts: SalesforceEmulatorOptions = {}): Promise<SalesforceEmulator> {
  const log = logger().child({ component: 'salesforce-emulator' });
  const seed = generateSalesforceSeed({ seed: opts.seed ?? 42, scale: opts.scale ?? 1 });
  const store = new SalesforceStore(seed, opts.now);
  const credentials: SalesforceCredentials = {
    clientId: SANDBOX.salesforce.clientId,
    clientSecret: SANDBOX.salesforce.clientSecret,
    ...SALESFORCE_SANDBOX_USER,
    ...opts.credentials,
  };
  const faults = new Faults(opts.faults ?? {});
  const sessions = new Sessions(opts.sessionExpiresAfterCalls);
  const usage = new ApiUsage(opts.apiDailyLimit ?? 100_000);
  let baseUrl = '';
  const ctx: EmulatorContext = {
    store,
    sessions,
    usage,
    cursors: new QueryCursors(store),
    bulk: new BulkQueryJobs(store, opts.bulkJobDurationMs ?? 250, opts.bulkResultsPageSize ?? 50_000),
    credentials,
    baseUrl: () => baseUrl,
  };

  const app = Fastify({ logger: false, forceCloseConnections: true, routerOptions: { maxParamLength: 300, ignoreTrailingSlash: true }, bodyLimit: 50 * 1024 * 1024 });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  // Clients send `Content-Type: application/json` on bodiless DELETEs; Salesforce does not mind.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new SalesforceApiError(400, 'JSON_PARSER_ERROR', `Unexpected character in the JSON body: ${text.slice(0, 40)}`), undefined);
    }
  });

  installFaults(app, faults, respondToFault);

  // Session, then API allowance, on every REST call; the token endpoint and /services/data are open.
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url ?? '';
    const isRest = route.startsWith(REST_PREFIX);
    if (!isRest && route !== SALESFORCE_ROUTES.identity.split(' ')[1]) return;
    store.tick();
    if (isRest && !apiVersion((request.params as { version: string }).version)) throw notFound();
    const auth = request.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : auth.startsWith('OAuth ') ? auth.slice(6) : undefined;
    if (!sessions.use(token)) throw sessionInvalid();
    if (!isRest) return;
    const now = store.now();
    if (!usage.tryUse(now)) {
      reply.header('Sforce-Limit-Info', `api-usage=${usage.used(now)}/${usage.max}`);
      throw new SalesforceApiError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    }
    reply.header('Sforce-Limit-Info', `api-usage=${usage.used(now)}/${usage.max}`);
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof SalesforceApiError) return reply.code(error.status).send(error.body());
    const status = typeof (error as { statusCode?: unknown }).statusCode === 'number' ? (error as { statusCode: number }).statusCode : 500;
    const message = error instanceof Error ? error.message : String(error);
    if (request.url.startsWith('/__sandbox/')) return reply.code(status).send({ error: message });
    if (status >= 500) log.error({ err: error, url: request.url }, 'Salesforce emulator failed on a request');
    return reply.code(status).send([{ message: status >= 500 ? 'An unexpected error occurred.' : message, errorCode: status >= 500 ? 'UNKNOWN_EXCEPTION' : 'JSON_PARSER_ERROR' }]);
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(notFound().body()));

  registerOAuthRoutes(app, ctx);
  registerSObjectRoutes(app, ctx);
  registerQueryRoutes(app, ctx);
  registerBulkRoutes(app, ctx);
  registerControlRoutes(app, ctx);

  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? SANDBOX.salesforce.port, host });
  const port = (app.server.address() as AddressInfo).port;
  const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  baseUrl = `http://${publicHost}:${port}`;
  log.debug({ url: baseUrl, seed: seed.seed, scale: seed.scale }, 'Salesforce emulator listening');

  return {
    url: baseUrl,
    port,
    store,
    faults,
    sessions,
    credentials,
    setSessionExpiry: (calls) => sessions.setExpiry(calls),
    expireSessions: () => sessions.expireAll(),
    setApiLimit: (max, used) => {
      usage.max = max;
      if (used !== undefined) {
        usage.reset();
        usage.fill(used, store.now());
      }
    },
    apiUsage: () => ({ used: usage.used(store.now()), max: usage.max }),
    close: () => app.close(),
  };
}
