import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envSchema } from '../../config/env';
import { ROOT } from '../helpers/paths';

const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');

describe('deployment files', () => {
  const compose = parse(read('docker-compose.yml')) as { services: Record<string, Record<string, unknown>>; volumes: Record<string, unknown> };

  it('docker-compose.yml parses and runs Temporal on PostgreSQL set up by admin-tools (no auto-setup)', () => {
    const services = compose.services;
    expect(Object.keys(services)).toEqual(['postgresql', 'temporal-admin-tools', 'temporal', 'temporal-create-namespace', 'temporal-ui', 'worker', 'webhook', 'prometheus', 'grafana']);
    expect(services.postgresql.image).toBe('postgres:16');
    expect(services.temporal.image).toMatch(/^temporalio\/server:/);
    expect(services['temporal-admin-tools'].image).toMatch(/^temporalio\/admin-tools:/);
    expect(JSON.stringify(compose)).not.toContain('auto-setup');
    expect(services.temporal.depends_on).toEqual({ 'temporal-admin-tools': { condition: 'service_completed_successfully' } });
    for (const s of ['worker', 'webhook']) expect(services[s].build).toBe('.');
  });

  it('every file the compose mounts exists', () => {
    expect(fs.existsSync(path.join(ROOT, 'deploy/temporal/scripts/setup-postgres.sh'))).toBe(true);
    expect(fs.existsSync(path.join(ROOT, 'deploy/temporal/scripts/create-namespace.sh'))).toBe(true);
    expect(fs.existsSync(path.join(ROOT, 'deploy/temporal/dynamicconfig/production-sql.yaml'))).toBe(true);
    expect(fs.existsSync(path.join(ROOT, 'deploy/temporal/config/production.yaml'))).toBe(true);
    expect(fs.existsSync(path.join(ROOT, 'Dockerfile'))).toBe(true);
  });

  it('the Temporal server runs from deploy/temporal/ (the files npm run test:topology starts it from)', () => {
    const temporal = compose.services.temporal as { entrypoint: string[]; volumes: string[]; environment: Record<string, string> };
    expect(temporal.volumes).toContain('./deploy/temporal:/etc/novade/temporal:ro');
    expect(temporal.entrypoint).toEqual(['/bin/sh', '/etc/novade/temporal/scripts/start-server.sh']);
    expect(read('deploy/temporal/config/production.yaml').slice(0, 1024)).toContain('enable-template');
  });

  it('Prometheus scrapes the worker, the webhook and the Temporal server, and loads the alert rules; Grafana is provisioned with its datasource and the dashboard', () => {
    const prom = parse(read('deploy/prometheus/prometheus.yml')) as { rule_files: string[]; scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const targets = prom.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    const worker = compose.services.worker as { environment: Record<string, string>; ports: string[] };
    const webhook = compose.services.webhook as { environment: Record<string, string> };
    const temporal = compose.services.temporal as { environment: Record<string, string> };
    const portOf = (bind: string) => bind.split(':').pop();
    expect(targets.sort()).toEqual(
      [
        `worker:${portOf(worker.environment.APP_METRICS_BIND)}`,
        `worker:${portOf(worker.environment.WORKER_METRICS_BIND)}`,
        `webhook:${webhook.environment.WEBHOOK_PORT}`,
        `temporal:${portOf(temporal.environment.PROMETHEUS_ENDPOINT)}`,
      ].sort(),
    );
    for (const f of prom.rule_files) expect(fs.existsSync(path.join(ROOT, 'deploy/prometheus', f)), f).toBe(true);
    for (const m of [compose.services.prometheus, compose.services.grafana].flatMap((s) => s.volumes as string[]).filter((v) => v.startsWith('./')))
      expect(fs.existsSync(path.join(ROOT, m.split(':')[0])), m).toBe(true);
    const datasource = parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { uid: string; url: string }[] };
    expect(datasource.datasources[0].url).toBe('http://prometheus:9090');
    const dashboard = JSON.parse(read('deploy/grafana/dashboards/novade-sync.json')) as { panels: { datasource: { uid: string }; targets: { expr: string }[] }[] };
    expect(dashboard.panels.length).toBeGreaterThan(5);
    for (const p of dashboard.panels) expect(p.datasource.uid).toBe(datasource.datasources[0].uid);
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const metric of ['novade_records_total', 'novade_stream_run_duration_seconds_bucket', 'novade_cursor_lag_seconds', 'novade_dead_letters_recent', 'novade_check_passed', 'temporal_activity_execution_latency_bucket'])
      expect(exprs).toContain(metric);
  });

  it('the README names every compose service and the two quick-start commands', () => {
    const readme = read('README.md');
    for (const name of Object.keys(compose.services)) expect(readme, `README should mention ${name}`).toContain(`\`${name}\``);
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
  });

  it('.env.example documents every configuration variable', () => {
    const example = read('.env.example');
    const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    expect([...Object.keys(envSchema.shape)].filter((k) => !documented.has(k))).toEqual([]);
    expect([...documented].filter((k) => !(k in envSchema.shape))).toEqual([]);
  });

  it('.ci/run runs the README test command', () => {
    expect(read('.ci/run')).toContain('npm test');
  });
});
