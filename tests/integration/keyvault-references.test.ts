import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretClient } from '@azure/keyvault-secrets';
import { DefaultAzureCredential } from '@azure/identity';
import { ConfigError, loadConfig } from '../../config/config';
import { startKeyVaultEmulator, type KeyVaultEmulator } from '../../sandbox/keyvault';
import { startAmplitudeEmulator, type AmplitudeEmulator } from '../../sandbox/amplitude';
import { AmplitudeSink } from '../../connectors/amplitude';
import { secretSource } from '../../config/keyvault/secret-sources';
import { PermanentError } from '../../lib/errors';
import { backfillSink } from '../../activities/backfill';
import { freePort } from '../helpers/ports';

/**
 * Key Vault references resolved through the real @azure/keyvault-secrets and DefaultAzureCredential
 * (its managed identity, App Service style) against the sandbox emulator over HTTPS.
 */

let kv: KeyVaultEmulator;
let amp: AmplitudeEmulator;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-kv-'));
const caFile = path.join(dir, 'kv-ca.pem');
const OLD_AMP_KEY = 'amp-key-before-rotation-0001';
const NEW_AMP_KEY = 'amp-key-after-rotation-0002';
const savedEnv = { ...process.env };

beforeAll(async () => {
  kv = await startKeyVaultEmulator({ secrets: { 'webhook-secret': 'wh-secret-from-vault', 'drift-token': 'drift-token-from-vault' } });
  fs.writeFileSync(caFile, kv.caCert);
  // DefaultAzureCredential finds the managed identity from the environment, as in an App Service or Function App.
  Object.assign(process.env, kv.identityEnv, { AZURE_TOKEN_CREDENTIALS: 'prod' });
  amp = await startAmplitudeEmulator({ port: 0, apiKeys: [NEW_AMP_KEY] });
});
afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([kv?.close(), amp?.close()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

const base = () => ({ DATA_DIR: dir, KEY_VAULT_CA_CERT_PATH: caFile });
const problemsOf = async (raw: NodeJS.ProcessEnv): Promise<string[]> => {
  try {
    await loadConfig(dir, { raw });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('the emulator speaks Key Vault to the real SDK', () => {
  it('challenges a request without a token, then serves the secret to the managed identity', async () => {
    const client = new SecretClient(kv.url, new DefaultAzureCredential(), { disableChallengeResourceVerification: true, serviceVersion: '7.4', tlsOptions: { ca: kv.caCert } });
    const before = kv.requests.length;
    const secret = await client.getSecret('webhook-secret');
    expect(secret.value).toBe('wh-secret-from-vault');
    expect(secret.properties.version).toMatch(/^[0-9a-f]{32}$/);
    const seen = kv.requests.slice(before);
    // The SDK's first request carries no token: 401 with the challenge, then the authorised retry.
    expect(seen[0]).toMatchObject({ status: 401, authorized: false });
    expect(seen.at(-1)).toMatchObject({ status: 200, authorized: true, path: '/secrets/webhook-secret' });
  });

  it('lists versions and refuses an api-version before 7.4', async () => {
    const client = new SecretClient(kv.url, new DefaultAzureCredential(), { disableChallengeResourceVerification: true, tlsOptions: { ca: kv.caCert } });
    await client.setSecret('listed', 'v1');
    await client.setSecret('listed', 'v2');
    const versions = [];
    for await (const p of client.listPropertiesOfSecretVersions('listed')) versions.push(p.version);
    expect(versions).toHaveLength(2);
    const old = new SecretClient(kv.url, new DefaultAzureCredential(), { disableChallengeResourceVerification: true, serviceVersion: '7.3', tlsOptions: { ca: kv.caCert } });
    await expect(old.getSecret('listed')).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('7.3') });
  });

  it('without disableChallengeResourceVerification the SDK refuses the emulator (its host is not *.vault.azure.net)', async () => {
    const client = new SecretClient(kv.url, new DefaultAzureCredential(), { tlsOptions: { ca: kv.caCert } });
    await expect(client.getSecret('webhook-secret')).rejects.toThrow(/resource|domain/i);
  });
});

describe('loadConfig resolves references of secret settings', () => {
  it('both forms of SecretUri (latest and a pinned version) land in the config', async () => {
    const pinned = kv.store.get('drift-token')!.version;
    kv.store.set('drift-token', 'a newer drift token');
    const config = await loadConfig(dir, { raw: { ...base(), WEBHOOK_SECRET: kv.reference('webhook-secret'), DRIFT_TOKEN: kv.reference('drift-token', pinned) } });
    expect(config.webhook.secret).toBe('wh-secret-from-vault');
    expect(config.drift.token).toBe('drift-token-from-vault');
    expect(config.secretReferences.WEBHOOK_SECRET).toMatchObject({ secretName: 'webhook-secret', vaultUrl: kv.url });
    expect(config.secretReferences.DRIFT_TOKEN?.version).toBe(pinned);
  });

  it('TEMPORAL_CODEC_KEYS from the vault is validated after resolution', async () => {
    kv.store.set('codec-keys', `k1:${Buffer.alloc(32, 7).toString('base64')}`);
    const config = await loadConfig(dir, { raw: { ...base(), TEMPORAL_CODEC_KEYS: kv.reference('codec-keys') } });
    expect(config.temporal.codec?.keys.map((k) => k.id)).toEqual(['k1']);
  });

  it('each failure class says which setting, which vault and the likely fix, one line per setting', async () => {
    kv.store.set('disabled-one', 'x', { enabled: false });
    const closedPort = await freePort();
    const problems = await problemsOf({
      ...base(),
      WEBHOOK_SECRET: kv.reference('no-such-secret'),
      DRIFT_TOKEN: kv.reference('disabled-one'),
      AMPLITUDE_API_KEY: `@Microsoft.KeyVault(SecretUri=https://127.0.0.1:${closedPort}/secrets/amp)`,
      SALESFORCE_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=http://novade.vault.azure.net/secrets/x)',
      DATA_DIR: kv.reference('webhook-secret'),
    });
    expect(problems).toHaveLength(5);
    const line = (name: string) => problems.find((p) => p.startsWith(`${name}:`)) ?? '';
    expect(line('WEBHOOK_SECRET')).toMatch(/secret "no-such-secret" in vault "127.0.0.1:\d+".*404 SecretNotFound.*Check the secret name/);
    expect(line('DRIFT_TOKEN')).toMatch(/secret is disabled.*Enable the secret/);
    expect(line('AMPLITUDE_API_KEY')).toMatch(/unreachable \(ECONNREFUSED\).*network path/);
    expect(line('SALESFORCE_CLIENT_SECRET')).toMatch(/malformed Key Vault reference: .*must use https/);
    expect(line('DATA_DIR')).toMatch(/only secret settings may be Key Vault references/);
    // No secret value leaks into a message.
    expect(problems.join('\n')).not.toContain('wh-secret-from-vault');
  });

  it('a principal without the role gets the role assignment as the fix', async () => {
    kv.deny();
    try {
      const problems = await problemsOf({ ...base(), WEBHOOK_SECRET: kv.reference('webhook-secret') });
      expect(problems).toEqual([expect.stringMatching(/^WEBHOOK_SECRET: cannot read secret "webhook-secret".*403 ForbiddenByRbac.*"Key Vault Secrets User"/)]);
    } finally {
      kv.allow();
    }
  });

  it('a reference left unresolved (a Function App that could not read it) is refused by the synchronous loader', async () => {
    const { buildConfig } = await import('../../config/config');
    expect(() => buildConfig({ WEBHOOK_SECRET: kv.reference('webhook-secret') }, dir)).toThrow(/WEBHOOK_SECRET: holds a Key Vault reference that was not resolved.*Key Vault Secrets User/);
  });
});

describe('a rotated secret is read again when the service refuses it', () => {
  it('Amplitude: the refused key is re-read from the vault once and the send goes through', async () => {
    kv.store.set('amplitude-api-key', OLD_AMP_KEY);
    const config = await loadConfig(dir, { raw: { ...base(), AMPLITUDE_API_KEY: kv.reference('amplitude-api-key'), AMPLITUDE_SERVER_URL: amp.url } });
    expect(config.amplitude.apiKey).toBe(OLD_AMP_KEY);
    // Rotated in the vault after the worker started.
    kv.store.set('amplitude-api-key', NEW_AMP_KEY);
    const reads = () => kv.requests.filter((r) => r.path === '/secrets/amplitude-api-key' && r.status === 200).length;
    const before = reads();
    const sink = new AmplitudeSink({ apiKey: secretSource(config, 'AMPLITUDE_API_KEY', config.amplitude.apiKey), serverUrl: amp.url, minIdLength: 1 });
    const event = (n: number) => ({ user_id: `user-${n}`, event_type: 'rotation test', insert_id: `rot-${n}-${Date.now()}`, time: Date.now() });
    expect(await sink.send([event(1)])).toEqual({ sent: 1, rejected: [] });
    expect(reads() - before).toBe(1);
    // The new key is kept: no further reads.
    expect(await sink.send([event(2)])).toEqual({ sent: 1, rejected: [] });
    expect(reads() - before).toBe(1);
  });

  it("the backfill's Batch API sink re-reads a rotated key too", async () => {
    kv.store.set('amplitude-backfill-key', OLD_AMP_KEY);
    const config = await loadConfig(dir, { raw: { ...base(), AMPLITUDE_API_KEY: kv.reference('amplitude-backfill-key'), AMPLITUDE_SERVER_URL: amp.url, AMPLITUDE_MIN_ID_LENGTH: '1' } });
    kv.store.set('amplitude-backfill-key', NEW_AMP_KEY);
    const reads = () => kv.requests.filter((r) => r.path === '/secrets/amplitude-backfill-key' && r.status === 200).length;
    const before = reads();
    const batchCalls = () => amp.store.requests().filter((r) => r.endpoint === 'POST /batch').length;
    const batchBefore = batchCalls();
    const sink = backfillSink(config);
    const event = (n: number) => ({ user_id: `user-${n}`, event_type: 'backfill rotation test', insert_id: `bf-rot-${n}-${Date.now()}`, time: Date.now() });
    expect(await sink.send([event(1)])).toEqual({ sent: 1, rejected: [] });
    expect(await sink.send([event(2)])).toEqual({ sent: 1, rejected: [] });
    // One re-read for the refused key, then the new key is kept; every call went to the Batch API.
    expect(reads() - before).toBe(1);
    expect(batchCalls() - batchBefore).toBe(3);
  });

  it('a key refused again after the re-read fails for good, after exactly one re-read', async () => {
    kv.store.set('amplitude-bad-key', 'a-key-amplitude-never-knew');
    const config = await loadConfig(dir, { raw: { ...base(), AMPLITUDE_API_KEY: kv.reference('amplitude-bad-key'), AMPLITUDE_SERVER_URL: amp.url } });
    const reads = () => kv.requests.filter((r) => r.path === '/secrets/amplitude-bad-key' && r.status === 200).length;
    const before = reads();
    const sink = new AmplitudeSink({ apiKey: secretSource(config, 'AMPLITUDE_API_KEY', config.amplitude.apiKey), serverUrl: amp.url, minIdLength: 1 });
    const err = await sink.send([{ user_id: 'user-x', event_type: 'e', insert_id: `bad-${Date.now()}`, time: Date.now() }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(String((err as Error).message)).toMatch(/Amplitude refused the API key/);
    expect(reads() - before).toBe(1);
  });
});
