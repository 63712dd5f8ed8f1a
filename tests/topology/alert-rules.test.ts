import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { PROMETHEUS_DIR, promtool } from './prometheus';

/** deploy/prometheus/ as promtool sees it: the config, the rules, and the rules' unit tests. */

const rulesSchema = z.object({ groups: z.array(z.object({ name: z.string(), rules: z.array(z.object({ alert: z.string().optional(), record: z.string().optional() }).passthrough()) })) });
const testsSchema = z.object({
  rule_files: z.array(z.string()),
  tests: z.array(z.object({ name: z.string(), alert_rule_test: z.array(z.object({ alertname: z.string(), exp_alerts: z.array(z.unknown()).default([]) })).default([]) })),
});

describe('deploy/prometheus', () => {
  it('promtool accepts the configuration and the rule files it loads', async () => {
    const out = await promtool(['check', 'config', 'prometheus.yml']);
    expect(out).toMatch(/SUCCESS: prometheus\.yml is valid prometheus config file syntax/);
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('promtool test rules passes, and every alert rule has a case where it fires and one where it must not', async () => {
    const out = await promtool(['test', 'rules', 'alerts.test.yml']);
    expect(out).toMatch(/SUCCESS/);
    const tests = testsSchema.parse(parse(fs.readFileSync(path.join(PROMETHEUS_DIR, 'alerts.test.yml'), 'utf8')));
    const alerts = tests.rule_files.flatMap((f) => rulesSchema.parse(parse(fs.readFileSync(path.join(PROMETHEUS_DIR, f), 'utf8'))).groups.flatMap((g) => g.rules.map((r) => r.alert)));
    expect(alerts.length).toBeGreaterThan(0);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    const coverage = Object.fromEntries(
      alerts.map((name) => [name, { fires: cases.some((c) => c.alertname === name && c.exp_alerts.length > 0), quiet: cases.some((c) => c.alertname === name && c.exp_alerts.length === 0) }]),
    );
    expect(coverage).toEqual(Object.fromEntries(alerts.map((name) => [name, { fires: true, quiet: true }])));
  });
});
