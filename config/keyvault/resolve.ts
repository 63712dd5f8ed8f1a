import { ConfigError, SECRET_SETTINGS, type SecretSetting } from '../env';
import { isKeyVaultReference, parseKeyVaultReference, type KeyVaultReference } from './reference';
import { KeyVaultReadError, keyVaultResolverFor, type SecretResolver } from './resolver';

export interface ResolvedEnv {
  /** The environment with every reference replaced by its secret's value. */
  env: NodeJS.ProcessEnv;
  /** The settings that came from Key Vault, for re-reading a rotated secret. */
  references: Partial<Record<SecretSetting, KeyVaultReference>>;
}

const isSecretSetting = (name: string): name is SecretSetting => (SECRET_SETTINGS as readonly string[]).includes(name);

/**
 * Replaces the Key Vault references of secret settings by the secrets' values, all read at once.
 * Throws one ConfigError with a line per setting that failed: the setting, the vault and the fix.
 */
export async function resolveKeyVaultReferences(raw: NodeJS.ProcessEnv, resolver?: SecretResolver): Promise<ResolvedEnv> {
  const problems: string[] = [];
  const wanted: [SecretSetting, KeyVaultReference][] = [];
  const dnsSuffix = raw.KEY_VAULT_DNS_SUFFIX?.trim() || 'vault.azure.net';
  for (const [name, value] of Object.entries(raw)) {
    if (!isKeyVaultReference(value)) continue;
    if (!isSecretSetting(name)) {
      problems.push(`${name}: only secret settings may be Key Vault references (${SECRET_SETTINGS.join(', ')}); put the value itself here`);
      continue;
    }
    try {
      wanted.push([name, parseKeyVaultReference(value, dnsSuffix)]);
    } catch (err) {
      problems.push(`${name}: malformed Key Vault reference: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (wanted.length === 0) {
    if (problems.length) throw new ConfigError(problems);
    return { env: raw, references: {} };
  }
  const reader = resolver ?? keyVaultResolverFor({ KEY_VAULT_CA_CERT_PATH: raw.KEY_VAULT_CA_CERT_PATH?.trim() || undefined });
  // The same secret named by two settings is read once.
  const reads = new Map<string, Promise<string>>();
  const keyOf = (r: KeyVaultReference) => `${r.vaultUrl}|${r.secretName}|${r.version ?? ''}`;
  const results = await Promise.allSettled(
    wanted.map(([, ref]) => {
      let read = reads.get(keyOf(ref));
      if (!read) reads.set(keyOf(ref), (read = reader.read(ref)));
      return read;
    }),
  );
  const env: NodeJS.ProcessEnv = { ...raw };
  const references: ResolvedEnv['references'] = {};
  results.forEach((r, i) => {
    const [name, ref] = wanted[i];
    if (r.status === 'fulfilled') {
      env[name] = r.value;
      references[name] = ref;
    } else problems.push(`${name}: ${r.reason instanceof KeyVaultReadError ? r.reason.message : `cannot read it from Key Vault: ${String(r.reason)}`}`);
  });
  if (problems.length) throw new ConfigError(problems);
  return { env, references };
}

/** Settings still holding a reference after loading: nothing resolved them. */
export function unresolvedReferenceProblems(raw: NodeJS.ProcessEnv): string[] {
  return Object.entries(raw)
    .filter(([, v]) => isKeyVaultReference(v))
    .map(
      ([name]) =>
        `${name}: holds a Key Vault reference that was not resolved (the worker, webhook and CLI resolve references at start; ` +
        'in an Azure Function App the platform does: check the setting\'s Key Vault reference status in the portal and that the app\'s identity has the role "Key Vault Secrets User")',
    );
}
