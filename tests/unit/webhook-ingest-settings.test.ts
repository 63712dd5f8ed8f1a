import { describe, expect, it } from 'vitest';
import { buildConfig, ConfigError } from '../../config/config';
import { ingestSettings } from '../../webhook/start-server';

describe('webhook ingest flush cadence settings', () => {
  it('leaves the workflow its defaults unless WEBHOOK_INGEST_FLUSH_* are set, and passes only those set', () => {
    expect(ingestSettings(buildConfig({}, '/tmp/novade').env)).toBeUndefined();
    expect(ingestSettings(buildConfig({ WEBHOOK_INGEST_FLUSH_MAX_AGE_MS: '500' }, '/tmp/novade').env)).toEqual({ maxAgeMs: 500 });
    expect(ingestSettings(buildConfig({ WEBHOOK_INGEST_FLUSH_MAX_AGE_MS: '500', WEBHOOK_INGEST_FLUSH_MAX_EVENTS: '250' }, '/tmp/novade').env)).toEqual({ maxAgeMs: 500, maxBatch: 250 });
  });

  it('refuses values that are not whole numbers in range, naming the variable', () => {
    const problems = (env: NodeJS.ProcessEnv) => {
      try {
        buildConfig(env, '/tmp/novade');
        return [];
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
    };
    expect(problems({ WEBHOOK_INGEST_FLUSH_MAX_AGE_MS: '10' })).toEqual(['WEBHOOK_INGEST_FLUSH_MAX_AGE_MS: expected at least 50 (got "10")']);
    expect(problems({ WEBHOOK_INGEST_FLUSH_MAX_EVENTS: '0' })).toEqual(['WEBHOOK_INGEST_FLUSH_MAX_EVENTS: expected at least 1 (got "0")']);
    expect(problems({ WEBHOOK_INGEST_FLUSH_MAX_EVENTS: 'many' })).toEqual(['WEBHOOK_INGEST_FLUSH_MAX_EVENTS: expected a whole number (got "many")']);
  });
});
