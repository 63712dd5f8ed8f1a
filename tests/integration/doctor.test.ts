import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { buildConfig, type AppConfig } from '../../config/config';
import { runCli } from '../../client/cli';
import { CliContext } from '../../client/cli-context';
import { runDoctor } from '../../client/doctor/run';
import type { DoctorCheck } from '../../client/doctor/types';
import { startSalesforceEmulator, SALESFORCE_ROUTES, type SalesforceEmulator } from '../../sandbox/salesforce';
import { startDriftEmulator, DRIFT_SANDBOX_SCOPES, type DriftEmulator } from '../../sandbox/drift';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';
import { startBigQueryEmulator, type BigQueryEmulator } from '../../sandbox/bigquery';
import { startDevServer } from '../helpers/temporal';
import { freePort } from '../helpers/ports';

/**
 * `npx novade doctor` against the real Temporal dev server and the sandbox emulators, each configured
 * as if it were the real service (explicit URLs and credentials). Every broken credential must show
 * up as the failing check with the fix that names the right setting, and a non-zero exit.
 */

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

let temporal: TestWorkflowEnvironment;
let sf: SalesforceEmulator;
let drift: DriftEmulator;
let amp: AmplitudeEmulator;
let bq: BigQueryEmulator;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-doctor-'));
const AMP_KEY = 'doctor-test-amplitude-key';
const DRIFT_TOKEN = 'doctor-test-drift-token';

beforeAll(async () => {
  [temporal, sf, drift, amp, bq] = await Promise.all([
    startDevServer(),
    startSalesforceEmulator({ port: 0, scale: 0.005 }),
    startDriftEmulator({ port: 0, scale: 0.02, token: DRIFT_TOKEN }),
    startAmplitudeEmulator({ port: 0, apiKeys: [AMP_KEY] }),
    startBigQueryEmulator({ rowsPerTable: 50, seed: 7 }),
  ]);
}, 180_000);
afterAll(async () => {
  await Promise.all([temporal?.teardown(), sf?.close(), drift?.close(), amp?.close(), bq?.close()]);
});

/** The emulators as real services: nothing is left to the sandbox defaults. */
function env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: temporal.address,
    SANDBOX: 'off',
    DATA_DIR: dir,
    SALESFORCE_LOGIN_URL: sf.url,
    SALESFORCE_CLIENT_ID: sf.credentials.clientId,
    SALESFORCE_CLIENT_SECRET: sf.credentials.clientSecret,
    DRIFT_BASE_URL: drift.url,
    DRIFT_TOKEN,
    AMPLITUDE_SERVER_URL: amp.url,
    AMPLITUDE_API_KEY: AMP_KEY,
    BIGQUERY_PROJECT: bq.projectId,
    BIGQUERY_API_ENDPOINT: bq.url,
    SEGMENT_DATASET: bq.dataset,
    WEBHOOK_SECRET: 'a-long-enough-shared-secret-for-tests',
    ...overrides,
  };
}

const configOf = (overrides: Record<string, string> = {}): AppConfig => buildConfig(env(overrides), dir);

async function cli(config: AppConfig, ...args: string[]) {
  const out = new Capture();
  const code = await runCli(args, new CliContext(out, config));
  return { code, out: out.text };
}

const find = (checks: DoctorCheck[], service: string, check: string | RegExp) => {
  const found = checks.find((c) => c.service === service && (typeof check === 'string' ? c.check === check : check.test(c.check)));
  if (!found) throw new Error(`no ${service} / ${String(check)} check in ${JSON.stringify(checks.map((c) => [c.service, c.check]))}`);
  return found;
};

describe('npx novade doctor', () => {
  it('passes on the full sandbox: every check ok, exit 0, a table with a row per check', async () => {
    const { code, out } = await cli(configOf(), 'doctor');
    expect(code).toBe(0);
    expect(out).toMatch(/^service\s+check\s+result\s+detail\s+how to fix/m);
    for (const [service, check] of [
      ['temporal', 'reachable'],
      ['temporal', 'namespace default'],
      ['salesforce', 'login'],
      ['salesforce', 'API enabled'],
      ['salesforce', 'daily API calls'],
      ['salesforce', 'read Contact'],
      ['salesforce', 'read Opportunity'],
      ['drift', 'token valid'],
      ['drift', 'scopes'],
      ['amplitude', 'API key valid'],
      ['warehouse (duckdb)', 'file writable'],
      ['bigquery', 'dataset segment'],
      ['bigquery', 'read tracks'],
      ['bigquery', 'read pages'],
      ['webhook', 'secret set'],
    ])
      expect(out).toMatch(new RegExp(`^${service.replace(/[()]/g, '\\$&')}\\s+${check}\\s+ok\\b`, 'm'));
    // No worker polls this task queue: advice, not a failure.
    expect(out).toMatch(/^temporal\s+worker on novade-sync\s+warn\s+no worker/m);
    expect(out).toMatch(/0 failed$/m);
    // Checking the key created nothing in Amplitude.
    expect(amp.store.count({})).toBe(0);
  });

  it('prints the same checks as JSON with --json', async () => {
    const { code, out } = await cli(configOf(), 'doctor', '--json', '--only', 'amplitude', 'drift');
    expect(code).toBe(0);
    const checks = JSON.parse(out) as DoctorCheck[];
    // In the order the services were named.
    expect(checks.map((c) => `${c.service}/${c.check}/${c.ok}`)).toEqual(['amplitude/API key valid/true', 'drift/token valid/true', 'drift/scopes/true', 'drift/read conversations/true']);
  });

  it('a wrong Salesforce client secret fails login, naming the secret to fix, exit 1', async () => {
    const { code, out } = await cli(configOf({ SALESFORCE_CLIENT_SECRET: 'not-the-secret' }), 'doctor', '--only', 'salesforce');
    expect(code).toBe(1);
    expect(out).toMatch(/^salesforce\s+login\s+FAIL\s+client_credentials flow refused: invalid_client/m);
    expect(out).toContain('check SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET');
    expect(out).toMatch(/1 failed$/m);
  });

  it('a wrong Drift token fails "token valid" with the DRIFT_TOKEN fix; a missing scope is named', async () => {
    let r = await runDoctor(configOf({ DRIFT_TOKEN: 'revoked-token' }), { only: ['drift'] });
    expect(r.failed.map((c) => c.check)).toEqual(['token valid']);
    expect(r.failed[0].detail).toContain('HTTP 401');
    expect(r.failed[0].fix).toMatch(/^DRIFT_TOKEN is wrong, expired or revoked/);

    drift.setScopes(['contact_read', 'user_read']);
    try {
      r = await runDoctor(configOf(), { only: ['drift'] });
      const scopes = find(r.checks, 'drift', 'scopes');
      expect(scopes.ok).toBe(false);
      expect(scopes.detail).toBe('missing conversation_read (token has: contact_read user_read)');
      expect(scopes.fix).toContain('add conversation_read to the app');
    } finally {
      drift.setScopes(DRIFT_SANDBOX_SCOPES);
    }
  });

  it('a wrong Amplitude key fails with the AMPLITUDE_API_KEY fix, exit 1', async () => {
    const { code, out } = await cli(configOf({ AMPLITUDE_API_KEY: 'someone-elses-key' }), 'doctor', '--only', 'amplitude');
    expect(code).toBe(1);
    expect(out).toMatch(/^amplitude\s+API key valid\s+FAIL\s+Amplitude answered HTTP 400 invalid_api_key\s+AMPLITUDE_API_KEY is not the API key/m);
  });

  it('an unreachable Temporal fails "reachable" with how to start it, exit 1', async () => {
    const port = await freePort();
    const { code, out } = await cli(configOf({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }), 'doctor', '--only', 'temporal', '--timeout', '3');
    expect(code).toBe(1);
    expect(out).toMatch(new RegExp(`^temporal\\s+reachable\\s+FAIL\\s+cannot connect to 127\\.0\\.0\\.1:${port}`, 'm'));
    expect(out).toContain('start the platform with `npm start`');
  });

  it('a namespace that does not exist is named with the command that creates it', async () => {
    const r = await runDoctor(configOf({ TEMPORAL_NAMESPACE: 'no-such-namespace' }), { only: ['temporal'] });
    const ns = find(r.checks, 'temporal', 'namespace no-such-namespace');
    expect(ns).toMatchObject({ ok: false, required: true, detail: 'does not exist' });
    expect(ns.fix).toContain('temporal operator namespace create --namespace no-such-namespace');
  });

  it('a field the integration user cannot see fails on its own line, naming the field and the permission to grant', async () => {
    const r = await runDoctor(configOf({ SALESFORCE_USER_ID_FIELD: 'Login_Email__c' }), { only: ['salesforce'] });
    expect(r.failed.map((c) => c.check).sort()).toEqual(['read Contact.Login_Email__c', 'read Lead.Login_Email__c']);
    const contact = find(r.checks, 'salesforce', 'read Contact.Login_Email__c');
    expect(contact.detail).toMatch(/^Contact\.Login_Email__c is not visible to the integration user/);
    expect(contact.fix).toContain('Object Manager > Contact > Fields & Relationships > Login_Email__c > Set Field-Level Security');
    expect(contact.fix).toContain('or change SALESFORCE_USER_ID_FIELD');
    expect(find(r.checks, 'salesforce', 'read Contact').ok).toBe(true);
    expect(find(r.checks, 'salesforce', 'read Account').ok).toBe(true);
  });

  it('a field hidden by field-level security at run time is named by doctor', async () => {
    sf.store.hideField('Contact', 'Title');
    try {
      const r = await runDoctor(configOf({}), { only: ['salesforce'] });
      expect(r.failed.map((c) => c.check)).toEqual(['read Contact.Title']);
      expect(find(r.checks, 'salesforce', 'read Contact.Title').fix).toContain('Set Field-Level Security');
    } finally {
      sf.store.showField('Contact', 'Title');
    }
  });

  it('a daily API allowance nearly spent is a warning with the numbers, not a failure', async () => {
    sf.setApiLimit(1_000, 950);
    try {
      const r = await runDoctor(configOf(), { only: ['salesforce'] });
      const calls = find(r.checks, 'salesforce', 'daily API calls');
      expect(calls).toMatchObject({ ok: false, required: false });
      // /limits itself is one of the calls counted.
      expect(calls.detail).toMatch(/^49 of 1,000 left \(95 % used\): syncs stop at 80 %/);
      expect(r.failed).toEqual([]);
    } finally {
      sf.setApiLimit(100_000, 0);
    }
  });

  it('an object the integration user cannot read fails with the grant to give; a 503 that persists fails in time', async () => {
    sf.faults.set({ [SALESFORCE_ROUTES.describe]: { failNext: 1, statuses: [404] } });
    try {
      const r = await runDoctor(configOf(), { only: ['salesforce'] });
      expect(find(r.checks, 'salesforce', 'login').ok).toBe(true);
      expect(r.failed).toHaveLength(1);
      const object = r.failed[0].check.replace('read ', '');
      expect(r.failed[0].detail).toMatch(/^NOT_FOUND: /);
      expect(r.failed[0].fix).toBe(`give the integration user Read on ${object} (profile or permission set)`);
    } finally {
      sf.faults.set({});
    }
    // jsforce retries a 503 itself, with backoff: the doctor's own timeout ends the wait.
    sf.faults.set({ [SALESFORCE_ROUTES.describe]: { errorRate: 1, statuses: [503] } });
    try {
      const r = await runDoctor(configOf(), { only: ['salesforce'], timeoutMs: 1_500 });
      expect(r.failed.map((c) => c.check).sort()).toEqual(['read Account', 'read Contact', 'read Lead', 'read Opportunity']);
      expect(r.failed[0].detail).toMatch(/no answer within 2 s|SERVER_UNAVAILABLE/);
    } finally {
      sf.faults.set({});
    }
  });

  it('an endpoint that never answers fails within the timeout instead of hanging', async () => {
    amp.faults.set({ 'POST /identify': { failNext: 1, statuses: ['timeout'] } });
    try {
      const started = Date.now();
      const r = await runDoctor(configOf(), { only: ['amplitude'], timeoutMs: 1_000 });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(r.failed).toHaveLength(1);
      expect(r.failed[0].detail).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+: no answer within 1 s$/);
    } finally {
      amp.faults.set({});
    }
  });

  it('a stopped emulator in sandbox mode says how to start the sandbox', async () => {
    const port = await freePort();
    const r = await runDoctor(configOf({ DRIFT_BASE_URL: `http://127.0.0.1:${port}` }), { only: ['drift'] });
    expect(r.failed[0].detail).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED/);
    expect(r.failed[0].fix).toContain('DRIFT_BASE_URL');
    const sandboxed = buildConfig({ TEMPORAL_ADDRESS: temporal.address, DATA_DIR: dir, SANDBOX: 'on' }, dir);
    sandboxed.drift.baseUrl = `http://127.0.0.1:${port}`;
    const s = await runDoctor(sandboxed, { only: ['drift'] });
    expect(s.failed[0].service).toBe('drift (sandbox)');
    expect(s.failed[0].fix).toContain('npm start');
  });

  it('a Segment table that does not exist fails with the SEGMENT_TABLES fix', async () => {
    const r = await runDoctor(configOf({ SEGMENT_TABLES: 'tracks,screens' }), { only: ['bigquery'] });
    expect(find(r.checks, 'bigquery', 'read tracks').ok).toBe(true);
    const screens = find(r.checks, 'bigquery', 'read screens');
    expect(screens.ok).toBe(false);
    expect(screens.fix).toContain('remove screens from SEGMENT_TABLES');
    const ds = await runDoctor(configOf({ SEGMENT_DATASET: 'not_segment' }), { only: ['bigquery'] });
    expect(ds.failed[0].check).toBe('dataset not_segment');
    expect(ds.failed[0].fix).toContain('SEGMENT_DATASET');
  });

  it('an unset webhook secret is a warning in development and a failure in production', async () => {
    const dev = await runDoctor(configOf({ WEBHOOK_SECRET: '' }), { only: ['webhook'] });
    expect(dev.warnings.map((c) => c.check)).toEqual(['secret set']);
    expect(dev.failed).toEqual([]);
    const short = await runDoctor(configOf({ NODE_ENV: 'production', WEBHOOK_SECRET: 'short' }), { only: ['webhook'] });
    expect(short.failed[0].detail).toBe('WEBHOOK_SECRET is only 5 characters');
    expect(short.failed[0].fix).toContain('openssl rand -hex 32');
  });

  it('a DuckDB path under a file, not a directory, fails with the DUCKDB_PATH fix', async () => {
    const file = path.join(dir, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    const r = await runDoctor(configOf({ DUCKDB_PATH: path.join(file, 'warehouse.duckdb') }), { only: ['warehouse'] });
    expect(r.failed[0].detail).toContain('is a file, not a directory');
    expect(r.failed[0].fix).toContain('DUCKDB_PATH');
  });

  it('Databricks that cannot be reached fails "warehouse reachable" naming the setting', async () => {
    const port = await freePort();
    const r = await runDoctor(
      configOf({ WAREHOUSE: 'databricks', DATABRICKS_HOST: '127.0.0.1', DATABRICKS_HTTP_PATH: `/sql/1.0/warehouses/x${port}`, DATABRICKS_TOKEN: 'dapi-test' }),
      { only: ['warehouse'], timeoutMs: 5_000 },
    );
    expect(r.failed).toHaveLength(1);
    expect(r.failed[0]).toMatchObject({ service: 'warehouse (databricks)', check: 'warehouse reachable' });
    expect(r.failed[0].detail).toMatch(/DATABRICKS_HOST/);
  });
});
