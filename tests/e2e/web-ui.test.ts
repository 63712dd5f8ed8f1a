import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type Browser } from 'playwright-core';
import { buildConfig } from '../../config/config';
import { ensureSchedules, scheduleDefs } from '../../client/schedules';
import { freePort } from '../helpers/ports';
import { TEMPORAL_CLI, TEST_OUTPUT } from '../helpers/paths';

const CHROMIUM = '/usr/bin/chromium';


describe('Temporal Web UI', () => {
  let env: TestWorkflowEnvironment;
  let browser: Browser;
  let uiPort: number;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`npm run setup -- --for-tests\` (installs Debian's chromium).`);
    uiPort = await freePort();
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: TEMPORAL_CLI }, ui: true, uiPort, extraArgs: ['--log-level', 'error'] },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await env?.teardown();
  });

  it('lists the project schedules', async () => {
    const config = buildConfig({ TEMPORAL_ADDRESS: env.address }, '/tmp/novade-ui-test');
    await ensureSchedules(env.client, config);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/schedules`);
    for (const def of scheduleDefs(config)) await page.getByText(def.scheduleId, { exact: true }).first().waitFor({ timeout: 30_000 });
    fs.mkdirSync(TEST_OUTPUT, { recursive: true });
    const shot = path.join(TEST_OUTPUT, 'web-ui-schedules.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
    const body = await page.textContent('body');
    expect(body).toContain('salesforce-sync');
    expect(body).toContain('drift-sync');
  });
});
