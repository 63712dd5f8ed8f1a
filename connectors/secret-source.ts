/**
 * A credential a connector uses, which may change while the process runs: a secret rotated in Azure
 * Key Vault is picked up when the service refuses the old one (the connector asks for a re-read once,
 * retries once with the new value, then fails). Plain settings never change.
 */
export interface SecretSource {
  /** The value to use now. */
  current(): string;
  /** Reads the secret again at its source; true when it changed. Concurrent calls share one read. */
  reread(): Promise<boolean>;
}

export function fixedSecret(value: string): SecretSource {
  return { current: () => value, reread: async () => false };
}

/** A source that re-reads through `read` (Key Vault, or anything else); a failed re-read keeps the old value and says no change. */
export function rereadableSecret(initial: string, read: () => Promise<string>, onError?: (err: unknown) => void): SecretSource {
  let value = initial;
  let reading: Promise<boolean> | undefined;
  return {
    current: () => value,
    reread: () =>
      (reading ??= read()
        .then(
          (next) => {
            const changed = next !== value;
            value = next;
            return changed;
          },
          (err: unknown) => {
            onError?.(err);
            return false;
          },
        )
        .finally(() => {
          reading = undefined;
        })),
  };
}

export const asSecretSource = (s: string | SecretSource): SecretSource => (typeof s === 'string' ? fixedSecret(s) : s);
