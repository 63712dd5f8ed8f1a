import { loadConfigOrExit } from '../config/config';
import { createLogger } from '../config/logger';
import { startSandbox } from './start';

/** `npm run sandbox`: every emulator, in the foreground, with the env values that target them. */
async function main(): Promise<void> {
  const config = await loadConfigOrExit();
  const log = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT });
  const sandbox = await startSandbox(config, log, ['salesforce', 'drift', 'amplitude', 'bigquery', 'segment']);
  const w = Math.max(...Object.keys(sandbox.urls).map((k) => k.length));
  process.stdout.write(
    [
      '',
      'Sandbox emulators running:',
      ...Object.entries(sandbox.urls).map(([k, v]) => `  ${k.padEnd(w)}  ${v}`),
      '',
      'The platform uses them by itself when these services have no credentials (SANDBOX=auto).',
      'To target them explicitly, as if they were the real services, put this in .env:',
      ...Object.entries(sandbox.env).map(([k, v]) => `  ${k}=${v}`),
      '',
      'Ctrl-C stops them.',
      '',
    ].join('\n'),
  );
  const shutdown = () => void sandbox.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`novade sandbox: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
