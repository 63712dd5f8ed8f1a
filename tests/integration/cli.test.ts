import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../lib/dev-server';
import { createLogger } from '../../config/logger';
import { runCli } from '../../client/cli';
import { CliContext } from '../../client/cli-context';
import { freePort } from '../helpers/ports';
import { TEMPORAL_CLI } from '../helpers/paths';


class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

describe('npx novade against a file-backed dev server', () => {
  let server: DevServer;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-cli-'));

  beforeAll(async () => {
    const port = await freePort();
    server = await startDevServer({ binary: TEMPORAL_CLI, dbFile: path.join(dir, 'temporal.db'), port, uiPort: await freePort(), namespace: 'default', headless: true, log: createLogger({ level: 'silent' }) });
    process.env.TEMPORAL_ADDRESS = server.address;
    process.env.SYNC_INTERVAL = '1h';
  });
  afterAll(async () => {
    delete process.env.TEMPORAL_ADDRESS;
    delete process.env.SYNC_INTERVAL;
    await server?.stop();
  });

  const cli = async (...args: string[]) => {
    const out = new Capture();
    const code = await runCli(args, new CliContext(out));
    return { code, out: out.text };
  };

  it('refuses to start without the built binary, saying how to build it', async () => {
    await expect(startDevServer({ binary: path.join(dir, 'missing'), dbFile: path.join(dir, 'x.db'), port: 1, uiPort: 2, namespace: 'default', log: createLogger({ level: 'silent' }) })).rejects.toThrow(/npm run setup/);
  });

  it('lists schedules as not created, then ensures, pauses, resumes and triggers them', async () => {
    let r = await cli('schedules', 'list');
    expect(r.code).toBe(0);
    expect(r.out).toContain('not created (run npm start)');
    r = await cli('schedules', 'ensure');
    expect(r.out).toContain('created: salesforce-sync, drift-sync');
    expect((await cli('schedules', 'pause', 'salesforce')).out).toBe('salesforce-sync: paused\n');
    expect((await cli('schedules', 'resume', 'salesforce')).out).toBe('salesforce-sync: resumed\n');
    expect((await cli('schedules', 'trigger', 'drift')).out).toBe('drift-sync: triggered\n');
    r = await cli('schedules', 'list', '--json');
    const rows = JSON.parse(r.out) as { name: string; every: string; missing: boolean }[];
    expect(rows.map((x) => [x.name, x.every, x.missing])).toEqual([
      ['salesforce', '1h', false],
      ['drift', '1h', false],
      ['organize', '1h', false],
      ['retention', '24h', false],
    ]);
    expect((await cli('schedules', 'pause', 'hubspot')).code).toBe(1);
  });

  it('rejects an unknown sync source and an unknown command with a non-zero exit', async () => {
    expect((await cli('sync', 'hubspot')).code).toBe(1);
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('--help')).code).toBe(0);
  });

  it('keeps schedules across a dev server restart (state in the file)', async () => {
    await server.stop();
    server = await startDevServer({ binary: TEMPORAL_CLI, dbFile: path.join(dir, 'temporal.db'), port: Number(server.address.split(':')[1]), uiPort: await freePort(), namespace: 'default', headless: true, log: createLogger({ level: 'silent' }) });
    const r = await cli('schedules', 'list');
    expect(r.out).not.toContain('not created');
    expect(r.out).toMatch(/salesforce\s+salesforce-sync\s+1h\s+active/);
  });
});
