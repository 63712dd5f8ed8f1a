import { describe, expect, it } from 'vitest';
import { buildConfig, ConfigError } from '../../config/config';
import { scheduleDefs } from '../../client/schedules';

describe('organize, retention, alert and metrics settings', () => {
  it('defaults: hourly organize, keep all bronze, daily retention run, thresholds, metrics on :9465', () => {
    const c = buildConfig({}, '/tmp');
    expect(c.ops).toEqual({
      deadLettersThreshold: 100,
      deadLettersWindowSeconds: 86_400,
      backfillStallMinutes: 30,
      freshnessSeconds: {},
      bronzeRetentionSeconds: undefined,
      retentionInterval: '24h',
      appMetricsBind: '0.0.0.0:9465',
    });
    expect(c.schedules.organizeInterval).toBe('1h');
    expect(scheduleDefs(c).map((d) => [d.name, d.workflowType, d.every])).toEqual([
      ['salesforce', 'syncSourceWorkflow', '5m'],
      ['drift', 'syncSourceWorkflow', '5m'],
      ['organize', 'organizeWorkflow', '1h'],
      ['retention', 'retentionWorkflow', '24h'],
    ]);
  });

  it('parses durations and per-table freshness thresholds', () => {
    const c = buildConfig({ BRONZE_RETENTION: '90d', ALERT_DEAD_LETTERS_WINDOW: '6h', CHECK_FRESHNESS: 'salesforce_contact=6h, salesforce_opportunity = 1d', ORGANIZE_INTERVAL: '30m' }, '/tmp');
    expect(c.ops.bronzeRetentionSeconds).toBe(90 * 86_400);
    expect(c.ops.deadLettersWindowSeconds).toBe(6 * 3600);
    expect(c.ops.freshnessSeconds).toEqual({ salesforce_contact: 21_600, salesforce_opportunity: 86_400 });
    expect(scheduleDefs(c).find((d) => d.name === 'organize')?.every).toBe('30m');
  });

  it('says what is wrong with each bad value, all at once', () => {
    let err: unknown;
    try {
      buildConfig({ BRONZE_RETENTION: '3 months', CHECK_FRESHNESS: 'salesforce_contact:6h', ALERT_DEAD_LETTERS_THRESHOLD: '-1', APP_METRICS_BIND: '9465' }, '/tmp');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toContain('BRONZE_RETENTION: expected a duration such as 90d (s, m, h or d) (got "3 months")');
    expect(problems).toContain('CHECK_FRESHNESS: "salesforce_contact:6h" is not table=duration; expected e.g. salesforce_contact=6h,salesforce_opportunity=1d');
    expect(problems).toMatch(/ALERT_DEAD_LETTERS_THRESHOLD: .*\(got "-1"\)/);
    expect(problems).toContain('APP_METRICS_BIND: expected host:port');
  });
});
