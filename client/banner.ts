import type { AppConfig } from '../config/config';

/** The loud notice that some services are emulated, so nobody mistakes sandbox data for real data. */
export function sandboxBanner(config: AppConfig): string | undefined {
  if (config.sandboxed.length === 0) return undefined;
  const lines = [
    'SANDBOX MODE: no credentials configured for ' + config.sandboxed.join(', ') + '.',
    'These services are local emulators with generated data (sandbox/). Nothing reaches the real',
    'Salesforce, Drift, Amplitude or BigQuery for them. Set their variables (.env.example) to go live.',
  ];
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '#'.repeat(width + 4);
  return [bar, ...lines.map((l) => `# ${l.padEnd(width)} #`), bar].join('\n');
}

export function readyMessage(config: AppConfig, extra: Record<string, string>): string {
  const rows = {
    'Temporal Web UI': config.temporal.uiUrl,
    Temporal: config.temporal.address,
    'Worker metrics': `http://${config.temporal.metricsBind.replace('0.0.0.0', 'localhost')}/metrics`,
    ...extra,
  };
  const w = Math.max(...Object.keys(rows).map((k) => k.length));
  return ['novade-sync is up:', ...Object.entries(rows).map(([k, v]) => `  ${k.padEnd(w)}  ${v}`), 'Ctrl-C stops everything.'].join('\n');
}
