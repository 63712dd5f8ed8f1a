import fs from 'node:fs';
import tls from 'node:tls';
import type { TokenCredential } from '@azure/identity';
import { describeReference, type KeyVaultReference } from './reference';

/** Reads one secret. The Key Vault implementation is below; tests and callers may bring their own. */
export interface SecretResolver {
  read(ref: KeyVaultReference): Promise<string>;
}

export type KeyVaultFailure = 'no-identity' | 'forbidden' | 'firewall' | 'disabled' | 'not-found' | 'unauthorized' | 'unreachable' | 'timeout' | 'other';

/** A reference that could not be read: which secret, why, and what usually fixes it (no secret value in it). */
export class KeyVaultReadError extends Error {
  constructor(
    readonly ref: KeyVaultReference,
    readonly failure: KeyVaultFailure,
    readonly detail: string,
    readonly fix: string,
  ) {
    super(`cannot read ${describeReference(ref)}: ${detail}. ${fix}`);
    this.name = 'KeyVaultReadError';
  }
}

export interface KeyVaultResolverOptions {
  /** Default: DefaultAzureCredential (managed identity in Azure, a service principal from AZURE_* or the Azure CLI elsewhere). */
  credential?: TokenCredential;
  /** PEM of an extra CA to trust (the sandbox emulator's certificate). */
  caCert?: string | Buffer;
  timeoutMs?: number;
}

/** Hosts of Azure's own vaults; anything else (the sandbox emulator) answers a challenge Azure's SDK would otherwise refuse. */
const AZURE_VAULT_HOST = /\.vault\.(azure\.net|azure\.cn|usgovcloudapi\.net|microsoftazure\.de)$/i;

export class KeyVaultResolver implements SecretResolver {
  private readonly clients = new Map<string, Promise<import('@azure/keyvault-secrets').SecretClient>>();
  private credential?: Promise<TokenCredential>;

  constructor(private readonly opts: KeyVaultResolverOptions = {}) {}

  async read(ref: KeyVaultReference): Promise<string> {
    const client = await this.client(ref.vaultUrl);
    let secret: import('@azure/keyvault-secrets').KeyVaultSecret;
    try {
      secret = await client.getSecret(ref.secretName, { version: ref.version, abortSignal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000) });
    } catch (err) {
      throw classify(ref, err);
    }
    if (secret.value === undefined) throw new KeyVaultReadError(ref, 'other', 'the vault answered without a value', 'check that the secret holds a value');
    return secret.value;
  }

  private client(vaultUrl: string) {
    let client = this.clients.get(vaultUrl);
    if (!client) {
      // Loaded on first use: a process without references never loads the Azure SDK.
      client = (async () => {
        const { SecretClient } = await import('@azure/keyvault-secrets');
        const credential = await (this.credential ??= this.opts.credential ? Promise.resolve(this.opts.credential) : import('@azure/identity').then((m) => new m.DefaultAzureCredential()));
        return new SecretClient(vaultUrl, credential, {
          disableChallengeResourceVerification: !AZURE_VAULT_HOST.test(new URL(vaultUrl).hostname),
          ...(this.opts.caCert ? { tlsOptions: { ca: [...tls.rootCertificates, this.opts.caCert.toString()] } } : {}),
          retryOptions: { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 },
        });
      })();
      this.clients.set(vaultUrl, client);
    }
    return client;
  }
}

const ROLE_FIX =
  'Give the identity the role "Key Vault Secrets User" on the vault (az role assignment create --role "Key Vault Secrets User" --assignee <principal id> --scope <vault resource id>), or Get on secrets in an access policy if the vault uses access policies';

function classify(ref: KeyVaultReference, err: unknown): KeyVaultReadError {
  const e = (err ?? {}) as { name?: string; message?: string; statusCode?: number; code?: string; details?: unknown; cause?: unknown };
  const message = firstLine(e.message ?? String(err));
  const inner = innerCode(e.details);
  const host = new URL(ref.vaultUrl).host;
  if (e.name === 'CredentialUnavailableError' || e.name === 'AggregateAuthenticationError' || e.name === 'AuthenticationError' || e.name === 'AuthenticationRequiredError')
    return new KeyVaultReadError(
      ref,
      'no-identity',
      `no Azure identity could get a token (${message})`,
      'In Azure, enable the managed identity of the app (and set AZURE_CLIENT_ID for a user-assigned one); elsewhere set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal, or sign in with `az login`',
    );
  if (e.name === 'AbortError' || e.name === 'TimeoutError')
    return new KeyVaultReadError(ref, 'timeout', `the vault did not answer in time`, `Check the network path to ${host} (proxy, firewall, private endpoint)`);
  if (e.statusCode === 404)
    return new KeyVaultReadError(ref, 'not-found', `the vault has no such secret${ref.version ? ' version' : ''} (404 ${e.code ?? 'SecretNotFound'})`, `Check the secret name${ref.version ? ' and version' : ''} in the reference (az keyvault secret list --vault-name ${ref.vaultName}), or create it`);
  if (e.statusCode === 403 && (inner === 'ForbiddenByFirewall' || /firewall|not authorized.*client address|client address/i.test(message)))
    return new KeyVaultReadError(ref, 'firewall', `the vault's firewall refused this network (403 ${inner ?? e.code ?? 'Forbidden'})`, `Allow this network on the vault (Networking > Firewalls and virtual networks) or reach it through its private endpoint`);
  if (e.statusCode === 403 && /disabled/i.test(message))
    return new KeyVaultReadError(ref, 'disabled', 'the secret is disabled (403)', 'Enable the secret (or the referenced version), or reference an enabled version');
  if (e.statusCode === 403)
    return new KeyVaultReadError(ref, 'forbidden', `the identity may not read this secret (403 ${inner ?? e.code ?? 'Forbidden'})`, ROLE_FIX);
  if (e.statusCode === 401)
    return new KeyVaultReadError(ref, 'unauthorized', `the vault refused the identity's token (401 ${e.code ?? 'Unauthorized'})`, "Check that the identity belongs to the vault's tenant (AZURE_TENANT_ID) and that the token is for https://vault.azure.net");
  const network = networkCode(err);
  if (network)
    return new KeyVaultReadError(
      ref,
      'unreachable',
      `the vault is unreachable (${network})`,
      network === 'ENOTFOUND' || network === 'EAI_AGAIN'
        ? `Check the vault name (${host} does not resolve; a vault behind a private endpoint needs its private DNS zone)`
        : `Check the network path to ${host} (proxy, firewall, private endpoint) and the vault URL`,
    );
  return new KeyVaultReadError(ref, 'other', `${e.statusCode ? `${e.statusCode} ` : ''}${message}`, 'See the vault\'s diagnostic logs');
}

function innerCode(details: unknown): string | undefined {
  // The SDK deserialises Key Vault's `innererror` as `innerError`.
  const error = (details as { error?: { code?: unknown; innererror?: { code?: unknown }; innerError?: { code?: unknown } } } | undefined)?.error;
  const code = error?.innerError?.code ?? error?.innererror?.code;
  return typeof code === 'string' ? code : undefined;
}

function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  }
  return undefined;
}

const firstLine = (s: string) => s.split('\n')[0].slice(0, 300);

/** The resolver of this process, built from settings (one credential and one client per vault, reused for rotation). */
let shared: { key: string; resolver: KeyVaultResolver } | undefined;
export function keyVaultResolverFor(env: { KEY_VAULT_CA_CERT_PATH?: string }): KeyVaultResolver {
  const key = env.KEY_VAULT_CA_CERT_PATH ?? '';
  if (shared?.key !== key) shared = { key, resolver: new KeyVaultResolver(env.KEY_VAULT_CA_CERT_PATH ? { caCert: fs.readFileSync(env.KEY_VAULT_CA_CERT_PATH) } : {}) };
  return shared.resolver;
}
