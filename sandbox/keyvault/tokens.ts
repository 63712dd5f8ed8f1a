import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Access tokens of the emulator's managed-identity endpoint: `kvemu.<claims>.<hmac>`. The key is fixed
 * for the sandbox because MSAL caches managed-identity tokens per process, across credential objects:
 * a token one emulator issued must still verify on the next one a test starts.
 */
const SANDBOX_TOKEN_KEY = 'novade-sandbox-keyvault-token-key';
export const KEY_VAULT_RESOURCE = 'https://vault.azure.net';

export interface TokenClaims {
  /** Principal: the user-assigned identity's client id, or `system-assigned`. */
  oid: string;
  aud: string;
  exp: number;
}

const sign = (body: string) => createHmac('sha256', SANDBOX_TOKEN_KEY).update(body).digest('base64url');

export function issueToken(claims: TokenClaims): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `kvemu.${body}.${sign(body)}`;
}

/** The claims of a token this emulator issued, or a reason it is not one. */
export function verifyToken(token: string): TokenClaims | { invalid: string } {
  const [prefix, body, sig] = token.split('.');
  if (prefix !== 'kvemu' || !body || !sig) return { invalid: 'AKV10000: Request is missing a Bearer or PoP token.' };
  const expected = Buffer.from(sign(body));
  if (expected.length !== Buffer.from(sig).length || !timingSafeEqual(expected, Buffer.from(sig))) return { invalid: 'AKV10032: Invalid issuer or signature.' };
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims;
  if (claims.aud.replace(/\/+$/, '') !== KEY_VAULT_RESOURCE) return { invalid: `AKV10022: Invalid audience. Expected ${KEY_VAULT_RESOURCE}, found: ${claims.aud}.` };
  if (claims.exp * 1000 < Date.now()) return { invalid: 'AKV10032: Token expired.' };
  return claims;
}
