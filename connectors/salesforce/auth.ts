import fs from 'node:fs';
import { createSign } from 'node:crypto';
import { Connection, type TokenResponse } from 'jsforce';
import type { AppConfig } from '../../config/config';
import { PermanentError } from '../../lib/errors';

/**
 * A logged-in jsforce Connection for the configured flow. Every flow installs a `refreshFn`, so when
 * Salesforce answers 401 INVALID_SESSION_ID (session timeout, admin revoke) jsforce re-authenticates
 * and replays the request: a long sync never dies of an expired token.
 *
 * - client_credentials (default): the connected app's client id + secret, run as its integration user.
 * - jwt: JWT bearer with the connected app's certificate key; no secret, no password.
 * - password: username + password (+ security token). Blocked by default in orgs created since
 *   Summer '23; through OAuth when a client id/secret is set, else the SOAP login jsforce still has.
 */

export type SalesforceAuthConfig = Pick<
  AppConfig['salesforce'],
  'loginUrl' | 'auth' | 'clientId' | 'clientSecret' | 'username' | 'password' | 'securityToken' | 'jwtKeyPath' | 'apiVersion'
>;

export interface SalesforceSession {
  conn: Connection;
  /** The error of the last failed re-authentication: jsforce only passes its message on. */
  lastAuthError(): unknown;
  /** Env vars to check when login fails, for the error message. */
  credentialsHint: string;
}

type RefreshCallback = (err: Error | null | undefined, accessToken?: string, res?: TokenResponse) => void;
type TokenParams = { grant_type: string; [name: string]: string };

/** A session refused right after re-authentication would make jsforce refresh forever: stop after a few. */
const MAX_REFRESHES_PER_MINUTE = 5;

export function credentialsHint(cfg: Pick<SalesforceAuthConfig, 'auth'>): string {
  switch (cfg.auth) {
    case 'client_credentials':
      return 'SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET and SALESFORCE_LOGIN_URL (your My Domain URL)';
    case 'jwt':
      return 'SALESFORCE_CLIENT_ID / SALESFORCE_USERNAME / SALESFORCE_JWT_KEY_PATH (the key of the certificate uploaded to the connected app) and SALESFORCE_LOGIN_URL';
    case 'password':
      return 'SALESFORCE_USERNAME / SALESFORCE_PASSWORD / SALESFORCE_SECURITY_TOKEN (and SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET if set)';
  }
}

/**
 * `aud` of the JWT bearer assertion: Salesforce accepts login.salesforce.com (production),
 * test.salesforce.com (sandboxes) or an Experience Cloud site URL, not a My Domain URL.
 */
export function jwtAudience(loginUrl: string): string {
  const host = new URL(loginUrl).host;
  if (/(^|\.)test\.salesforce\.com$|\.sandbox\.my\.salesforce\.com$|--/.test(host)) return 'https://test.salesforce.com';
  if (/salesforce\.com$|force\.com$/.test(host)) return 'https://login.salesforce.com';
  return loginUrl.replace(/\/$/, '');
}

const b64url = (input: string | Buffer) => Buffer.from(input).toString('base64url');

/** An RS256-signed JWT bearer assertion, valid 3 minutes as Salesforce recommends. */
export function jwtAssertion(opts: { clientId: string; username: string; audience: string; privateKeyPem: string; now?: number }): string {
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = b64url(JSON.stringify({ iss: opts.clientId, sub: opts.username, aud: opts.audience, exp: now + 180 }));
  const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(opts.privateKeyPem);
  return `${header}.${claims}.${b64url(signature)}`;
}

function need(value: string | undefined, name: string): string {
  if (!value) throw new PermanentError('ConfigError', `${name} is required for SALESFORCE_AUTH flows that use it; see .env.example.`);
  return value;
}

export async function connectSalesforce(cfg: SalesforceAuthConfig): Promise<SalesforceSession> {
  let lastAuthError: unknown;
  const refreshTimes: number[] = [];
  const hint = credentialsHint(cfg);

  /** Token request parameters of the configured OAuth flow (built anew each time: a JWT expires). */
  const tokenParams = (): TokenParams => {
    switch (cfg.auth) {
      case 'client_credentials':
        need(cfg.clientId, 'SALESFORCE_CLIENT_ID');
        need(cfg.clientSecret, 'SALESFORCE_CLIENT_SECRET');
        return { grant_type: 'client_credentials' };
      case 'jwt': {
        let key: string;
        try {
          key = fs.readFileSync(need(cfg.jwtKeyPath, 'SALESFORCE_JWT_KEY_PATH'), 'utf8');
        } catch (err) {
          if (err instanceof PermanentError) throw err;
          throw new PermanentError('ConfigError', `Cannot read the JWT private key at SALESFORCE_JWT_KEY_PATH=${cfg.jwtKeyPath}: ${(err as Error).message}`, { cause: err });
        }
        const assertion = jwtAssertion({ clientId: need(cfg.clientId, 'SALESFORCE_CLIENT_ID'), username: need(cfg.username, 'SALESFORCE_USERNAME'), audience: jwtAudience(cfg.loginUrl), privateKeyPem: key });
        return { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion };
      }
      case 'password':
        return { grant_type: 'password', username: need(cfg.username, 'SALESFORCE_USERNAME'), password: need(cfg.password, 'SALESFORCE_PASSWORD') + (cfg.securityToken ?? '') };
    }
  };

  const refreshFn = (conn: Connection, callback: RefreshCallback) => {
    const now = Date.now();
    while (refreshTimes.length > 0 && refreshTimes[0] < now - 60_000) refreshTimes.shift();
    if (refreshTimes.length >= MAX_REFRESHES_PER_MINUTE) {
      lastAuthError = new PermanentError('AuthError', `Salesforce keeps refusing fresh sessions (${refreshTimes.length} re-authentications in a minute): check ${hint}, and the integration user's profile and IP restrictions.`);
      callback(lastAuthError as Error);
      return;
    }
    refreshTimes.push(now);
    Promise.resolve()
      .then(() => conn.oauth2.requestToken(tokenParams()))
      .then(
        (res) => {
          if (res.instance_url) conn.instanceUrl = res.instance_url;
          callback(null, res.access_token, res);
        },
        (err: unknown) => {
          lastAuthError = err;
          callback(err instanceof Error ? err : new Error(String(err)));
        },
      );
  };

  // The JWT flow needs no secret and must not send one; the other flows authenticate the app with it.
  const oauth2 = { loginUrl: cfg.loginUrl, clientId: cfg.clientId, clientSecret: cfg.auth === 'jwt' ? undefined : cfg.clientSecret };
  const conn = new Connection({ loginUrl: cfg.loginUrl, version: cfg.apiVersion, oauth2, refreshFn });

  if (cfg.auth === 'password' && !(cfg.clientId && cfg.clientSecret)) {
    // No connected app: only SOAP login is left. jsforce installs its own re-login on 401.
    await conn.login(need(cfg.username, 'SALESFORCE_USERNAME'), need(cfg.password, 'SALESFORCE_PASSWORD') + (cfg.securityToken ?? ''));
  } else {
    await conn.authorize(tokenParams());
  }
  return { conn, lastAuthError: () => lastAuthError, credentialsHint: hint };
}
