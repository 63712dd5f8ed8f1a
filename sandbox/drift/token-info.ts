import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

/**
 * `POST /app/token_info` (devdocs.drift.com "Get Token Information"): the token travels in the body,
 * not in an Authorization header, and the answer names its org, app and space-separated scopes.
 * Drift does not document the answer for an unknown token; here it is 401 `authentication_error`,
 * like every other call with a bad token.
 */

/** The scopes of the sandbox app's token: read access to everything the Drift sync reads. */
export const DRIFT_SANDBOX_SCOPES = ['contact_read', 'conversation_read', 'user_read'] as const;

export const TOKEN_INFO_PATH = '/app/token_info';

const bodySchema = z.object({ access_token: z.string().min(1) });

export interface TokenInfoOptions {
  token: string;
  orgId: number;
  appId: string;
  scopes: () => readonly string[];
  createdAt: number;
}

export function registerTokenInfoRoute(app: FastifyInstance, opts: TokenInfoOptions): void {
  app.post(TOKEN_INFO_PATH, async (req, reply) => {
    const body = bodySchema.safeParse(req.body);
    if (!body.success) return reply.code(400).send({ error: { type: 'validation_error', message: 'access_token is required in the JSON body' } });
    if (body.data.access_token !== opts.token) return reply.code(401).send({ error: { type: 'authentication_error', message: 'Invalid access token' } });
    return {
      access_token: opts.token,
      authenticated_userid: `orgId:${opts.orgId}`,
      credential_id: opts.appId,
      token_type: 'bearer',
      // 0: a token from "Install to Drift" stays valid until revoked.
      expires_in: 0,
      created_at: opts.createdAt,
      scope: opts.scopes().join(' '),
      id: `tok-${opts.orgId}-${opts.appId}`,
    };
  });
}
