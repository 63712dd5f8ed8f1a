import { describe, expect, it } from 'vitest';
import { isKeyVaultReference, parseKeyVaultReference } from '../../config/keyvault/reference';
import { resolveKeyVaultReferences } from '../../config/keyvault/resolve';
import { ConfigError } from '../../config/config';
import { payloadEncryptionCheck, isLocalTemporal } from '../../client/doctor/temporal';
import { buildConfig } from '../../config/config';

describe('Key Vault references', () => {
  it('reads the SecretUri form, with and without a version, as App Service writes it', () => {
    expect(parseKeyVaultReference('@Microsoft.KeyVault(SecretUri=https://novade-kv.vault.azure.net/secrets/amplitude-api-key/)')).toEqual({
      vaultUrl: 'https://novade-kv.vault.azure.net',
      vaultName: 'novade-kv',
      secretName: 'amplitude-api-key',
    });
    expect(parseKeyVaultReference('@Microsoft.KeyVault(SecretUri=https://novade-kv.vault.azure.net/secrets/amplitude-api-key/ec96f02080254f109c51a1f14cdb1931)').version).toBe('ec96f02080254f109c51a1f14cdb1931');
  });

  it('reads the VaultName form, in another cloud through the DNS suffix', () => {
    expect(parseKeyVaultReference('@Microsoft.KeyVault(VaultName=novade-kv;SecretName=drift-token)')).toEqual({ vaultUrl: 'https://novade-kv.vault.azure.net', vaultName: 'novade-kv', secretName: 'drift-token' });
    expect(parseKeyVaultReference(' @microsoft.keyvault( vaultname=novade-kv ; secretname=drift-token ; secretversion=abc123 ) ', 'vault.azure.cn')).toEqual({
      vaultUrl: 'https://novade-kv.vault.azure.cn',
      vaultName: 'novade-kv',
      secretName: 'drift-token',
      version: 'abc123',
    });
  });

  it('says what is wrong with a malformed one', () => {
    expect(() => parseKeyVaultReference('@Microsoft.KeyVault(SecretName=x)')).toThrow(/both VaultName=... and SecretName=.../);
    expect(() => parseKeyVaultReference('@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/keys/x)')).toThrow(/no \/secrets\/<name>/);
    expect(() => parseKeyVaultReference('@Microsoft.KeyVault(VaultName=a_b;SecretName=x)')).toThrow(/not a vault name/);
    expect(() => parseKeyVaultReference('@Microsoft.KeyVault(SecretUri)')).toThrow(/not Name=value/);
    expect(isKeyVaultReference('plain-secret')).toBe(false);
  });

  it('a plain environment needs no vault and is returned as it is', async () => {
    const raw = { WEBHOOK_SECRET: 'plain' };
    const r = await resolveKeyVaultReferences(raw, { read: () => Promise.reject(new Error('no vault should be read')) });
    expect(r).toEqual({ env: raw, references: {} });
  });

  it('the same secret named by two settings is read once', async () => {
    const reads: string[] = [];
    const ref = '@Microsoft.KeyVault(VaultName=novade-kv;SecretName=shared)';
    const r = await resolveKeyVaultReferences({ DRIFT_TOKEN: ref, DRIFT_VERIFICATION_TOKEN: ref }, { read: async (x) => (reads.push(x.secretName), 'value') });
    expect(reads).toEqual(['shared']);
    expect([r.env.DRIFT_TOKEN, r.env.DRIFT_VERIFICATION_TOKEN]).toEqual(['value', 'value']);
  });

  it('a failed read names the setting', async () => {
    await expect(resolveKeyVaultReferences({ WEBHOOK_SECRET: '@Microsoft.KeyVault(VaultName=novade-kv;SecretName=x)' }, { read: () => Promise.reject(new Error('boom')) })).rejects.toSatisfy(
      (e: unknown) => e instanceof ConfigError && /^WEBHOOK_SECRET: cannot read it from Key Vault: Error: boom$/.test(e.problems[0]),
    );
  });
});

describe('doctor: payload encryption', () => {
  const key = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
  it('warns (advice, not a failure) when a non-local Temporal gets plain payloads', () => {
    const c = payloadEncryptionCheck(buildConfig({ TEMPORAL_ADDRESS: 'novade.a2b3c.tmprl.cloud:7233', TEMPORAL_API_KEY: 'k' }, '/tmp').temporal);
    expect(c).toMatchObject({ ok: false, required: false, check: 'payload encryption' });
    expect(c.fix).toContain('TEMPORAL_CODEC_KEYS');
  });
  it('is quiet for a local server, and says which key encrypts when keys are set', () => {
    expect(payloadEncryptionCheck(buildConfig({}, '/tmp').temporal)).toMatchObject({ ok: true });
    expect(payloadEncryptionCheck(buildConfig({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_CODEC_KEYS: key }, '/tmp').temporal)).toMatchObject({ ok: true, detail: expect.stringContaining('"k1"') });
    expect(['localhost:7233', '127.0.0.1:7233', '[::1]:7233', 'temporal:7233'].map(isLocalTemporal)).toEqual([true, true, true, false]);
  });
});
