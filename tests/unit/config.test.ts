import { describe, expect, it } from 'vitest';
import { buildConfig, ConfigError } from '../../config/config';
import { parseEnv } from '../../config/env';

const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
  try {
    buildConfig(env, '/tmp/novade');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('configuration', () => {
  it('runs every service against the sandbox when no credentials are set', () => {
    const cfg = buildConfig({}, '/tmp/novade');
    expect(cfg.sandboxed).toEqual(['salesforce', 'drift', 'amplitude', 'bigquery']);
    expect(cfg.salesforce.loginUrl).toBe('http://127.0.0.1:4010');
    expect(cfg.amplitude.serverUrl).toBe('http://127.0.0.1:4030');
    expect(cfg.warehouse).toEqual({ kind: 'duckdb', path: '/tmp/novade/.data/warehouse.duckdb', memoryLimit: '256MB', checkpointThreshold: '128MB' });
    expect(cfg.temporal).toMatchObject({ address: 'localhost:7233', namespace: 'default', taskQueue: 'novade-sync', devServer: true, workerMaxHeapMb: 256 });
  });

  it('uses the real service, never the sandbox, once its credentials are set', () => {
    const cfg = buildConfig({ AMPLITUDE_API_KEY: 'k'.repeat(32), AMPLITUDE_ZONE: 'eu' }, '/tmp/novade');
    expect(cfg.sandboxed).not.toContain('amplitude');
    expect(cfg.amplitude.serverUrl).toBe('https://api.eu.amplitude.com');
  });

  it('names a missing AMPLITUDE_API_KEY when other Amplitude settings are present', () => {
    expect(problemsOf({ AMPLITUDE_ZONE: 'eu' })).toEqual([
      'AMPLITUDE_API_KEY: missing (the API key of the Amplitude project, under Settings > Projects)',
    ]);
  });

  it('caps DuckDB memory at 256MB unless DUCKDB_MEMORY_LIMIT says otherwise, and refuses what DuckDB would not take', () => {
    expect(buildConfig({ DUCKDB_MEMORY_LIMIT: ' 2 GiB ' }, '/tmp/novade').warehouse).toMatchObject({ kind: 'duckdb', memoryLimit: '2GiB' });
    expect(buildConfig({ DUCKDB_MEMORY_LIMIT: '' }, '/tmp/novade').warehouse).toMatchObject({ memoryLimit: '256MB' });
    expect(problemsOf({ DUCKDB_MEMORY_LIMIT: '80%' })).toEqual(['DUCKDB_MEMORY_LIMIT: expected a memory size such as 512MB or 2GB (KB, MB, GB, TB, KiB, MiB, GiB, TiB) (got "80%")']);
    expect(problemsOf({ DUCKDB_MEMORY_LIMIT: '1024' })).toHaveLength(1);
    expect(problemsOf({ DUCKDB_MEMORY_LIMIT: '16MB' })).toEqual(['DUCKDB_MEMORY_LIMIT: expected at least 64MiB, i.e. 68MB (MB are 1,000,000 bytes, MiB 1,048,576) (got "16MB")']);
    // 64MB is 64,000,000 bytes, under the 64MiB floor; the message says which sizes pass.
    expect(problemsOf({ DUCKDB_MEMORY_LIMIT: '64MB' })).toHaveLength(1);
    expect(problemsOf({ DUCKDB_MEMORY_LIMIT: '68MB' })).toEqual([]);
    expect(problemsOf({ DUCKDB_MEMORY_LIMIT: '64MiB' })).toEqual([]);
    expect(buildConfig({}, '/tmp/novade').warehouse).toMatchObject({ checkpointThreshold: '128MB' });
    expect(buildConfig({ DUCKDB_CHECKPOINT_THRESHOLD: '32MB' }, '/tmp/novade').warehouse).toMatchObject({ checkpointThreshold: '32MB' });
    expect(problemsOf({ DUCKDB_CHECKPOINT_THRESHOLD: '512KB' })).toEqual(['DUCKDB_CHECKPOINT_THRESHOLD: expected at least 1MiB, i.e. 2MB (MB are 1,000,000 bytes, MiB 1,048,576) (got "512KB")']);
  });

  it('leaves DuckDB its own thread count unless DUCKDB_THREADS sets one, and refuses what is not a positive whole number', () => {
    expect(buildConfig({}, '/tmp/novade').warehouse).not.toHaveProperty('threads', expect.anything());
    expect(buildConfig({ DUCKDB_THREADS: ' ' }, '/tmp/novade').warehouse).not.toHaveProperty('threads', expect.anything());
    expect(buildConfig({ DUCKDB_THREADS: '1' }, '/tmp/novade').warehouse).toMatchObject({ kind: 'duckdb', threads: 1 });
    expect(problemsOf({ DUCKDB_THREADS: '0' })).toEqual(['DUCKDB_THREADS: expected at least 1 (got "0")']);
    expect(problemsOf({ DUCKDB_THREADS: '1.5' })).toEqual(['DUCKDB_THREADS: expected a whole number (got "1.5")']);
    expect(problemsOf({ DUCKDB_THREADS: 'all' })).toEqual(['DUCKDB_THREADS: expected a whole number (got "all")']);
  });

  it('caps the worker heap at 256 MiB unless WORKER_MAX_HEAP_MB says otherwise (0: no cap), and refuses a cap too small to run', () => {
    expect(buildConfig({ WORKER_MAX_HEAP_MB: '1024' }, '/tmp/novade').temporal.workerMaxHeapMb).toBe(1024);
    expect(buildConfig({ WORKER_MAX_HEAP_MB: '0' }, '/tmp/novade').temporal.workerMaxHeapMb).toBe(0);
    expect(problemsOf({ WORKER_MAX_HEAP_MB: '64' })).toEqual(['WORKER_MAX_HEAP_MB: expected 0 (no cap) or at least 128 (got "64")']);
    expect(problemsOf({ WORKER_MAX_HEAP_MB: '1g' })).toHaveLength(1);
  });

  it('rejects a DATABRICKS_HOST with a scheme and says what is expected', () => {
    const problems = problemsOf({ WAREHOUSE: 'databricks', DATABRICKS_HOST: 'https://adb-1.azuredatabricks.net/', DATABRICKS_HTTP_PATH: '/sql/1.0/warehouses/x', DATABRICKS_TOKEN: 't' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^DATABRICKS_HOST: expected the workspace host name without https:\/\/ or a path/);
    expect(problems[0]).toContain('"https://adb-1.azuredatabricks.net/"');
  });

  it('reports every problem at once, one line each', () => {
    const problems = problemsOf({ WAREHOUSE: 'databricks', AMPLITUDE_ZONE: 'eu', DRIFT_BASE_URL: 'https://driftapi.com', TEMPORAL_ADDRESS: 'nope' });
    expect(problems).toEqual([
      'TEMPORAL_ADDRESS: expected host:port, for example localhost:7233 (got "nope")',
    ]);
    const semantic = problemsOf({ WAREHOUSE: 'databricks', AMPLITUDE_ZONE: 'eu', DRIFT_BASE_URL: 'https://driftapi.com' });
    expect(semantic).toEqual([
      'DRIFT_TOKEN: missing (the OAuth access token of the Drift app)',
      'AMPLITUDE_API_KEY: missing (the API key of the Amplitude project, under Settings > Projects)',
      'DATABRICKS_HOST: missing (required when WAREHOUSE=databricks)',
      'DATABRICKS_HTTP_PATH: missing (required when WAREHOUSE=databricks)',
      'DATABRICKS_TOKEN: missing (set a personal access token, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET for OAuth M2M)',
    ]);
  });

  it('never echoes a secret value in a problem', () => {
    const problems = problemsOf({ AMPLITUDE_MIN_ID_LENGTH: 'abc', WEBHOOK_BODY_LIMIT_BYTES: '5' });
    expect(problems.join('\n')).toContain('AMPLITUDE_MIN_ID_LENGTH');
    const secretProblems = problemsOf({ SALESFORCE_CLIENT_SECRET: 'hunter2' });
    expect(secretProblems.join('\n')).not.toContain('hunter2');
    expect(secretProblems).toContain('SALESFORCE_LOGIN_URL: missing (the My Domain URL, for example https://novade.my.salesforce.com)');
  });

  it('checks each Salesforce auth flow for its own credentials', () => {
    expect(problemsOf({ SALESFORCE_LOGIN_URL: 'https://x.my.salesforce.com', SALESFORCE_AUTH: 'jwt', SALESFORCE_CLIENT_ID: 'id' })).toEqual([
      'SALESFORCE_USERNAME: missing (JWT bearer flow: connected app, integration user and its private key)',
      'SALESFORCE_JWT_KEY_PATH: missing (JWT bearer flow: connected app, integration user and its private key)',
    ]);
    expect(problemsOf({ SALESFORCE_LOGIN_URL: 'https://x.my.salesforce.com', SALESFORCE_AUTH: 'password', SALESFORCE_USERNAME: 'u', SALESFORCE_PASSWORD: 'p' })).toEqual([]);
  });

  it('refuses the sandbox when SANDBOX=off and a service has no credentials', () => {
    expect(problemsOf({ SANDBOX: 'off' })).toHaveLength(4);
    expect(parseEnv({ SANDBOX: 'on', AMPLITUDE_API_KEY: 'x' }).sandboxed).toContain('amplitude');
  });

  it('requires WEBHOOK_SECRET in production and both halves of a Temporal mTLS pair', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'WEBHOOK_SECRET: missing (required in production: the shared secret Amplitude sends in the custom header)',
    ]);
    expect(problemsOf({ TEMPORAL_TLS_CERT_PATH: '/c.pem' })).toEqual([
      'TEMPORAL_TLS_KEY_PATH: missing (mTLS to Temporal Cloud needs both the client certificate and key)',
    ]);
  });

  it('parses lists, booleans and Databricks OAuth M2M', () => {
    const cfg = buildConfig(
      { SEGMENT_TABLES: 'tracks, pages', TEMPORAL_DEV_SERVER: 'false', WAREHOUSE: 'databricks', DATABRICKS_HOST: 'adb-1.2.azuredatabricks.net', DATABRICKS_HTTP_PATH: '/sql/1.0/warehouses/abc', DATABRICKS_CLIENT_ID: 'sp', DATABRICKS_CLIENT_SECRET: 's' },
      '/tmp/novade',
    );
    expect(cfg.bigquery.tables).toEqual(['tracks', 'pages']);
    expect(cfg.temporal.devServer).toBe(false);
    expect(cfg.warehouse).toMatchObject({ kind: 'databricks', clientId: 'sp', catalog: 'novade' });
  });
});
