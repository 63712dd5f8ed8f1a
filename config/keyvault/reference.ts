/**
 * Azure Key Vault references in the syntax App Service and Azure Functions resolve themselves:
 *   @Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/<name>/<version?>)
 *   @Microsoft.KeyVault(VaultName=<vault>;SecretName=<name>;SecretVersion=<version?>)
 * The same setting therefore works in a Function App (the platform resolves it) and in a container
 * (config/keyvault/resolve.ts does).
 */
export interface KeyVaultReference {
  /** https://<vault>.vault.azure.net (or the sandbox emulator's origin). */
  vaultUrl: string;
  /** The vault's name as a person would say it: the first label of the host. */
  vaultName: string;
  secretName: string;
  /** Absent: the latest version, re-read on rotation. */
  version?: string;
}

const REFERENCE = /^\s*@Microsoft\.KeyVault\((.*)\)\s*$/is;
const NAME = /^[0-9A-Za-z-]{1,127}$/;
const VAULT_NAME = /^[A-Za-z][0-9A-Za-z-]{1,22}[0-9A-Za-z]$/;

export class KeyVaultReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyVaultReferenceError';
  }
}

/** Whether a setting's value is meant as a Key Vault reference (even a malformed one). */
export function isKeyVaultReference(value: string | undefined): value is string {
  return value !== undefined && /^\s*@Microsoft\.KeyVault\(/i.test(value);
}

/** Parses a reference; `dnsSuffix` names the vault host of the VaultName form. */
export function parseKeyVaultReference(value: string, dnsSuffix = 'vault.azure.net'): KeyVaultReference {
  const m = REFERENCE.exec(value);
  if (!m) throw new KeyVaultReferenceError('expected @Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/<name>) or @Microsoft.KeyVault(VaultName=<vault>;SecretName=<name>)');
  const fields = new Map<string, string>();
  for (const part of m[1].split(';').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new KeyVaultReferenceError(`"${part}" is not Name=value inside @Microsoft.KeyVault(...)`);
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const uri = fields.get('secreturi');
  if (uri !== undefined) return fromSecretUri(uri);
  const vault = fields.get('vaultname');
  const name = fields.get('secretname');
  if (!vault || !name) throw new KeyVaultReferenceError('expected SecretUri=..., or both VaultName=... and SecretName=...');
  if (!VAULT_NAME.test(vault)) throw new KeyVaultReferenceError(`VaultName "${vault}" is not a vault name (3-24 letters, digits and dashes, starting with a letter)`);
  if (!NAME.test(name)) throw new KeyVaultReferenceError(`SecretName "${name}" is not a secret name (letters, digits and dashes)`);
  const version = fields.get('secretversion') || undefined;
  return { vaultUrl: `https://${vault}.${dnsSuffix}`, vaultName: vault, secretName: name, ...(version ? { version } : {}) };
}

function fromSecretUri(uri: string): KeyVaultReference {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new KeyVaultReferenceError(`SecretUri "${uri}" is not a URL; expected https://<vault>.vault.azure.net/secrets/<name>/<version?>`);
  }
  if (url.protocol !== 'https:') throw new KeyVaultReferenceError(`SecretUri "${uri}" must use https`);
  const parts = url.pathname.split('/').filter(Boolean);
  if (parts[0] !== 'secrets' || parts.length < 2 || parts.length > 3 || !NAME.test(parts[1]))
    throw new KeyVaultReferenceError(`SecretUri "${uri}" has no /secrets/<name>[/<version>] path`);
  const ip = /^[\d.]+$|^\[/.test(url.hostname);
  return { vaultUrl: url.origin, vaultName: ip ? url.host : url.hostname.split('.')[0], secretName: parts[1], ...(parts[2] ? { version: parts[2] } : {}) };
}

/** How a reference reads in messages (no secret in it, only where it lives). */
export function describeReference(ref: KeyVaultReference): string {
  return `secret "${ref.secretName}"${ref.version ? ` version ${ref.version}` : ''} in vault "${ref.vaultName}" (${ref.vaultUrl})`;
}
