import type { AppConfig, SecretSetting } from '../config';
import type { Logger } from '../logger';
import { rereadableSecret, fixedSecret, type SecretSource } from '../../connectors/secret-source';
import { keyVaultResolverFor } from './resolver';

/**
 * A connector's view of a secret setting: the value read at start, and, when the setting is a Key
 * Vault reference, a re-read of the same reference (no version pinned: the latest) when the service
 * refuses it. Connectors wired this way: Amplitude (AMPLITUDE_API_KEY: the live sink and the backfill's Batch API sink).
 */
export function secretSource(config: AppConfig, setting: SecretSetting, value: string, log?: Logger): SecretSource {
  const ref = config.secretReferences[setting];
  if (!ref) return fixedSecret(value);
  const resolver = keyVaultResolverFor(config.env);
  return rereadableSecret(
    value,
    async () => {
      const next = await resolver.read(ref);
      log?.info({ setting, vault: ref.vaultName, secret: ref.secretName }, 'secret read again from Key Vault after the service refused it');
      return next;
    },
    (err) => log?.warn({ setting, error: err instanceof Error ? err.message : String(err) }, 'could not read the secret again from Key Vault'),
  );
}
