import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths';

/** Runs `npm start`'s entry point with a given environment and returns what a user would see. */
function start(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SALESFORCE|DRIFT|AMPLITUDE|DATABRICKS|BIGQUERY|WAREHOUSE|TEMPORAL|WEBHOOK)_?/.test(k)));
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'client/start.ts')], {
    cwd: ROOT,
    env: { ...clean, ...env, DATA_DIR: '/tmp/novade-bad-config' },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('npm start with bad configuration', () => {
  it('prints one clear line per problem and exits non-zero', () => {
    const r = start({ WAREHOUSE: 'databricks', DATABRICKS_HOST: 'https://adb-1.azuredatabricks.net', DATABRICKS_HTTP_PATH: '/sql/1.0/warehouses/x', DATABRICKS_TOKEN: 'dapi-x', AMPLITUDE_ZONE: 'eu' });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('novade-sync: invalid configuration (see .env.example):');
    expect(lines.slice(1).map((l) => l.trim())).toEqual([
      'DATABRICKS_HOST: expected the workspace host name without https:// or a path, for example adb-1234567890123456.7.azuredatabricks.net (got "https://adb-1.azuredatabricks.net")',
    ]);
    const r2 = start({ AMPLITUDE_ZONE: 'eu', WAREHOUSE: 'databricks', DATABRICKS_HOST: 'adb-1.azuredatabricks.net', DATABRICKS_HTTP_PATH: '/sql/1.0/warehouses/x', DATABRICKS_TOKEN: 'dapi-x' });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain('  AMPLITUDE_API_KEY: missing (the API key of the Amplitude project, under Settings > Projects)\n');
    expect(r2.stderr).not.toContain('    at '); // no stack trace
  });
});
