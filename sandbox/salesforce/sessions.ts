import { randomBytes } from 'node:crypto';
import { ORG_ID } from './ids';

interface Session {
  calls: number;
  issuedAt: number;
}

/**
 * OAuth access tokens the emulator issued. A token can be made to expire after N API calls
 * (`expiresAfterCalls`), so tests see the 401 INVALID_SESSION_ID that makes jsforce run its
 * refreshFn, then succeed with the new token.
 */
export class Sessions {
  private readonly sessions = new Map<string, Session>();
  /** How many 401s were answered because a session had expired or was unknown. */
  rejected = 0;

  constructor(private expiresAfterCalls?: number) {}

  issue(now: number): string {
    // Salesforce tokens start with the org id and '!'.
    const token = `${ORG_ID.slice(0, 15)}!${randomBytes(36).toString('base64url')}`;
    this.sessions.set(token, { calls: 0, issuedAt: now });
    return token;
  }

  /** Counts an API call on the token; false when the token is unknown or has used up its calls. */
  use(token: string | undefined): boolean {
    const session = token === undefined ? undefined : this.sessions.get(token);
    if (!session || (this.expiresAfterCalls !== undefined && session.calls >= this.expiresAfterCalls)) {
      if (session) this.sessions.delete(token as string);
      this.rejected++;
      return false;
    }
    session.calls++;
    return true;
  }

  /** Every session, open or future, expires after `calls` more API calls; undefined: never. */
  setExpiry(calls: number | undefined): void {
    if (calls !== undefined && (!Number.isInteger(calls) || calls < 0)) throw new Error(`Session expiry must be a whole number of calls, got ${calls}`);
    this.expiresAfterCalls = calls;
    for (const session of this.sessions.values()) session.calls = 0;
  }

  get expiry(): number | undefined {
    return this.expiresAfterCalls;
  }

  /** Invalidates every open session now (an admin's "revoke all"). */
  expireAll(): void {
    this.sessions.clear();
  }

  revoke(token: string): void {
    this.sessions.delete(token);
  }

  get openCount(): number {
    return this.sessions.size;
  }
}
