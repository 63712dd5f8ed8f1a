import fs from 'node:fs';
import path from 'node:path';
import { startKeyVaultEmulator } from './server';

/**
 * `npx tsx sandbox/keyvault/main.ts [name=value ...]`: the Key Vault emulator in the foreground, with
 * those secrets, printing the settings that point the platform (and DefaultAzureCredential's managed
 * identity) at it. Its certificate is written to DATA_DIR (default .data) for KEY_VAULT_CA_CERT_PATH.
 */
async function main(): Promise<void> {
  const secrets: Record<string, string> = {};
  for (const arg of process.argv.slice(2)) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new Error(`expected name=value, got "${arg}"`);
    secrets[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  const kv = await startKeyVaultEmulator({ port: Number(process.env.KEY_VAULT_EMULATOR_PORT ?? 0), identityPort: Number(process.env.KEY_VAULT_EMULATOR_IDENTITY_PORT ?? 0), secrets });
  const dataDir = path.resolve(process.env.DATA_DIR ?? '.data');
  fs.mkdirSync(dataDir, { recursive: true });
  const caFile = path.join(dataDir, 'sandbox-keyvault-ca.pem');
  fs.writeFileSync(caFile, kv.caCert);
  const example = Object.keys(secrets)[0] ?? 'webhook-secret';
  process.stdout.write(
    [
      '',
      `Key Vault emulator on ${kv.url} (secrets: ${Object.keys(secrets).join(', ') || 'none yet; PUT /secrets/<name> or restart with name=value'})`,
      'Settings that make the platform resolve references against it:',
      `  KEY_VAULT_CA_CERT_PATH=${caFile}`,
      ...Object.entries(kv.identityEnv).map(([k, v]) => `  ${k}=${v}`),
      `  e.g. WEBHOOK_SECRET=${kv.reference(example)}`,
      '',
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  const stop = () => void kv.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`novade keyvault emulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
