import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths';
import type { DemoReport } from '../../client/demo/reconcile';

/** `npx novade demo --json` as a newcomer runs it: a child process, no credentials, stdout parsed. */
function demo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SALESFORCE|DRIFT|AMPLITUDE|DATABRICKS|BIGQUERY|SEGMENT|WAREHOUSE|TEMPORAL|WEBHOOK|ALERT)_?/.test(k)));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/novade.js'), 'demo', '--json'], { cwd: ROOT, env: { ...clean, LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npx novade demo', () => {
  it('runs every flow on an ephemeral sandbox stack and reconciles each of them', async () => {
    const r = await demo();
    expect(r.stderr, r.stderr).not.toContain('    at ');
    const report = JSON.parse(r.stdout) as DemoReport;
    expect(r.code, r.stderr).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.flows.map((f) => f.flow)).toContain('salesforce');
    for (const f of report.flows) {
      expect(f.problems, f.flow).toEqual([]);
      expect(f.source, f.flow).toBeGreaterThan(0);
      expect(f.silver, f.flow).toBe(f.source);
      expect(f.duplicates, f.flow).toBe(0);
      if (f.amplitude !== null) expect(f.amplitude, f.flow).toBe(f.sent);
    }
    expect(r.stderr).toContain('demo: stopping the demo stack');
  }, 600_000);
});
