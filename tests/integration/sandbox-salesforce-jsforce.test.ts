import { Connection, type TokenResponse } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../sandbox/salesforce';

/**
 * The acceptance, against the full-size org (scale 1) with real jsforce 3: log in, page
 * through all 37,000 contacts, re-authenticate after INVALID_SESSION_ID, run a Bulk 2.0 query.
 */
let emu: SalesforceEmulator;

beforeAll(async () => {
  emu = await startSalesforceEmulator({ port: 0, seed: 42, scale: 1, bulkJobDurationMs: 100 });
});
afterAll(async () => {
  await emu?.close();
});

function clientCredentialsConnection(onRefresh?: () => void): Connection {
  return new Connection({
    loginUrl: emu.url,
    version: '62.0',
    oauth2: { loginUrl: emu.url, clientId: emu.credentials.clientId, clientSecret: emu.credentials.clientSecret },
    // The client credentials flow has no refresh token: a new token is simply requested again.
    refreshFn: (conn, callback) => {
      onRefresh?.();
      conn.oauth2.requestToken({ grant_type: 'client_credentials' }).then(
        (res: TokenResponse) => callback(null, res.access_token, res),
        (err: Error) => callback(err),
      );
    },
  });
}

async function loggedIn(onRefresh?: () => void): Promise<Connection> {
  const conn = clientCredentialsConnection(onRefresh);
  await conn.authorize({ grant_type: 'client_credentials' });
  return conn;
}

describe('Salesforce emulator with jsforce 3', () => {
  it('jsforce logs in with the client credentials grant', async () => {
    const conn = clientCredentialsConnection();
    const user = await conn.authorize({ grant_type: 'client_credentials' });
    expect(conn.instanceUrl).toBe(emu.url);
    expect(conn.accessToken).toMatch(/^00D[0-9A-Za-z]{12}!/);
    expect(user.organizationId).toMatch(/^00D/);
    expect(user.id).toMatch(/^005/);
    const identity = await conn.identity();
    expect(identity.user_id).toBe(user.id);
  });

  it('jsforce logs in with the username-password grant (password followed by the security token)', async () => {
    const conn = new Connection({ loginUrl: emu.url, version: '62.0', oauth2: { loginUrl: emu.url, clientId: emu.credentials.clientId, clientSecret: emu.credentials.clientSecret } });
    const user = await conn.login(emu.credentials.username, emu.credentials.password + emu.credentials.securityToken);
    expect(user.organizationId).toMatch(/^00D/);
    const res = await conn.query<{ Id: string }>('SELECT Id FROM Account LIMIT 1');
    expect(res.records).toHaveLength(1);
  });

  it('wrong credentials get OAuth errors: invalid_client for a bad secret, invalid_grant for a bad password', async () => {
    const badSecret = new Connection({ loginUrl: emu.url, version: '62.0', oauth2: { loginUrl: emu.url, clientId: emu.credentials.clientId, clientSecret: 'nope' } });
    await expect(badSecret.authorize({ grant_type: 'client_credentials' })).rejects.toMatchObject({ name: 'invalid_client' });
    const badPassword = new Connection({ loginUrl: emu.url, version: '62.0', oauth2: { loginUrl: emu.url, clientId: emu.credentials.clientId, clientSecret: emu.credentials.clientSecret } });
    await expect(badPassword.login(emu.credentials.username, 'wrong')).rejects.toMatchObject({ name: 'invalid_grant' });
  });

  it('jsforce pages through all 37,000 contacts with autoFetch (maxFetch above 37,000), one request per 2,000 records', async () => {
    const conn = await loggedIn();
    const before = emu.apiUsage().used;
    const res = await conn.query<{ Id: string; Email: string | null }>('SELECT Id, Email, SystemModstamp FROM Contact ORDER BY SystemModstamp, Id', { autoFetch: true, maxFetch: 100_000 });
    const live = emu.store.count('Contact');
    expect(live).toBeGreaterThan(36_000);
    expect(res.totalSize).toBe(live);
    expect(res.records).toHaveLength(live);
    expect(new Set(res.records.map((r) => r.Id)).size).toBe(live);
    expect(emu.apiUsage().used - before).toBe(Math.ceil(live / 2_000));
    expect(conn.limitInfo.apiUsage?.limit).toBe(100_000);
  });

  it('queryAll through jsforce (scanAll) returns all 37,000 contacts including IsDeleted ones', async () => {
    const conn = await loggedIn();
    const res = await conn.query<{ Id: string; IsDeleted: boolean }>('SELECT Id, IsDeleted FROM Contact', { autoFetch: true, maxFetch: 100_000, scanAll: true });
    expect(res.records).toHaveLength(37_000);
    expect(res.records.filter((r) => r.IsDeleted).length).toBe(37_000 - emu.store.count('Contact'));
  });

  it('query pages by nextRecordsUrl with at most 2,000 records (jsforce queryMore), and honours Sforce-Query-Options batchSize', async () => {
    const conn = await loggedIn();
    const sizes: number[] = [];
    const ids = new Set<string>();
    let res = await conn.query<{ Id: string }>('SELECT Id FROM Contact');
    for (;;) {
      sizes.push(res.records.length);
      for (const r of res.records) ids.add(r.Id);
      if (res.done) break;
      expect(res.nextRecordsUrl).toMatch(/\/services\/data\/v62\.0\/query\/01g[0-9A-Za-z]{15}-\d+$/);
      res = await conn.queryMore<{ Id: string }>(res.nextRecordsUrl as string);
    }
    expect(ids.size).toBe(emu.store.count('Contact'));
    expect(Math.max(...sizes)).toBe(2_000);
    expect(sizes.slice(0, -1).every((n) => n === 2_000)).toBe(true);
    const small = await conn.query('SELECT Id FROM Contact', { headers: { 'Sforce-Query-Options': 'batchSize=500' } });
    expect(small.records).toHaveLength(500);
  });

  it('re-authenticates after an injected INVALID_SESSION_ID: jsforce calls refreshFn and the query succeeds', async () => {
    let refreshes = 0;
    const conn = await loggedIn(() => refreshes++);
    emu.setSessionExpiry(5);
    try {
      const res = await conn.query<{ Id: string }>('SELECT Id FROM Contact', { autoFetch: true, maxFetch: 100_000 });
      expect(res.records).toHaveLength(emu.store.count('Contact'));
      // 19 pages, 5 calls a session: the session expired (and was renewed) 3 times.
      expect(refreshes).toBe(3);
    } finally {
      emu.setSessionExpiry(undefined);
    }
  });

  it('re-authenticates a username-password session the same way (jsforce logs in again)', async () => {
    const conn = new Connection({ loginUrl: emu.url, version: '62.0', oauth2: { loginUrl: emu.url, clientId: emu.credentials.clientId, clientSecret: emu.credentials.clientSecret } });
    await conn.login(emu.credentials.username, emu.credentials.password + emu.credentials.securityToken);
    const firstToken = conn.accessToken;
    emu.expireSessions();
    const res = await conn.query('SELECT COUNT() FROM Lead');
    expect(res.totalSize).toBe(emu.store.count('Lead'));
    expect(conn.accessToken).not.toBe(firstToken);
  });

  it('runs a Bulk 2.0 query through jsforce (conn.bulk2.query) for the full 37,000-contact initial load', async () => {
    const conn = await loggedIn();
    const records = await (await conn.bulk2.query('SELECT Id, FirstName, LastName, Email, SystemModstamp, IsDeleted FROM Contact', { pollInterval: 50, pollTimeout: 30_000 })).toArray();
    expect(records).toHaveLength(emu.store.count('Contact'));
    expect(records[0]).toMatchObject({ Id: expect.stringMatching(/^003/), IsDeleted: 'false', SystemModstamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/) });
    const withUnicode = records.find((r) => /[^\u0000-\u007f]/.test(String(r.LastName)));
    expect(withUnicode).toBeDefined();
  });
});
