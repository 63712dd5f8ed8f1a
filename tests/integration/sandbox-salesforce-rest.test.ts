import { parse } from 'csv-parse/sync';
import { Connection } from 'jsforce';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SALESFORCE_ROUTES, startSalesforceEmulator, type SalesforceEmulator } from '../../sandbox/salesforce';

/**
 * Each documented behaviour of the Salesforce emulator, over HTTP, on a small org (scale 0.02)
 * with a clock the tests move.
 */
const START = Date.UTC(2026, 0, 5, 9, 0, 0);
let clock = START;
let emu: SalesforceEmulator;
let token: string;

const V = '/services/data/v62.0';
type ErrorBody = { message: string; errorCode: string }[];
interface QueryBody {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: ({ attributes: { type: string; url: string } } & Record<string, unknown>)[];
}

async function newToken(): Promise<string> {
  const res = await fetch(`${emu.url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: emu.credentials.clientId, client_secret: emu.credentials.clientSecret }).toString(),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${emu.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
}

const query = (soql: string, resource = 'query', headers: Record<string, string> = {}) => api(`${V}/${resource}?q=${encodeURIComponent(soql)}`, { headers });
const queryJson = async (soql: string, resource = 'query') => (await (await query(soql, resource)).json()) as QueryBody;
const sfTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

async function jsforce(): Promise<Connection> {
  const conn = new Connection({ loginUrl: emu.url, version: '62.0', oauth2: { loginUrl: emu.url, clientId: emu.credentials.clientId, clientSecret: emu.credentials.clientSecret } });
  await conn.authorize({ grant_type: 'client_credentials' });
  return conn;
}

beforeAll(async () => {
  emu = await startSalesforceEmulator({ port: 0, seed: 7, scale: 0.02, now: () => new Date(clock), bulkJobDurationMs: 60 });
  token = await newToken();
});
afterAll(async () => {
  await emu?.close();
});
afterEach(() => {
  emu.faults.clear();
  emu.setSessionExpiry(undefined);
  emu.setApiLimit(100_000, 0);
});

describe('Salesforce REST errors', () => {
  it('MALFORMED_QUERY: 400 with a JSON array of {message, errorCode}', async () => {
    const res = await query('SELECT Id FORM Contact');
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorBody;
    expect(body).toEqual([{ errorCode: 'MALFORMED_QUERY', message: expect.stringContaining('unexpected token: FORM') }]);
    const conn = await jsforce();
    await expect(conn.query('SELECT Id FROM Contact WHERE')).rejects.toMatchObject({ errorCode: 'MALFORMED_QUERY' });
  });

  it('INVALID_FIELD: 400 for an unknown field, INVALID_TYPE for an unknown object', async () => {
    const conn = await jsforce();
    await expect(conn.query('SELECT Id, Shoe_Size__c FROM Contact')).rejects.toMatchObject({ errorCode: 'INVALID_FIELD', message: expect.stringContaining("No such column 'Shoe_Size__c' on entity 'Contact'") });
    await expect(conn.query('SELECT Id FROM Widget')).rejects.toMatchObject({ errorCode: 'INVALID_TYPE' });
  });

  it('INVALID_SESSION_ID: 401 without a token or with an unknown one', async () => {
    const res = await fetch(`${emu.url}${V}/limits`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    const bad = await fetch(`${emu.url}${V}/limits`, { headers: { authorization: 'Bearer 00Dxx!nope' } });
    expect(bad.status).toBe(401);
  });

  it('session expiry after N calls answers 401 INVALID_SESSION_ID, settable at run time over HTTP too', async () => {
    const own = await newToken();
    const call = () => fetch(`${emu.url}${V}/limits`, { headers: { authorization: `Bearer ${own}` } });
    const set = await fetch(`${emu.url}/__sandbox/salesforce/session-expiry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ afterCalls: 2 }) });
    expect(set.status).toBe(200);
    expect([(await call()).status, (await call()).status]).toEqual([200, 200]);
    const expired = await call();
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
  });

  it('unknown API version or resource: 404 NOT_FOUND', async () => {
    expect((await api('/services/data/v9.0/limits')).status).toBe(404);
    const res = await api(`${V}/sobjects/Widget/describe`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual([{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
  });
});

describe('Salesforce API limits', () => {
  it('every REST answer carries Sforce-Limit-Info: api-usage=N/LIMIT, and /limits gives DailyApiRequests', async () => {
    emu.setApiLimit(15_000, 100);
    const res = await api(`${V}/limits`);
    expect(res.headers.get('sforce-limit-info')).toBe('api-usage=101/15000');
    const limits = (await res.json()) as { DailyApiRequests: { Max: number; Remaining: number } };
    expect(limits.DailyApiRequests).toEqual({ Max: 15_000, Remaining: 14_899 });
    const failed = await query('SELECT Nope FROM Contact');
    expect(failed.headers.get('sforce-limit-info')).toBe('api-usage=102/15000');
  });

  it('past the rolling 24-hour allowance: 403 REQUEST_LIMIT_EXCEEDED until calls leave the window', async () => {
    emu.setApiLimit(10, 10);
    const res = await api(`${V}/limits`);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual([{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    const conn = await jsforce();
    await expect(conn.query('SELECT Id FROM Contact')).rejects.toMatchObject({ errorCode: 'REQUEST_LIMIT_EXCEEDED' });
    clock += 24 * 3_600_000 + 1_000;
    expect((await api(`${V}/limits`)).status).toBe(200);
  });
});

describe('Salesforce query and queryAll', () => {
  it('records carry attributes {type, url}; nextRecordsUrl is /services/data/vXX.X/query/01g…-2000 and pages hold at most 2,000', async () => {
    const first = await queryJson('SELECT Id, Email FROM Contact');
    expect(first.totalSize).toBe(emu.store.count('Contact'));
    expect(first.records[0].attributes).toEqual({ type: 'Contact', url: `${V}/sobjects/Contact/${first.records[0].Id as string}` });
    expect(Object.keys(first.records[0])).toEqual(['attributes', 'Id', 'Email']);
    // 740 contacts at this scale: one page. Smaller batches show the paging.
    const paged = (await (await query('SELECT Id FROM Contact', 'query', { 'Sforce-Query-Options': 'batchSize=200' })).json()) as QueryBody;
    expect(paged.records).toHaveLength(200);
    expect(paged.done).toBe(false);
    expect(paged.nextRecordsUrl).toMatch(/^\/services\/data\/v62\.0\/query\/01g[0-9A-Za-z]{15}-200$/);
    const second = (await (await api(paged.nextRecordsUrl as string)).json()) as QueryBody;
    expect(second.records).toHaveLength(200);
    expect(second.nextRecordsUrl).toMatch(/-400$/);
  });

  it('queryAll includes IsDeleted rows, query does not', async () => {
    const live = await queryJson('SELECT COUNT() FROM Contact');
    const all = await queryJson('SELECT COUNT() FROM Contact', 'queryAll');
    const deleted = await queryJson('SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true', 'queryAll');
    expect(deleted.totalSize).toBeGreaterThan(0);
    expect(all.totalSize - live.totalSize).toBe(deleted.totalSize);
    expect((await queryJson('SELECT Id FROM Contact WHERE IsDeleted = true')).totalSize).toBe(0);
    const more = (await (await query('SELECT Id FROM Contact', 'queryAll', { 'Sforce-Query-Options': 'batchSize=200' })).json()) as QueryBody;
    expect(more.nextRecordsUrl).toMatch(/^\/services\/data\/v62\.0\/queryAll\/01g/);
  });

  it('SELECT COUNT() answers totalSize only', async () => {
    expect(await queryJson('SELECT COUNT() FROM Lead WHERE IsConverted = true')).toEqual({ totalSize: expect.any(Number), done: true, records: [] });
  });

  it('a cursor is a snapshot: changes after the query do not alter its later pages; unknown locators get INVALID_QUERY_LOCATOR', async () => {
    const first = (await (await query('SELECT Id, Title FROM Contact ORDER BY Id', 'query', { 'Sforce-Query-Options': 'batchSize=200' })).json()) as QueryBody;
    const ids = emu.store.records('Contact').map((r) => r.Id as string);
    emu.store.update('Contact', ids[250], { Title: 'Changed after the query' });
    const second = (await (await api(first.nextRecordsUrl as string)).json()) as QueryBody;
    expect(second.records.find((r) => r.Id === ids[250])?.Title).not.toBe('Changed after the query');
    const bad = await api(`${V}/query/01g5g0000000000AAA-200`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual([{ errorCode: 'INVALID_QUERY_LOCATOR', message: 'invalid query locator' }]);
  });

  it('timestamps are written 2024-01-02T03:04:05.000+0000, and datetime literals in either form select the same records', async () => {
    const res = await queryJson('SELECT Id, SystemModstamp FROM Account ORDER BY SystemModstamp DESC LIMIT 1');
    const stamp = res.records[0].SystemModstamp as string;
    expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000$/);
    const zulu = stamp.replace('.000+0000', 'Z');
    expect((await queryJson(`SELECT Id FROM Account WHERE SystemModstamp = ${stamp}`)).totalSize).toBeGreaterThan(0);
    expect((await queryJson(`SELECT Id FROM Account WHERE SystemModstamp = ${zulu}`)).totalSize).toBe((await queryJson(`SELECT Id FROM Account WHERE SystemModstamp = ${stamp}`)).totalSize);
  });
});

describe('Salesforce describe and versions', () => {
  it('/sobjects/<Object>/describe lists fields with their types, nillable, updateable and calculated formulas', async () => {
    const res = await api(`${V}/sobjects/Contact/describe`);
    const body = (await res.json()) as { name: string; keyPrefix: string; fields: { name: string; type: string; nillable: boolean; updateable: boolean; calculated: boolean; referenceTo: string[] }[] };
    expect(body).toMatchObject({ name: 'Contact', keyPrefix: '003' });
    const field = (name: string) => body.fields.find((f) => f.name === name);
    expect(field('Id')).toMatchObject({ type: 'id', nillable: false, updateable: false });
    expect(field('SystemModstamp')).toMatchObject({ type: 'datetime', soapType: 'xsd:dateTime', updateable: false });
    expect(field('AccountId')).toMatchObject({ type: 'reference', referenceTo: ['Account'] });
    expect(field('Email')).toMatchObject({ type: 'email', nillable: true, updateable: true });
    expect(field('Full_Name__c')).toMatchObject({ calculated: true, updateable: false });
    const global = (await (await api(`${V}/sobjects`)).json()) as { sobjects: { name: string }[] };
    expect(global.sobjects.map((s) => s.name)).toEqual(['Account', 'Contact', 'Lead', 'Opportunity', 'Project__c']);
  });

  it('/services/data lists the API versions without a session', async () => {
    const versions = (await (await fetch(`${emu.url}/services/data`)).json()) as { version: string; url: string; label: string }[];
    expect(versions).toContainEqual({ version: '62.0', url: '/services/data/v62.0', label: "Winter '25" });
  });
});

describe('Salesforce mutations for tests', () => {
  it('sObject REST POST / PATCH / DELETE create, update (advancing SystemModstamp) and delete, and the next incremental query sees them', async () => {
    const conn = await jsforce();
    clock += 3_600_000;
    const base = emu.store.now();
    const since = sfTime(base - 1_000);
    const created = await conn.sobject('Lead').create({ LastName: 'Nguyễn', FirstName: 'Thanh', Company: 'Sunway Harbour Builders', Email: 'thanh@example.com' });
    expect(created).toMatchObject({ success: true, id: expect.stringMatching(/^00Q/) });
    clock += 5_000;
    const existing = emu.store.records('Lead')[0].Id as string;
    await conn.sobject('Lead').update({ Id: existing, Title: 'HSE Officer' });
    clock += 5_000;
    const doomed = emu.store.records('Lead')[1].Id as string;
    await conn.sobject('Lead').destroy(doomed);
    const changed = await conn.query<{ Id: string; SystemModstamp: string; IsDeleted: boolean; Title: string | null }>(`SELECT Id, Title, IsDeleted, SystemModstamp FROM Lead WHERE SystemModstamp > ${since} ORDER BY SystemModstamp, Id`, { scanAll: true });
    expect(changed.records.map((r) => [r.Id, r.SystemModstamp, r.IsDeleted])).toEqual([
      [created.id, sfTime(base), false],
      [existing, sfTime(base + 5_000), false],
      [doomed, sfTime(base + 10_000), true],
    ]);
    const raw = await api(`${V}/sobjects/Lead/${existing}`, { method: 'PATCH', body: JSON.stringify({ Nope: 1 }) });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as ErrorBody)[0].errorCode).toBe('INVALID_FIELD');
  });

  it('ties helper: 5,000 records with one SystemModstamp page exactly once through the keyset query (ts > T) OR (ts = T AND Id > I)', async () => {
    clock += 3_600_000;
    const tieAt = emu.store.now();
    const before = sfTime(tieAt - 1_000);
    const ids = emu.store.createMany('Contact', 5_000);
    clock += 1_000;
    const after = emu.store.create('Contact', { LastName: 'After The Import' });
    const seen: string[] = [];
    let cursor = { ts: before, id: '000000000000000AAA' };
    for (let page = 0; page < 10; page++) {
      const soql = `SELECT Id, SystemModstamp FROM Contact WHERE (SystemModstamp > ${cursor.ts}) OR (SystemModstamp = ${cursor.ts} AND Id > '${cursor.id}') ORDER BY SystemModstamp, Id LIMIT 2000`;
      const res = await queryJson(soql);
      if (res.records.length === 0) break;
      expect(res.records.length).toBeLessThanOrEqual(2_000);
      for (const r of res.records) seen.push(r.Id as string);
      const last = res.records[res.records.length - 1];
      cursor = { ts: String(last.SystemModstamp), id: String(last.Id) };
    }
    expect(seen).toEqual([...ids, after]);
  });

  it('bulk import over HTTP creates N records sharing one SystemModstamp', async () => {
    const res = await fetch(`${emu.url}/__sandbox/salesforce/bulk-import`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ object: 'Account', count: 300, at: '2026-01-05T12:00:00Z' }) });
    const body = (await res.json()) as { count: number; systemModstamp: string };
    expect(body).toMatchObject({ count: 300, systemModstamp: '2026-01-05T12:00:00.000+0000' });
    expect((await queryJson('SELECT COUNT() FROM Account WHERE SystemModstamp = 2026-01-05T12:00:00Z')).totalSize).toBe(300);
  });

  it('opportunities move through stages as the clock advances, with new SystemModstamps an incremental query picks up', async () => {
    const since = sfTime(emu.store.now());
    const res = await fetch(`${emu.url}/__sandbox/salesforce/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms: 7 * 86_400_000 }) });
    const { stageChanges } = (await res.json()) as { stageChanges: number };
    expect(stageChanges).toBeGreaterThan(0);
    const moved = await queryJson(`SELECT Id, StageName, Probability, SystemModstamp FROM Opportunity WHERE SystemModstamp > ${since}`);
    expect(moved.totalSize).toBeGreaterThan(0);
    expect(moved.totalSize).toBeLessThanOrEqual(stageChanges);
  });

  it('getDeleted (/sobjects/<Object>/deleted) lists records deleted in the window', async () => {
    const id = emu.store.records('Opportunity')[0].Id as string;
    emu.store.delete('Opportunity', id);
    const now = emu.store.now();
    const res = await api(`${V}/sobjects/Opportunity/deleted/?start=${encodeURIComponent(sfTime(now - 60_000))}&end=${encodeURIComponent(sfTime(now + 60_000))}`);
    const body = (await res.json()) as { deletedRecords: { id: string; deletedDate: string }[] };
    expect(body.deletedRecords).toContainEqual({ id, deletedDate: sfTime(Math.floor(now / 1000) * 1000) });
  });
});

describe('Salesforce fault injection', () => {
  it('429 with Retry-After on one endpoint, set in process with faults.set', async () => {
    emu.faults.set({ [SALESFORCE_ROUTES.query]: { failNext: 1, statuses: [429], retryAfterSeconds: 7 } });
    const res = await query('SELECT Id FROM Contact LIMIT 1');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(((await res.json()) as ErrorBody)[0]).toMatchObject({ errorCode: 'REQUEST_LIMIT_EXCEEDED' });
    expect((await query('SELECT Id FROM Contact LIMIT 1')).status).toBe(200);
    expect((await api(`${V}/limits`)).status).toBe(200);
  });

  it('503 SERVER_UNAVAILABLE and 500 UNKNOWN_EXCEPTION in the Salesforce error shape; 502 comes back as HTML from the edge', async () => {
    emu.faults.set({ '*': { failNext: 1, statuses: [503] } });
    const unavailable = await api(`${V}/limits`);
    expect([unavailable.status, ((await unavailable.json()) as ErrorBody)[0].errorCode]).toEqual([503, 'SERVER_UNAVAILABLE']);
    emu.faults.set({ '*': { failNext: 1, statuses: [500] } });
    const failed = await api(`${V}/limits`);
    expect([failed.status, ((await failed.json()) as ErrorBody)[0].errorCode]).toEqual([500, 'UNKNOWN_EXCEPTION']);
    emu.faults.set({ '*': { failNext: 1, statuses: [502] } });
    const gateway = await api(`${V}/limits`);
    expect([gateway.status, gateway.headers.get('content-type')?.startsWith('text/html')]).toEqual([502, true]);
  });

  it('jsforce 3 retries a GET that got 500 by itself (its fetch layer retries 420/429/5xx and resets up to 5 times)', async () => {
    const conn = await jsforce();
    const before = emu.faults.injected.get(SALESFORCE_ROUTES.query) ?? 0;
    emu.faults.set({ [SALESFORCE_ROUTES.query]: { failNext: 1, statuses: [500] } });
    const res = await conn.query('SELECT Id FROM Contact LIMIT 1');
    expect(res.records).toHaveLength(1);
    expect(emu.faults.injected.get(SALESFORCE_ROUTES.query)).toBe(before + 1);
  });

  it('connection reset: the client sees the socket drop', async () => {
    emu.faults.set({ [SALESFORCE_ROUTES.limits]: { failNext: 1, statuses: ['reset'] } });
    await expect(api(`${V}/limits`)).rejects.toThrow();
    expect((await api(`${V}/limits`)).status).toBe(200);
  });

  it('timeout and latency: a hung request trips the client timeout; latency delays answers', async () => {
    emu.faults.set({ [SALESFORCE_ROUTES.limits]: { failNext: 1, statuses: ['timeout'] } });
    await expect(api(`${V}/limits`, { signal: AbortSignal.timeout(300) })).rejects.toThrow(/timeout|abort/i);
    emu.faults.set({ [SALESFORCE_ROUTES.limits]: { latencyMs: 150 } });
    const started = Date.now();
    expect((await api(`${V}/limits`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('faults can be set at run time over HTTP (PUT /__sandbox/faults), error rate and all', async () => {
    const put = await fetch(`${emu.url}/__sandbox/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ [SALESFORCE_ROUTES.describe]: { errorRate: 1, statuses: [504] } }) });
    expect(put.status).toBe(200);
    expect((await api(`${V}/sobjects/Contact/describe`)).status).toBe(504);
    expect((await api(`${V}/sobjects/Contact/describe`)).status).toBe(504);
    expect(emu.faults.injected.get(SALESFORCE_ROUTES.describe)).toBeGreaterThanOrEqual(2);
  });

  it('the token endpoint can fail too, with an OAuth-shaped body', async () => {
    emu.faults.set({ [SALESFORCE_ROUTES.token]: { failNext: 1, statuses: [503] } });
    const conn = new Connection({ loginUrl: emu.url, version: '62.0', oauth2: { loginUrl: emu.url, clientId: emu.credentials.clientId, clientSecret: emu.credentials.clientSecret } });
    await expect(conn.authorize({ grant_type: 'client_credentials' })).rejects.toMatchObject({ name: 'server_error' });
    await expect(conn.authorize({ grant_type: 'client_credentials' })).resolves.toMatchObject({ id: expect.stringMatching(/^005/) });
  });
});

describe('Salesforce Bulk API 2.0 query', () => {
  async function createJob(soql: string, operation = 'query') {
    const res = await api(`${V}/jobs/query`, { method: 'POST', body: JSON.stringify({ operation, query: soql }) });
    return { status: res.status, body: (await res.json()) as { id: string; state: string; object: string } & ErrorBody };
  }
  async function waitComplete(id: string): Promise<string[]> {
    const states: string[] = [];
    for (let i = 0; i < 50; i++) {
      const job = (await (await api(`${V}/jobs/query/${id}`)).json()) as { state: string };
      states.push(job.state);
      if (job.state === 'JobComplete') return states;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`job ${id} never completed: ${states.join(',')}`);
  }

  it('a query job goes UploadComplete → InProgress → JobComplete', async () => {
    const { status, body } = await createJob('SELECT Id FROM Account');
    expect([status, body.state, body.object]).toEqual([200, 'UploadComplete', 'Account']);
    expect(body.id).toMatch(/^750/);
    const states = await waitComplete(body.id);
    expect(states.at(-1)).toBe('JobComplete');
    expect(new Set(states)).toContain('InProgress');
  });

  it('results are CSV pages (header on each, RFC 4180 quoting, nulls empty) chained by Sforce-Locator, ending with the string null', async () => {
    const { body } = await createJob('SELECT Id, Name, NextStep, Description, Amount, IsWon, CloseDate, SystemModstamp FROM Opportunity', 'queryAll');
    await waitComplete(body.id);
    let locator: string | null = null;
    const pages: { count: string | null; rows: Record<string, string>[]; text: string }[] = [];
    do {
      const res = await api(`${V}/jobs/query/${body.id}/results?maxRecords=50${locator ? `&locator=${locator}` : ''}`);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      const text = await res.text();
      pages.push({ count: res.headers.get('sforce-numberofrecords'), rows: parse(text, { columns: true }) as Record<string, string>[], text });
      locator = res.headers.get('sforce-locator');
    } while (locator !== 'null');
    const rows = pages.flatMap((p) => p.rows);
    expect(rows).toHaveLength(emu.store.count('Opportunity', { includeDeleted: true }));
    expect(pages.every((p) => p.text.startsWith('"Id","Name","NextStep","Description","Amount","IsWon","CloseDate","SystemModstamp"\n'))).toBe(true);
    expect(pages.map((p) => Number(p.count))).toEqual(pages.map((p) => p.rows.length));
    expect(pages[0].rows).toHaveLength(50);
    expect(rows[0].SystemModstamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    expect(rows.some((r) => r.Amount === '')).toBe(true);
    expect(rows.every((r) => r.IsWon === 'true' || r.IsWon === 'false')).toBe(true);
    expect(rows.find((r) => r.Description.includes('\n'))?.Description).toContain('"quoted"');
  });

  it('results must be read with the API version the job was created with (409), COUNT() is refused, an unknown job is 404', async () => {
    const { body } = await createJob('SELECT Id FROM Lead');
    await waitComplete(body.id);
    expect((await api(`/services/data/v61.0/jobs/query/${body.id}/results`)).status).toBe(409);
    const count = await createJob('SELECT COUNT() FROM Lead');
    expect(count.status).toBe(400);
    const bad = await createJob('SELECT Nope FROM Lead');
    expect([bad.status, bad.body[0].errorCode]).toEqual([400, 'INVALID_FIELD']);
    expect((await api(`${V}/jobs/query/7505g0000000000AAA`)).status).toBe(404);
  });

  it('queryAll jobs include IsDeleted rows; query jobs do not', async () => {
    const live = await createJob('SELECT Id FROM Contact');
    const all = await createJob('SELECT Id FROM Contact', 'queryAll');
    await waitComplete(live.body.id);
    await waitComplete(all.body.id);
    const count = async (id: string) => Number((await api(`${V}/jobs/query/${id}/results`)).headers.get('sforce-numberofrecords'));
    expect(await count(live.body.id)).toBe(emu.store.count('Contact'));
    expect(await count(all.body.id)).toBe(emu.store.count('Contact', { includeDeleted: true }));
  });
});

describe('Salesforce emulator extras', () => {
  it('a Bulk 2.0 job can be listed, aborted while in progress, and deleted once done', async () => {
    const create = await api(`${V}/jobs/query`, { method: 'POST', body: JSON.stringify({ operation: 'query', query: 'SELECT Id FROM Account' }) });
    const { id } = (await create.json()) as { id: string };
    const list = (await (await api(`${V}/jobs/query`)).json()) as { records: { id: string }[] };
    expect(list.records.map((j) => j.id)).toContain(id);
    const aborted = await api(`${V}/jobs/query/${id}`, { method: 'PATCH', body: JSON.stringify({ state: 'Aborted' }) });
    expect(((await aborted.json()) as { state: string }).state).toBe('Aborted');
    expect((await api(`${V}/jobs/query/${id}/results`)).status).toBe(400);
    expect((await api(`${V}/jobs/query/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`${V}/jobs/query/${id}`)).status).toBe(404);
  });

  it('retrieves one record with ?fields=, lists updated ids, and answers the sObject and resource summaries', async () => {
    const id = emu.store.records('Account')[0].Id as string;
    const one = (await (await api(`${V}/sobjects/Account/${id}?fields=Id,Name`)).json()) as Record<string, unknown>;
    expect(Object.keys(one)).toEqual(['attributes', 'Id', 'Name']);
    expect((await api(`${V}/sobjects/Account/001000000000000AAA`)).status).toBe(404);
    const badJson = await api(`${V}/sobjects/Account/${id}`, { method: 'PATCH', body: '{"Name": ' });
    expect([badJson.status, ((await badJson.json()) as ErrorBody)[0].errorCode]).toEqual([400, 'JSON_PARSER_ERROR']);
    clock += 60_000;
    emu.store.update('Account', id, { Industry: 'Government' });
    const now = emu.store.now();
    const updated = (await (await api(`${V}/sobjects/Account/updated/?start=${encodeURIComponent(sfTime(now - 1_000))}&end=${encodeURIComponent(sfTime(now + 1_000))}`)).json()) as { ids: string[] };
    expect(updated.ids).toEqual([id]);
    expect((await api(`${V}/sobjects/Account/updated/?start=nope&end=nope`)).status).toBe(400);
    expect(((await (await api(`${V}/sobjects/Lead`)).json()) as { objectDescribe: { keyPrefix: string } }).objectDescribe.keyPrefix).toBe('00Q');
    expect(await (await api(V)).json()).toMatchObject({ query: `${V}/query`, sobjects: `${V}/sobjects` });
  });

  it('control endpoints report state, expire every session and set the API allowance', async () => {
    const state = (await (await fetch(`${emu.url}/__sandbox/salesforce/state`)).json()) as { counts: Record<string, number>; apiUsage: { max: number } };
    expect(state.counts.Contact).toBe(emu.store.count('Contact'));
    const limit = await fetch(`${emu.url}/__sandbox/salesforce/api-limit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ max: 500, used: 499 }) });
    expect(await limit.json()).toEqual({ max: 500, used: 499 });
    expect((await api(`${V}/limits`)).headers.get('sforce-limit-info')).toBe('api-usage=500/500');
    expect((await fetch(`${emu.url}/__sandbox/salesforce/api-limit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ max: -1 }) })).status).toBe(400);
    await fetch(`${emu.url}/__sandbox/salesforce/expire-sessions`, { method: 'POST' });
    expect((await api(`${V}/limits`)).status).toBe(401);
    token = await newToken();
  });

  it('the token endpoint takes client credentials in a Basic header too, refuses unknown grants, and revokes tokens', async () => {
    const basic = Buffer.from(`${emu.credentials.clientId}:${emu.credentials.clientSecret}`).toString('base64');
    const res = await fetch(`${emu.url}/services/oauth2/token`, { method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    const { access_token: fresh } = (await res.json()) as { access_token: string };
    const unknown = await fetch(`${emu.url}/services/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&code=x' });
    expect([unknown.status, ((await unknown.json()) as { error: string }).error]).toEqual([400, 'unsupported_grant_type']);
    await fetch(`${emu.url}/services/oauth2/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(fresh)}` });
    expect((await fetch(`${emu.url}${V}/limits`, { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(401);
  });
});
