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
    expect(Object.keys(services)).toEqual(['postgresql', 'temporal-admin-tools', 'temporal', 'temporal-create-namespace', 'temporal-ui', 'worker', 'webhook']);
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
    expect(fs.existsSync(path.join(ROOT, 'deploy/temporal/dynamicconfig/development-sql.yaml'))).toBe(true);
    expect(fs.existsSync(path.join(ROOT, 'Dockerfile'))).toBe(true);
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
