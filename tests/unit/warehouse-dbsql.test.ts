import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createWarehouse } from '../../connectors/warehouse';
import type { DriverClient, DriverSession } from '../../connectors/warehouse/databricks/dbsql-executor';
import { DbsqlExecutor } from '../../connectors/warehouse/databricks/dbsql-executor';
import { describeDatabricksError } from '../../connectors/warehouse/databricks/errors';
import { PermanentError, TransientError } from '../../lib/errors';

/** The real-driver executor: connection, session, parameters, and errors that name the setting to fix. */

const config = { host: 'adb-123.4.azuredatabricks.net', httpPath: '/sql/1.0/warehouses/abc', token: 'dapi-secret', catalog: 'novade' };
const target = { host: config.host, httpPath: config.httpPath, auth: 'token' as const, catalog: 'novade' };

interface Call {
  sql: string;
  options?: unknown;
}

function fakeClient(behaviour: { connect?: () => Promise<unknown>; open?: () => Promise<unknown>; statement?: (sql: string, n: number) => object[] | Error }) {
  const calls: Call[] = [];
  let sessions = 0;
  let statements = 0;
  const client: DriverClient = {
    connect: async () => behaviour.connect?.(),
    openSession: async () => {
      await behaviour.open?.();
      sessions++;
      const session: DriverSession = {
        executeStatement: async (sql, options) => {
          calls.push({ sql, options });
          const n = statements++;
          const result = behaviour.statement?.(sql, n) ?? [];
          if (result instanceof Error) throw result;
          return { fetchAll: async () => result, close: async () => undefined };
        },
        close: async () => undefined,
      };
      return session;
    },
    close: async () => undefined,
  };
  return { client, calls, sessions: () => sessions };
}

const httpError = (status: number, headers: Record<string, string> = {}) =>
  Object.assign(new Error(`Received a response with a bad HTTP status code: ${status}`), { statusCode: status, response: { headers: { get: (h: string) => headers[h] ?? null } } });
const sysError = (code: string, message: string) => Object.assign(new Error(message), { code, type: 'system' });

describe('DbsqlExecutor with a stand-in driver', () => {
  it('opens a session on the catalog in UTC and runs statements with named, positional and staging options', async () => {
    const f = fakeClient({ statement: (sql) => (sql.startsWith('SELECT') ? [{ n: 1 }] : []) });
    const ex = await DbsqlExecutor.connect(config, { client: f.client });
    expect(f.calls[0].sql).toBe(`SET TIME ZONE 'UTC'`);
    expect(await ex.execute('SELECT :a', { a: 'x' })).toEqual([{ n: 1 }]);
    expect(f.calls[1].options).toEqual({ namedParameters: { a: 'x' } });
    await ex.execute('SELECT ?', ['y']);
    expect(f.calls[2].options).toEqual({ ordinalParameters: ['y'] });
    await ex.execute("PUT '/tmp/a' INTO '/Volumes/x' OVERWRITE", undefined, { stagingAllowedLocalPath: '/tmp' });
    expect(f.calls[3].options).toEqual({ stagingAllowedLocalPath: '/tmp' });
    await ex.execute('SELECT 1', {});
    expect(f.calls[4].options).toEqual({});
    await ex.close();
  });

  it('reopens a session the warehouse dropped, once', async () => {
    const f = fakeClient({ statement: (sql, n) => (n === 1 ? new Error('Invalid SessionHandle: session expired') : [{ ok: sql }]) });
    const ex = await DbsqlExecutor.connect(config, { client: f.client });
    expect(await ex.execute('SELECT 2')).toEqual([{ ok: 'SELECT 2' }]);
    expect(f.sessions()).toBe(2);
  });

  it('names DATABRICKS_TOKEN when the token is refused', async () => {
    const f = fakeClient({ open: async () => Promise.reject(httpError(401)) });
    const err = await DbsqlExecutor.connect(config, { client: f.client }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).kind).toBe('AuthError');
    expect((err as Error).message).toMatch(/rejected DATABRICKS_TOKEN \(HTTP 401\)/);
    expect((err as Error).message).not.toContain('dapi-secret');
  });

  it('names the OAuth pair when the service principal is refused', async () => {
    const f = fakeClient({ connect: async () => Promise.reject(Object.assign(new Error('invalid_client: bad secret'), { name: 'AuthenticationError' })) });
    const oauth = { ...config, token: undefined, clientId: 'sp', clientSecret: 's' };
    await expect(DbsqlExecutor.connect(oauth, { client: f.client })).rejects.toThrow(/DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET/);
    await expect(DbsqlExecutor.connect({ ...oauth, clientSecret: undefined }, { client: f.client })).rejects.toThrow(/OAuth M2M sign-in/);
  });

  it('maps transport failures to the setting at fault', () => {
    const d = (e: unknown) => describeDatabricksError(e, target);
    expect(d(sysError('ENOTFOUND', 'getaddrinfo ENOTFOUND adb-123'))).toMatchObject({ kind: 'ConfigError', message: expect.stringMatching(/DATABRICKS_HOST "adb-123.4.azuredatabricks.net" does not resolve/) });
    expect(d(sysError('ECONNREFUSED', 'connect ECONNREFUSED'))).toBeInstanceOf(TransientError);
    expect(d(sysError('ECONNREFUSED', 'x')).message).toMatch(/DATABRICKS_HOST/);
    expect(d(sysError('CERT_HAS_EXPIRED', 'certificate has expired'))).toMatchObject({ kind: 'ConfigError' });
    expect(d(httpError(403)).message).toMatch(/refused DATABRICKS_TOKEN \(HTTP 403\).*DATABRICKS_HTTP_PATH/);
    expect(d(httpError(404))).toMatchObject({ kind: 'ConfigError', message: expect.stringMatching(/DATABRICKS_HTTP_PATH "\/sql\/1.0\/warehouses\/abc" was not found/) });
    const throttled = d(httpError(429, { 'retry-after': '7' }));
    expect(throttled).toBeInstanceOf(TransientError);
    expect((throttled as TransientError).retryAfterMs).toBe(7000);
    expect(d(httpError(503))).toBeInstanceOf(TransientError);
    expect(d(httpError(502))).toBeInstanceOf(TransientError);
    const already = new TransientError('x');
    expect(d(already)).toBe(already);
  });

  it('maps statement failures: retryable conflicts, permissions, bad SQL, unknown', () => {
    const d = (message: string, extra: object = {}) => describeDatabricksError(Object.assign(new Error(message), extra), target, 'MERGE INTO `novade`.`silver`.`x` ...');
    expect(d('[DELTA_CONCURRENT_APPEND] ConcurrentAppendException: Files were added')).toBeInstanceOf(TransientError);
    expect(d('x', { name: 'OperationStateError', errorCode: 'TIMEOUT' })).toBeInstanceOf(TransientError);
    expect(d("[NO_SUCH_CATALOG_EXCEPTION] Catalog 'novade' was not found")).toMatchObject({ kind: 'ConfigError', message: expect.stringMatching(/DATABRICKS_CATALOG "novade" does not exist/) });
    expect(d('[INSUFFICIENT_PERMISSIONS] User does not have USE SCHEMA')).toMatchObject({ kind: 'PermissionError' });
    const syntax = d('[PARSE_SYNTAX_ERROR] Syntax error at or near');
    expect(syntax).toMatchObject({ kind: 'InvalidRequest' });
    expect(syntax.message).toMatch(/\[statement: MERGE INTO/);
    const other = d('something odd');
    expect(other).not.toBeInstanceOf(PermanentError);
    expect(other).not.toBeInstanceOf(TransientError);
    expect(describeDatabricksError('plain text', target).message).toMatch(/plain text/);
  });

  it('describes failures of statements it runs', async () => {
    const f = fakeClient({ statement: (sql) => (sql.startsWith('SET') ? [] : new Error('[TABLE_OR_VIEW_NOT_FOUND] nope')) });
    const ex = await DbsqlExecutor.connect(config, { client: f.client });
    await expect(ex.execute('SELECT * FROM t')).rejects.toThrow(/Databricks refused a statement: \[TABLE_OR_VIEW_NOT_FOUND\]/);
  });
});

describe('DbsqlExecutor with the real @databricks/sql driver, no workspace needed', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-dbsql-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('says DATABRICKS_HOST cannot be reached when nothing answers there', async () => {
    const err = await DbsqlExecutor.connect(config, { connection: { host: '127.0.0.1', port: 9 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toMatch(/Cannot reach Databricks at DATABRICKS_HOST/);
  });

  it('says DATABRICKS_HOST does not resolve for a host that does not exist', async () => {
    await expect(createWarehouse({ kind: 'databricks', host: 'no-such-workspace.invalid', httpPath: '/sql/1.0/warehouses/x', token: 't', catalog: 'c', volume: 'v' })).rejects.toThrow(
      /DATABRICKS_HOST "no-such-workspace.invalid"/,
    );
  });

  let openssl = true;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    openssl = false;
    console.warn('openssl is not installed: skipping the HTTP 401 test against a local TLS server.');
  }

  it.skipIf(!openssl)('says DATABRICKS_TOKEN is wrong when the server answers 401', async () => {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (_req, res) => {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('Invalid access token');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const err = await DbsqlExecutor.connect(config, { connection: { host: '127.0.0.1', port, checkServerCertificate: false } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PermanentError);
      expect((err as Error).message).toMatch(/rejected DATABRICKS_TOKEN \(HTTP 401\)/);
    } finally {
      server.close();
    }
  });
});
