import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { makeSelfSignedCertificate } from './certificate';
import { SecretStore, type SecretVersion } from './store';
import { issueToken, verifyToken, KEY_VAULT_RESOURCE } from './tokens';

/**
 * Azure Key Vault emulator, secrets only, for the sandbox and the tests (no emulator can be installed
 * here: lowkey-vault ships as a Docker image or a jar this machine cannot fetch). It follows Key Vault's
 * documented REST API closely enough for @azure/keyvault-secrets and @azure/identity to run unchanged:
 *
 * - HTTPS (a certificate made at start: certificate.ts), `api-version` 7.4 or later required;
 * - GET /secrets/{name}[/{version}], GET /secrets/{name}/versions, GET /secrets, PUT /secrets/{name};
 * - a request without a token gets 401 and the challenge the SDK expects,
 *   `WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/<tenant>", resource="https://vault.azure.net"`;
 * - a managed-identity token endpoint on plain HTTP, in both shapes ManagedIdentityCredential speaks:
 *   App Service / Functions / Container Apps (IDENTITY_ENDPOINT + IDENTITY_HEADER) and IMDS
 *   (AZURE_POD_IDENTITY_AUTHORITY_HOST + /metadata/identity/oauth2/token);
 * - role checks per principal (deny()), disabled secrets and Key Vault's error bodies (SecretNotFound,
 *   ForbiddenByRbac, ...), so each failure an operator meets has its test.
 *
 * The SDK verifies that the challenge's resource matches the vault's host (*.vault.azure.net); against
 * 127.0.0.1 it must be told not to (`disableChallengeResourceVerification`, set by config/keyvault for
 * any host outside Azure's vault domains).
 */

export interface KeyVaultEmulatorOptions {
  /** HTTPS port of the vault (0: any free port). */
  port?: number;
  /** HTTP port of the managed-identity endpoint (0: any free port). */
  identityPort?: number;
  host?: string;
  tenantId?: string;
  /** Secrets present at start (name -> value). */
  secrets?: Record<string, string>;
}

export interface KeyVaultEmulator {
  /** The vault URL, e.g. https://127.0.0.1:8443 */
  url: string;
  /** The vault's certificate (PEM), to trust it (KEY_VAULT_CA_CERT_PATH). */
  caCert: string;
  /** App Service style managed identity: IDENTITY_ENDPOINT and IDENTITY_HEADER. */
  identityEndpoint: string;
  identityHeader: string;
  /** IMDS style: AZURE_POD_IDENTITY_AUTHORITY_HOST. */
  imdsHost: string;
  /** The environment that points DefaultAzureCredential's managed identity at this emulator. */
  identityEnv: Record<string, string>;
  store: SecretStore;
  /** Takes the Key Vault Secrets User role away from a principal (`system-assigned` or a client id), or gives it back. */
  deny(principal?: string): void;
  allow(principal?: string): void;
  /** Requests seen, for assertions: method, path, whether they carried a token, status. */
  requests: { method: string; path: string; authorized: boolean; status: number }[];
  /** A reference to a secret of this vault, as an operator writes it. */
  reference(name: string, version?: string): string;
  close(): Promise<void>;
}

const SYSTEM_ASSIGNED = 'system-assigned';
const MIN_API = [7, 4] as const;

/** api-version 7.4+ (7.x) or a dated version from 2025 on. */
function apiVersionProblem(v: string | null): string | undefined {
  if (!v) return "The 'api-version' query parameter is missing.";
  const m = /^(\d+)\.(\d+)(-preview(\.\d+)?)?$/.exec(v);
  if (m && (Number(m[1]) > MIN_API[0] || (Number(m[1]) === MIN_API[0] && Number(m[2]) >= MIN_API[1]))) return undefined;
  if (/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(v) && v >= '2025-01-01') return undefined;
  return `The specified version (${v}) is not recognized. Consider using the latest supported version (7.4 or later).`;
}

const setBody = z.object({
  value: z.string(),
  contentType: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  attributes: z.object({ enabled: z.boolean().optional() }).loose().optional(),
});

export async function startKeyVaultEmulator(opts: KeyVaultEmulatorOptions = {}): Promise<KeyVaultEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const tenantId = opts.tenantId ?? '00000000-0000-4000-8000-000000000000';
  const identityHeader = randomBytes(16).toString('hex');
  const store = new SecretStore();
  for (const [name, value] of Object.entries(opts.secrets ?? {})) store.set(name, value);
  const denied = new Set<string>();
  const requests: KeyVaultEmulator['requests'] = [];
  const { cert, key } = makeSelfSignedCertificate(['localhost', host]);
  let vaultUrl = '';

  const bundle = (name: string, v: SecretVersion) => ({
    value: v.value,
    id: `${vaultUrl}/secrets/${name}/${v.version}`,
    ...(v.contentType ? { contentType: v.contentType } : {}),
    ...(v.tags ? { tags: v.tags } : {}),
    attributes: { enabled: v.enabled, created: v.created, updated: v.updated, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 },
  });
  const item = (name: string, v: SecretVersion, withVersion: boolean) => {
    const { value: _value, ...rest } = bundle(name, v);
    return { ...rest, id: withVersion ? rest.id : `${vaultUrl}/secrets/${name}` };
  };

  const vault = https.createServer({ cert, key }, (req, res) => {
    const url = new URL(req.url ?? '/', vaultUrl);
    const parts = url.pathname.split('/').filter(Boolean);
    let authorized = false;
    const send = (status: number, body?: unknown, headers: http.OutgoingHttpHeaders = {}) => {
      requests.push({ method: req.method ?? '', path: url.pathname.replace(/(.)\/+$/, '$1'), authorized, status });
      res.writeHead(status, { ...(body !== undefined ? { 'Content-Type': 'application/json; charset=utf-8' } : {}), 'x-ms-keyvault-service-version': '1.9.0.0', ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string, inner?: string, headers?: http.OutgoingHttpHeaders) =>
      send(status, { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } }, headers);
    const challenge = { 'WWW-Authenticate': `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="${KEY_VAULT_RESOURCE}"` };

    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
      if (!auth) return error(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', undefined, challenge);
      const claims = verifyToken(auth[1]);
      if ('invalid' in claims) return error(401, 'Unauthorized', claims.invalid, undefined, challenge);
      authorized = true;
      const apiProblem = apiVersionProblem(url.searchParams.get('api-version'));
      if (apiProblem) return error(400, 'BadParameter', apiProblem);
      if (parts[0] !== 'secrets') return error(404, 'NotFound', `No route for ${req.method} ${url.pathname} in this emulator (secrets only).`);
      const action = req.method === 'PUT' ? 'setSecret' : parts.length <= 1 || parts[2] === 'versions' ? 'readMetadata' : 'getSecret';
      if (denied.has(claims.oid))
        return error(
          403,
          'Forbidden',
          `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=${claims.oid};oid=${claims.oid}\r\nAction: 'Microsoft.KeyVault/vaults/secrets/${action}/action'\r\nResource: '${vaultUrl}'`,
          'ForbiddenByRbac',
        );
      const [, name, third] = parts;

      if (req.method === 'GET' && !name) {
        const value = store.names().map((n) => item(n, store.get(n)!, false));
        return send(200, { value, nextLink: null });
      }
      if (req.method === 'GET' && third === 'versions' && parts.length === 3) {
        const value = store.versions(name).map((v) => item(name, v, true));
        return send(200, { value, nextLink: null });
      }
      if (req.method === 'GET' && parts.length <= 3) {
        const v = store.get(name, third);
        if (!v) return error(404, 'SecretNotFound', `A secret with (name/id) ${name}${third ? `/${third}` : ''} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.`);
        if (!v.enabled) return error(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
        return send(200, bundle(name, v));
      }
      if (req.method === 'PUT' && parts.length === 2) {
        let parsed: z.infer<typeof setBody>;
        try {
          const r = setBody.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
          if (!r.success) return error(400, 'BadParameter', `Invalid secret body: ${r.error.issues[0]?.message}`);
          parsed = r.data;
        } catch {
          return error(400, 'BadParameter', 'The request body is not JSON.');
        }
        const v = store.set(name, parsed.value, { contentType: parsed.contentType, tags: parsed.tags, enabled: parsed.attributes?.enabled });
        return send(200, bundle(name, v));
      }
      return error(405, 'MethodNotAllowed', `${req.method} ${url.pathname} is not supported by this emulator.`);
    });
  });

  // Managed identity: App Service shape (/msi/token, X-IDENTITY-HEADER) and IMDS shape (/metadata/identity/oauth2/token, Metadata: true).
  const identity = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    // MSAL asks IMDS for `.../oauth2/token/` (trailing slash).
    const pathname = url.pathname.replace(/\/+$/, '');
    const appService = pathname === '/msi/token';
    const imds = pathname === '/metadata/identity/oauth2/token';
    if (!appService && !imds) return send(404, { error: 'not_found', error_description: `no ${url.pathname} here` });
    if (appService && req.headers['x-identity-header'] !== identityHeader) return send(401, { error: 'unauthorized', error_description: 'X-IDENTITY-HEADER is missing or wrong' });
    if (imds && req.headers.metadata !== 'true') return send(400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
    const resource = url.searchParams.get('resource');
    if (!resource) return send(400, { error: 'invalid_request', error_description: 'resource is required' });
    const principal = url.searchParams.get('client_id') ?? url.searchParams.get('principal_id') ?? url.searchParams.get('mi_res_id') ?? SYSTEM_ASSIGNED;
    const expiresOn = Math.floor(Date.now() / 1000) + 3600;
    const token = issueToken({ oid: principal, aud: resource, exp: expiresOn });
    return send(200, {
      access_token: token,
      client_id: principal,
      expires_in: '3600',
      expires_on: String(expiresOn),
      not_before: String(expiresOn - 3600),
      resource,
      token_type: 'Bearer',
    });
  });

  const listen = (server: http.Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as { port: number }).port));
    });
  const vaultPort = await listen(vault, opts.port ?? 0);
  const identityPort = await listen(identity, opts.identityPort ?? 0).catch(async (err: unknown) => {
    await new Promise((r) => vault.close(r));
    throw err;
  });
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  vaultUrl = `https://${hostInUrl}:${vaultPort}`;
  const identityBase = `http://${hostInUrl}:${identityPort}`;
  const identityEndpoint = `${identityBase}/msi/token`;
  return {
    url: vaultUrl,
    caCert: cert,
    identityEndpoint,
    identityHeader,
    imdsHost: identityBase,
    identityEnv: { IDENTITY_ENDPOINT: identityEndpoint, IDENTITY_HEADER: identityHeader },
    store,
    deny: (principal = SYSTEM_ASSIGNED) => void denied.add(principal),
    allow: (principal = SYSTEM_ASSIGNED) => void denied.delete(principal),
    requests,
    reference: (name, version) => `@Microsoft.KeyVault(SecretUri=${vaultUrl}/secrets/${name}${version ? `/${version}` : '/'})`,
    close: async () => {
      for (const s of [vault, identity]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    },
  };
}
