import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { EmulatorContext } from '../context';
import { ORG_ID } from '../ids';
import { splitRoute, SALESFORCE_ROUTES } from '../routes';
import { INTEGRATION_USER_ID } from '../store';

type Form = Record<string, string | undefined>;

/** OAuth errors are not the REST array: `{ error, error_description }`, status 400. */
function oauthError(reply: FastifyReply, error: string, description: string) {
  return reply.code(400).send({ error, error_description: description });
}

function clientFromBasicAuth(header: string | undefined): { id?: string; secret?: string } {
  if (!header?.startsWith('Basic ')) return {};
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? {} : { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
}

/**
 * `POST /services/oauth2/token` with the client credentials and username-password grants (the
 * ones a server-side integration uses), plus revoke and the identity URL jsforce reads ids from.
 */
export function registerOAuthRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const token = splitRoute(SALESFORCE_ROUTES.token);
  app.route<{ Body: Form | undefined }>({
    method: token.method,
    url: token.url,
    handler: async (request, reply) => {
      const form: Form = { ...(typeof request.body === 'object' && request.body !== null ? request.body : {}) };
      const basic = clientFromBasicAuth(request.headers.authorization);
      const clientId = form.client_id ?? basic.id;
      const clientSecret = form.client_secret ?? basic.secret;
      const { credentials } = ctx;
      const grant = form.grant_type;
      if (grant !== 'client_credentials' && grant !== 'password') return oauthError(reply, 'unsupported_grant_type', 'grant type not supported');
      if (clientId !== credentials.clientId) return oauthError(reply, 'invalid_client_id', 'client identifier invalid');
      if (clientSecret !== credentials.clientSecret) return oauthError(reply, 'invalid_client', 'invalid client credentials');
      if (grant === 'password') {
        // Salesforce wants the password followed by the security token unless the IP is trusted.
        const okPassword = form.password === credentials.password + credentials.securityToken || form.password === credentials.password;
        if (form.username !== credentials.username || !okPassword) return oauthError(reply, 'invalid_grant', 'authentication failure');
      }
      const issuedAt = String(Date.now());
      const id = `${ctx.baseUrl()}/id/${ORG_ID}/${INTEGRATION_USER_ID}`;
      return {
        access_token: ctx.sessions.issue(ctx.store.now()),
        instance_url: ctx.baseUrl(),
        id,
        token_type: 'Bearer',
        issued_at: issuedAt,
        signature: createHmac('sha256', credentials.clientSecret).update(id + issuedAt).digest('base64'),
        ...(grant === 'client_credentials' ? { scope: 'api' } : {}),
      };
    },
  });

  const revoke = splitRoute(SALESFORCE_ROUTES.revoke);
  app.route<{ Body: Form | undefined }>({
    method: revoke.method,
    url: revoke.url,
    handler: async (request, reply) => {
      const value = request.body?.token;
      if (value) ctx.sessions.revoke(value);
      return reply.code(200).send();
    },
  });

  const identity = splitRoute(SALESFORCE_ROUTES.identity);
  app.route({
    method: identity.method,
    url: identity.url,
    handler: async () => {
      const base = ctx.baseUrl();
      return {
        id: `${base}/id/${ORG_ID}/${INTEGRATION_USER_ID}`,
        user_id: INTEGRATION_USER_ID,
        organization_id: ORG_ID,
        username: ctx.credentials.username,
        display_name: 'Sandbox Integration',
        email: ctx.credentials.username,
        active: true,
        user_type: 'STANDARD',
        language: 'en_US',
        locale: 'en_SG',
        utcOffset: 28_800_000,
        urls: { rest: `${base}/services/data/v{version}/`, query: `${base}/services/data/v{version}/query/`, sobjects: `${base}/services/data/v{version}/sobjects/` },
      };
    },
  });
}
