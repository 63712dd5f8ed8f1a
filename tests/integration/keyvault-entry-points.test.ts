import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeyVaultEmulator, type KeyVaultEmulator } from '../../sandbox/keyvault';
import { freePort } from '../helpers/ports';
import { ROOT } from '../helpers/paths';

/**
 * The entry points resolve Key Vault references before they start (webhook, worker, CLI), as separate
 * processes with the managed identity in their environment, and a failure is one line per setting.
 */

/** tsx by file URL: the processes run in a scratch directory (no .env of the checkout is read). */
const TSX = pathToFileURL(require.resolve('tsx')).href;

let kv: KeyVaultEmulator;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-kv-entry-'));
const caFile = path.join(dir, 'ca.pem');
const VAULT_SECRET = 'webhook-secret-held-by-the-vault';

beforeAll(async () => {
  kv = await startKeyVaultEmulator({ secrets: { 'webhook-secret': VAULT_SECRET, 'amplitude-api-key': 'amp-key-in-vault' } });
  fs.writeFileSync(caFile, kv.caCert);
});
afterAll(async () => {
  await kv?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The test runner's environment without any platform or Azure setting. */
const clean = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SALESFORCE|DRIFT|AMPLITUDE|DATABRICKS|BIGQUERY|SEGMENT|WAREHOUSE|TEMPORAL|WEBHOOK|ALERT|AZURE|IDENTITY|MSI|KEY_VAULT|CODEC)_?/.test(k)));

function run(entry: string, args: string[], env: Record<string, string>, until?: RegExp): Promise<{ code: number | null; out: string; err: string; child: ReturnType<typeof spawn> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, path.join(ROOT, entry), ...args], { cwd: dir, env: { ...clean(), DATA_DIR: dir, KEY_VAULT_CA_CERT_PATH: caFile, LOG_FORMAT: 'json', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (until?.test(out)) resolve({ code: null, out, err, child });
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err, child }));
  });
}

describe('entry points resolve references at start', () => {
  it('the webhook takes its secret from the vault through its managed identity', async () => {
    const port = await freePort();
    const r = await run(
      'webhook/server-main.ts',
      [],
      { ...kv.identityEnv, AZURE_TOKEN_CREDENTIALS: 'prod', WEBHOOK_SECRET: kv.reference('webhook-secret'), WEBHOOK_HOST: '127.0.0.1', WEBHOOK_PORT: String(port), TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` },
      /webhook server listening/,
    );
    try {
      expect(r.code, r.err).toBeNull();
      const post = (secret: string) => fetch(`http://127.0.0.1:${port}/amplitude`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-novade-webhook-secret': secret }, body: '[]' });
      expect((await post('not-the-secret')).status).toBe(401);
      expect((await post(VAULT_SECRET)).status).not.toBe(401);
      expect(r.out + r.err).not.toContain(VAULT_SECRET);
    } finally {
      r.child.kill('SIGTERM');
    }
  });

  it('the CLI without an Azure identity exits 2 with the setting, the vault and how to give it one', async () => {
    const r = await run('client/cli.ts', ['schedules', 'list'], {
      AZURE_TOKEN_CREDENTIALS: 'ManagedIdentityCredential',
      AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${await freePort()}`,
      AMPLITUDE_API_KEY: kv.reference('amplitude-api-key'),
    });
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain('invalid configuration');
    expect(r.err).toMatch(/AMPLITUDE_API_KEY: cannot read secret "amplitude-api-key" in vault "127\.0\.0\.1:\d+" .*: no Azure identity could get a token .*managed identity.*az login/);
    expect(r.err).not.toContain('    at ');
  });

  it('the worker (managed identity through IMDS, as on a VM or AKS) stops before connecting when a reference cannot be read', async () => {
    kv.deny();
    try {
      const r = await run('workers/worker-main.ts', [], { AZURE_POD_IDENTITY_AUTHORITY_HOST: kv.imdsHost, AZURE_TOKEN_CREDENTIALS: 'prod', WORKER_MAX_HEAP_MB: '0', WEBHOOK_SECRET: kv.reference('webhook-secret') });
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/WEBHOOK_SECRET: .*403 ForbiddenByRbac.*Key Vault Secrets User/);
    } finally {
      kv.allow();
    }
  });
});
