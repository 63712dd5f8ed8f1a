import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A self-signed certificate for the emulator's HTTPS, made at start with the `openssl` CLI: node:crypto
 * makes keys but not X.509 certificates, and no certificate library is among the dependencies. Valid
 * for localhost and 127.0.0.1, for two days; clients trust it through its PEM (KEY_VAULT_CA_CERT_PATH).
 */
export interface SelfSignedCertificate {
  cert: string;
  key: string;
}

export function makeSelfSignedCertificate(hosts: string[] = ['localhost', '127.0.0.1']): SelfSignedCertificate {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-kv-cert-'));
  try {
    const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    try {
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=novade-sandbox-keyvault', '-addext', `subjectAltName=${san}`, '-addext', 'basicConstraints=critical,CA:TRUE'],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
      if (e.code === 'ENOENT') throw new Error('the Key Vault emulator needs the openssl CLI to make its HTTPS certificate: install openssl (apt-get install openssl)');
      throw new Error(`openssl could not make the Key Vault emulator's certificate: ${e.stderr?.toString().trim() || e.message}`);
    }
    return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
