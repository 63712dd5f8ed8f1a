import http from 'node:http';
import { generateKeyPairSync, createVerify } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, SALESFORCE_ROUTES, SALESFORCE_SANDBOX_USER, type SalesforceEmulator } from '../../sandbox/salesforce';
import { buildConfig, type AppConfig } from '../../config/config';
import { connectSalesforce, jwtAssertion, jwtAudience, keysetQuery, queryResource, SalesforceReader, soqlDateTime, toSalesforceError, comparePositions, DAILY_LIMIT_RETRY_MS, type RestCursor } from '../../connectors/salesforce';
import { PermanentError, TransientError } from '../../lib/errors';
import { STREAM_DECLARATIONS } from '../../streams/registry';
import type { Cursor, ReadMode, SourcePage } from '../../ports/source-reader';
import type { StreamDeclaration } from '../../streams/types';
import { salesforceObjectConfig } from '../../streams/config/schema';
import { salesforceDeclarations } from '../../streams/salesforce';

let emu: SalesforceEmulator;
let base: AppConfig['salesforce'];
const contactDecl = STREAM_DECLARATIONS.get('salesforce_contact') as StreamDeclaration;
const oppDecl = STREAM_DECLARATIONS.get('salesforce_opportunity') as StreamDeclaration;
const noProgress = { runId: 'test', progress: () => undefined };

beforeAll(async () => {
  emu = await startSalesforceEmulator({ port: 0, scale: 0.02, bulkJobDurationMs: 100 });
  base = { ...buildConfig({}, os.tmpdir()).salesforce, loginUrl: emu.url };
});
afterAll(async () => {
  await emu?.close();
});
beforeEach(() => {
  emu.faults.clear();
  emu.setSessionExpiry(undefined);
  emu.setApiLimit(1_000_000, 0);
});

const reader = (over: Partial<AppConfig['salesforce']> = {}, opts: Partial<ConstructorParameters<typeof SalesforceReader>[0]> = {}) =>
  new SalesforceReader({ config: { ...base, ...over }, ...opts });

/** Reads a stream to the end from a plan, as the workflow would; returns every record and page. */
async function readAll(r: SalesforceReader, decl: StreamDeclaration, stored: Cursor, full = false) {
  let { cursor, mode } = await r.plan(decl, stored, full);
  const records: Record<string, unknown>[] = [];
  const pages: SourcePage[] = [];
  const modes: ReadMode[] = [];
  for (let i = 0; i < 500; i++) {
    const page = await r.readPage(decl, cursor, mode, noProgress);
    pages.push(page);
    modes.push(mode);
    records.push(...(page.records as Record<string, unknown>[]));
    cursor = page.nextCursor;
    mode = page.nextMode;
    if (page.done) return { records, pages, modes, cursor };
  }
  throw new Error('did not finish');
}

const idsOf = (records: Record<string, unknown>[]) => records.map((r) => r.Id as string);

describe('SOQL', () => {
  it('builds keyset queries ordered by (SystemModstamp, Id)', () => {
    const q = (after: Parameters<typeof keysetQuery>[0]['after']) => keysetQuery({ object: 'Contact', fields: ['Id', 'Email', 'SystemModstamp'], cursorField: 'SystemModstamp', primaryKey: 'Id', after, limit: 2000 });
    expect(q(null)).toBe('SELECT Id, SystemModstamp, Email FROM Contact ORDER BY SystemModstamp ASC, Id ASC LIMIT 2000');
    expect(q({ ts: '2024-01-02T03:04:05.678Z', id: '0035g00000AbCdEAAZ' })).toBe(
      "SELECT Id, SystemModstamp, Email FROM Contact WHERE (SystemModstamp > 2024-01-02T03:04:05Z) OR (SystemModstamp = 2024-01-02T03:04:05Z AND Id > '0035g00000AbCdEAAZ') ORDER BY SystemModstamp ASC, Id ASC LIMIT 2000",
    );
    expect(q({ ts: '2024-01-02T03:04:05.000Z', id: null })).toContain('WHERE SystemModstamp >= 2024-01-02T03:04:05Z ORDER BY');
    expect(() => q({ ts: '2024-01-02T03:04:05Z', id: "x' OR Name != '" })).toThrow(PermanentError);
    expect(() => keysetQuery({ object: 'Contact; DELETE', fields: [], cursorField: 'SystemModstamp', primaryKey: 'Id', after: null, limit: 1 })).toThrow(/Invalid Salesforce object/);
    expect(soqlDateTime('2024-01-02T03:04:05.999+0000')).toBe('2024-01-02T03:04:05Z');
    expect(comparePositions({ ts: '2024-01-01T00:00:00Z', id: null }, { ts: '2024-01-01T00:00:00.000Z', id: '001' })).toBeLessThan(0);
  });
});

describe('query or queryAll', () => {
  it('reads with queryAll unless the stream says deletes: false', () => {
    expect(queryResource({})).toBe('queryAll');
    expect(queryResource({ deletes: true })).toBe('queryAll');
    expect(queryResource({ deletes: false })).toBe('query');
    const decl = (deletes?: boolean) => salesforceDeclarations({ objects: [salesforceObjectConfig.parse({ object: 'Contact', fields: ['Id', 'Email', 'SystemModstamp'], ...(deletes === undefined ? {} : { deletes }) })] })[0];
    expect(queryResource(decl())).toBe('queryAll');
    expect(queryResource(decl(true))).toBe('queryAll');
    expect(queryResource(decl(false))).toBe('query');
    expect(decl(false).fields).not.toContain('IsDeleted');
    // The default file tracks deletes on every Salesforce stream: they all keep queryAll.
    const shipped = [...STREAM_DECLARATIONS.values()].filter((d) => d.source === 'salesforce');
    expect(shipped.length).toBeGreaterThan(0);
    for (const d of shipped) expect(queryResource(d)).toBe('queryAll');
  });

  it('counts, pages and bulk-loads through query for deletes: false (no recycle-bin record), queryAll otherwise', async () => {
    const live = { ...contactDecl, name: 'salesforce_contact_live', fields: contactDecl.fields.filter((f) => f !== 'IsDeleted'), deletes: false };
    const binned = emu.store.records('Contact', { includeDeleted: true }).length - emu.store.records('Contact').length;
    expect(binned).toBeGreaterThan(0);
    expect(await reader().count(contactDecl)).toBe(emu.store.count('Contact', { includeDeleted: true }));
    // queryAll answers 400 from now on: the live stream never calls it.
    emu.faults.set({ [SALESFORCE_ROUTES.queryAll]: { errorRate: 1, statuses: [400] }, [SALESFORCE_ROUTES.queryAllMore]: { errorRate: 1, statuses: [400] } });
    expect(await reader().count(live)).toBe(emu.store.count('Contact'));
    const liveIds = emu.store.records('Contact').map((x) => x.Id as string);
    for (const bulkThreshold of [1_000_000, 10]) {
      const { records, modes } = await readAll(reader({ bulkThreshold }, { pageSize: 200 }), live, null);
      expect(modes[0]).toBe(bulkThreshold === 10 ? 'bulk' : 'rest');
      expect(new Set(idsOf(records))).toEqual(new Set(liveIds));
    }
    await expect(reader({ bulkThreshold: 1_000_000 }).count(contactDecl)).rejects.toThrow();
  });
});

describe('SalesforceReader against the emulator', () => {
  it('reads every record once through REST keyset pages, ties across page boundaries included, deleted ones flagged', async () => {
    const at = Date.UTC(2025, 10, 15, 12, 0, 0);
    emu.store.createMany('Contact', 450, { at });
    const victim = emu.store.records('Contact')[3].Id as string;
    emu.store.delete('Contact', victim, { at });
    const r = reader({ bulkThreshold: 1_000_000 }, { pageSize: 200 });
    const { records, pages, cursor } = await readAll(r, contactDecl, null);
    const expected = emu.store.records('Contact', { includeDeleted: true }).map((x) => x.Id as string);
    const ids = idsOf(records);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(expected));
    expect(pages.length).toBe(Math.ceil(expected.length / 200) + (expected.length % 200 === 0 ? 1 : 0));
    // The tie (451 records at one SystemModstamp) spans three pages at 200 per page.
    const tiePages = pages.filter((p) => (p.records as Record<string, unknown>[]).some((x) => Date.parse(x.SystemModstamp as string) === at));
    expect(tiePages.length).toBeGreaterThanOrEqual(3);
    expect(records.find((x) => x.Id === victim)).toMatchObject({ IsDeleted: true });
    expect(records.filter((x) => x.IsDeleted === true).length).toBe(emu.store.records('Contact', { includeDeleted: true }).filter((x) => x.IsDeleted).length);
    // Ordered by (SystemModstamp, Id): the cursor is the last record read.
    const last = records[records.length - 1];
    expect(cursor).toEqual({ ts: new Date(Date.parse(last.SystemModstamp as string)).toISOString(), id: last.Id });
    expect(pages[0].apiCalls).toBe(1);
    expect(pages[0].apiUsage).toEqual({ used: expect.any(Number), limit: 1_000_000 });
  });

  it('starts each run a lookback window before the stored position, catches late commits, and never moves the cursor back', async () => {
    const r = reader({ bulkThreshold: 1_000_000, lookbackSeconds: 600 });
    const first = await readAll(r, oppDecl, null);
    const stored = first.cursor as unknown as RestCursor;
    const plan = await r.plan(oppDecl, first.cursor, false);
    expect(plan.mode).toBe('rest');
    expect(plan.cursor).toEqual({ ts: new Date(Date.parse(stored.ts as string) - 600_000).toISOString(), id: null, hw: { ts: stored.ts, id: stored.id } });

    // A run that died during a Bulk load carries on with its job; --full starts over.
    const midBulk = { bulk: { jobId: '7505g0000001abcAAA', locator: 'MjAwMA', snapshot: '2025-12-01T00:00:00.000Z' } };
    expect(await r.plan(oppDecl, midBulk, false)).toEqual({ cursor: midBulk, mode: 'bulk' });
    expect(await r.plan(oppDecl, first.cursor, true)).toEqual({ cursor: { ts: null, id: null }, mode: 'rest' });

    // A no-change run re-reads only the window and ends where it was.
    const quiet = await readAll(r, oppDecl, first.cursor);
    expect(quiet.cursor).toEqual(first.cursor);
    expect(quiet.pages.length).toBe(1);

    // An update, and a transaction that committed late with a SystemModstamp 5 minutes in the past.
    const [a, b] = emu.store.records('Opportunity').filter((o) => !o.IsClosed).map((o) => o.Id as string);
    emu.store.update('Opportunity', a, { NextStep: 'changed now' }, { at: Date.parse(stored.ts as string) + 60_000 });
    emu.store.update('Opportunity', b, { NextStep: 'committed late' }, { at: Date.parse(stored.ts as string) - 300_000 });
    const next = await readAll(r, oppDecl, first.cursor);
    expect(idsOf(next.records)).toEqual(expect.arrayContaining([a, b]));
    expect(next.records.find((x) => x.Id === b)).toMatchObject({ NextStep: 'committed late' });
    expect((next.cursor as unknown as RestCursor).ts).toBe(new Date(Date.parse(stored.ts as string) + 60_000).toISOString());

    // A stored position whose records vanished (hard delete): the window is empty, the cursor stays put.
    const far = { ts: '2030-01-01T00:00:00.000Z', id: '0065g00000zzzzzAAA' };
    const empty = await readAll(r, oppDecl, far);
    expect(empty.records).toEqual([]);
    expect(empty.cursor).toEqual(far);
  });

  it('loads a big object through Bulk API 2.0 results pages, then REST picks up what changed meanwhile', async () => {
    const r = reader({ bulkThreshold: 100, lookbackSeconds: 600 }, { bulkPageSize: 300, bulkPollMs: { initial: 20, max: 100 } });
    const progress: unknown[] = [];
    let { cursor, mode } = await r.plan(contactDecl, null, false);
    expect(mode).toBe('bulk');
    const records: Record<string, unknown>[] = [];
    const modes: ReadMode[] = [];
    for (let i = 0; i < 100; i++) {
      const page = await r.readPage(contactDecl, cursor, mode, { runId: 't', progress: (d) => progress.push(d) });
      records.push(...(page.records as Record<string, unknown>[]));
      modes.push(mode);
      if (i === 0) emu.store.update('Contact', emu.store.records('Contact')[0].Id as string, { Title: 'Changed during the bulk load' });
      cursor = page.nextCursor;
      mode = page.nextMode;
      if (page.done) break;
    }
    const total = emu.store.count('Contact', { includeDeleted: true });
    expect(modes.filter((m) => m === 'bulk').length).toBe(Math.ceil(total / 300));
    expect(modes[modes.length - 1]).toBe('rest');
    const bulkRecords = records.slice(0, total);
    // CSV shape: every value text, and the declaration's schema accepts it.
    expect(typeof bulkRecords[0].IsDeleted).toBe('string');
    for (const x of bulkRecords) expect(contactDecl.schema.safeParse(x).success).toBe(true);
    expect(new Set(idsOf(bulkRecords)).size).toBe(total);
    expect(records.slice(total).map((x) => x.Title)).toContain('Changed during the bulk load');
    expect(progress[0]).toEqual({ stream: 'salesforce_contact', bulkJobId: expect.stringMatching(/^750/) });
  });

  it('resumes the Bulk job named in the last heartbeat instead of creating another', async () => {
    const r = reader({ bulkThreshold: 100 }, { bulkPageSize: 5_000, bulkPollMs: { initial: 20, max: 100 } });
    const seen: string[] = [];
    const first = await r.readPage(oppDecl, { bulk: { jobId: null, locator: null, snapshot: null } }, 'bulk', { runId: 't', progress: (d) => seen.push((d as { bulkJobId: string }).bulkJobId) });
    const jobId = seen[0];
    const again: string[] = [];
    const retried = await r.readPage(oppDecl, { bulk: { jobId: null, locator: null, snapshot: null } }, 'bulk', {
      runId: 't',
      progress: (d) => again.push((d as { bulkJobId: string }).bulkJobId),
      resumeFrom: { stream: 'salesforce_opportunity', bulkJobId: jobId },
    });
    expect(new Set(again)).toEqual(new Set([jobId]));
    expect(idsOf(retried.records as Record<string, unknown>[])).toEqual(idsOf(first.records as Record<string, unknown>[]));
    // A job that no longer exists is replaced, not retried forever.
    const replaced: string[] = [];
    const fresh = await r.readPage(oppDecl, { bulk: { jobId: '7505g0000000BoGUSA', locator: null, snapshot: null } }, 'bulk', { runId: 't', progress: (d) => replaced.push((d as { bulkJobId: string }).bulkJobId) });
    expect(replaced[0]).not.toBe('7505g0000000BoGUSA');
    expect(fresh.records.length).toBe(first.records.length);
  });

  it('reads the next page ahead while the current one is being written', async () => {
    const r = reader({ bulkThreshold: 1_000_000 }, { pageSize: 200 });
    emu.faults.set({ [SALESFORCE_ROUTES.queryAll]: { latencyMs: 300 } });
    const first = await r.readPage(contactDecl, null, 'rest', noProgress);
    expect(first.done).toBe(false);
    await new Promise((res) => setTimeout(res, 500));
    const t = performance.now();
    const second = await r.readPage(contactDecl, first.nextCursor, 'rest', noProgress);
    expect(performance.now() - t).toBeLessThan(250);
    expect(second.apiCalls).toBe(1);
    const fresh = await reader({ bulkThreshold: 1_000_000 }, { pageSize: 200, prefetch: false }).readPage(contactDecl, first.nextCursor, 'rest', noProgress);
    expect(idsOf(second.records as Record<string, unknown>[])).toEqual(idsOf(fresh.records as Record<string, unknown>[]));
  });

  it('re-authenticates through refreshFn when the session expires mid-pagination', async () => {
    emu.setSessionExpiry(2);
    const before = emu.sessions.rejected;
    const r = reader({ bulkThreshold: 1_000_000 }, { pageSize: 200 });
    const { records } = await readAll(r, contactDecl, null);
    expect(new Set(idsOf(records)).size).toBe(emu.store.count('Contact', { includeDeleted: true }));
    expect(emu.sessions.rejected - before).toBeGreaterThanOrEqual(3);
  });

  it('works with the username-password flow through the connected app', async () => {
    const r = reader({ auth: 'password', username: SALESFORCE_SANDBOX_USER.username, password: SALESFORCE_SANDBOX_USER.password, securityToken: SALESFORCE_SANDBOX_USER.securityToken, bulkThreshold: 1_000_000 });
    const { records } = await readAll(r, oppDecl, null);
    expect(records.length).toBe(emu.store.count('Opportunity', { includeDeleted: true }));
  });

  it('absorbs a one-off 503 and a connection reset (jsforce retries idempotent GETs)', async () => {
    emu.faults.set({ [SALESFORCE_ROUTES.queryAll]: { failNext: 1, statuses: [503] } });
    const r = reader({ bulkThreshold: 1_000_000 });
    expect((await r.readPage(oppDecl, null, 'rest', noProgress)).records.length).toBeGreaterThan(0);
    emu.faults.set({ [SALESFORCE_ROUTES.queryAll]: { failNext: 1, statuses: ['reset'] } });
    expect((await r.readPage(oppDecl, null, 'rest', noProgress)).records.length).toBeGreaterThan(0);
  });
});

describe('Salesforce error mapping', () => {
  const catching = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

  it('names a field the integration user cannot read (PermissionError)', async () => {
    const bogus = { ...contactDecl, fields: [...contactDecl.fields, 'Secret_Score__c'] };
    const err = await catching(reader().readPage(bogus, null, 'rest', noProgress));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ kind: 'PermissionError' });
    expect((err as Error).message).toContain('Contact.Secret_Score__c');
    expect((err as Error).message).toContain('field-level security');
  });

  it('reports an object the user cannot see as PermissionError', async () => {
    const err = await catching(reader().readPage({ ...contactDecl, object: 'Case' }, null, 'rest', noProgress));
    expect(err).toMatchObject({ kind: 'PermissionError' });
  });

  it('turns REQUEST_LIMIT_EXCEEDED into a long, explained wait', async () => {
    emu.setApiLimit(5, 5);
    const err = await catching(reader().readPage(oppDecl, null, 'rest', noProgress));
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).retryAfterMs).toBe(DAILY_LIMIT_RETRY_MS);
    expect((err as Error).message).toMatch(/24-hour API allowance/);
  });

  it('fails login for good with the settings to check', async () => {
    const err = await catching(reader({ clientSecret: 'wrong' }).readPage(oppDecl, null, 'rest', noProgress));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ kind: 'AuthError' });
    expect((err as Error).message).toMatch(/Salesforce login failed \(invalid_client.*check SALESFORCE_CLIENT_ID \/ SALESFORCE_CLIENT_SECRET/);
  });

  it('fails for good when re-authentication is refused mid-run', async () => {
    const r = reader();
    await r.readPage(oppDecl, null, 'rest', noProgress);
    emu.credentials.clientSecret = 'rotated';
    emu.expireSessions();
    try {
      const err = await catching(r.readPage(oppDecl, null, 'rest', noProgress));
      expect(err).toMatchObject({ kind: 'AuthError' });
      expect((err as Error).message).toContain('invalid_client');
    } finally {
      emu.credentials.clientSecret = base.clientSecret as string;
    }
  });

  it('treats an unreachable Salesforce as transient', async () => {
    const err = await catching(reader({ loginUrl: 'http://127.0.0.1:9' }).readPage(oppDecl, null, 'rest', noProgress));
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toMatch(/Network error talking to Salesforce/);
  });

  it('classifies what jsforce throws', () => {
    const ctx = { doing: 'querying Contact', credentialsHint: 'SALESFORCE_CLIENT_ID' };
    const named = (name: string, message: string) => Object.assign(new Error(message), { name, errorCode: name });
    expect(toSalesforceError(named('MALFORMED_QUERY', "\nSELECT Id FRM Contact\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FRM'"), ctx)).toMatchObject({ kind: 'InvalidRequest', message: expect.stringContaining("unexpected token: 'FRM'") });
    expect(toSalesforceError(named('SERVER_UNAVAILABLE', 'down'), ctx)).toBeInstanceOf(TransientError);
    expect(toSalesforceError(named('ERROR_HTTP_502', '<html>Bad Gateway</html>'), ctx)).toBeInstanceOf(TransientError);
    expect(toSalesforceError(named('ERROR_HTTP_400', '[{"errorCode":"INVALID_FIELD","message":"No such column \'X__c\' on entity \'Lead\'"}]'), ctx)).toMatchObject({ kind: 'PermissionError', message: expect.stringContaining('Lead.X__c') });
    expect(toSalesforceError(Object.assign(new Error('request to http://x failed, reason: socket hang up'), { name: 'FetchError', code: 'ECONNRESET' }), ctx)).toBeInstanceOf(TransientError);
    expect(toSalesforceError(named('REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded'), ctx)).toMatchObject({ retryAfterMs: 120_000 });
    expect(toSalesforceError(new Error('Unable to refresh session due to: authentication failure'), { ...ctx, lastAuthError: named('invalid_grant', 'authentication failure') })).toMatchObject({ kind: 'AuthError' });
    expect(toSalesforceError(named('INSUFFICIENT_ACCESS', 'no'), ctx)).toMatchObject({ kind: 'PermissionError' });
  });
});

describe('JWT bearer flow', () => {
  it('signs an RS256 assertion for the right audience and logs in with it', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-'));
    const keyPath = path.join(dir, 'server.key');
    fs.writeFileSync(keyPath, pem);

    const bodies: URLSearchParams[] = [];
    const server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        bodies.push(new URLSearchParams(data));
        res.setHeader('Content-Type', 'application/json');
        const port = (server.address() as AddressInfo).port;
        res.end(JSON.stringify({ access_token: 'token-1', instance_url: `http://127.0.0.1:${port}`, id: `http://127.0.0.1:${port}/id/00D5g000004ABCDEAA/0055g00000Own01AAA`, token_type: 'Bearer' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const session = await connectSalesforce({ ...base, loginUrl: url, auth: 'jwt', clientId: 'cid', clientSecret: undefined, username: 'svc@novade.example', jwtKeyPath: keyPath });
      expect(session.conn.accessToken).toBe('token-1');
      const form = bodies[0];
      expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
      expect(form.get('client_secret')).toBeNull();
      const [h, c, s] = (form.get('assertion') as string).split('.');
      expect(JSON.parse(Buffer.from(c, 'base64url').toString())).toMatchObject({ iss: 'cid', sub: 'svc@novade.example', aud: url });
      expect(createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, Buffer.from(s, 'base64url'))).toBe(true);
    } finally {
      server.close();
    }
    expect(jwtAudience('https://novade.my.salesforce.com')).toBe('https://login.salesforce.com');
    expect(jwtAudience('https://novade--uat.sandbox.my.salesforce.com')).toBe('https://test.salesforce.com');
    expect(jwtAssertion({ clientId: 'a', username: 'b', audience: 'c', privateKeyPem: pem }).split('.').length).toBe(3);
  });

  it('says which setting is wrong when the key file is missing', async () => {
    const err = await connectSalesforce({ ...base, auth: 'jwt', clientId: 'cid', username: 'u', jwtKeyPath: '/nonexistent/key.pem' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'ConfigError', message: expect.stringContaining('SALESFORCE_JWT_KEY_PATH=/nonexistent/key.pem') });
  });
});
