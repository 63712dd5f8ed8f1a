import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths';

/** The worker entry point refuses to start on an invalid streams file, printing every problem. */
describe('worker start with an invalid streams file', () => {
  it('exits 1 with one line per problem, before opening the warehouse or Temporal', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-streams-'));
    const file = path.join(dir, 'streams.yaml');
    fs.writeFileSync(file, 'version: 1\nsalesforce:\n  objects:\n    - object: Lead\n      fields: [Id, Email]\n      identity: { user_id: Email }\n      events: [{ id: c, on: updated, name: C }]\n    - { object: Contact, fields: nope }\n');
    try {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(process.execPath, ['--import', 'tsx', 'workers/worker-main.ts'], {
          cwd: ROOT,
          // A Temporal address nothing listens on: the worker must stop before it needs one.
          env: { ...process.env, NODE_OPTIONS: '', STREAMS_FILE: file, DATA_DIR: dir, TEMPORAL_ADDRESS: '127.0.0.1:1', LOG_LEVEL: 'error' },
          timeout: 60_000,
        });
        let stderr = '';
        child.stderr?.on('data', (d) => (stderr += String(d)));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('has 2 problems:');
      expect(result.stderr).toContain('salesforce.objects[0].events[0].on: expected created, deleted or changed (got "updated") [line 7]');
      expect(result.stderr).toContain('salesforce.objects[1].fields: expected all, a list of API names, or { all_except: [...] } (got "nope") [line 8]');
      expect(fs.existsSync(path.join(dir, 'warehouse.duckdb'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
