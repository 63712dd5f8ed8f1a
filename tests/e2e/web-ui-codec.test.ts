import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Payload } from '@temporalio/common';
import { buildConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { startDevServer, type DevServer } from '../../lib/dev-server';
import { connectTemporal, type TemporalClient } from '../../lib/temporal';
import { startCodecServer, type RunningCodecServer } from '../../lib/codec/codec-server';
import { EncryptionCodec } from '../../lib/codec/encryption-codec';
import { freePort } from '../helpers/ports';
import { TEMPORAL_CLI, TEST_OUTPUT } from '../helpers/paths';

/**
 * The local Web UI shows a workflow input decoded when the dev server is started with
 * --ui-codec-endpoint (as `npm start` does with keys set), and as ciphertext without it.
 * Screenshots: test-output/web-ui-codec-decoded.png and web-ui-codec-ciphertext.png.
 */

const CHROMIUM = '/usr/bin/chromium';
const KEYS = `ui-test:${Buffer.alloc(32, 4).toString('base64')}`;
const PLANTED = 'ui.planted.person@novade-test.example';
const log = createLogger({ level: 'silent' });

class CountingCodec extends EncryptionCodec {
  decoded = 0;
  override async decode(payloads: Payload[]): Promise<Payload[]> {
    this.decoded += payloads.length;
    return super.decode(payloads);
  }
}

describe('Temporal Web UI with the codec server', () => {
  let browser: Browser;
  let withCodec: DevServer;
  let without: DevServer;
  let codecServer: RunningCodecServer;
  const codec = new CountingCodec({ keys: buildConfig({ TEMPORAL_CODEC_KEYS: KEYS }, '/tmp').temporal.codec!.keys, compressAboveBytes: 1024 });
  const clients: TemporalClient[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`npm run setup -- --for-tests\` (installs Debian's chromium).`);
    const [uiA, uiB] = [await freePort(), await freePort()];
    codecServer = await startCodecServer({ codec, namespace: 'default', host: '127.0.0.1', port: 0, origins: [`http://127.0.0.1:${uiA}`, `http://127.0.0.1:${uiB}`], log });
    [withCodec, without] = await Promise.all([
      startDevServer({ binary: TEMPORAL_CLI, port: await freePort(), uiPort: uiA, namespace: 'default', uiCodecEndpoint: codecServer.url, log }),
      startDevServer({ binary: TEMPORAL_CLI, port: await freePort(), uiPort: uiB, namespace: 'default', log }),
    ]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    for (const c of clients) await c.close();
    await Promise.all([withCodec?.stop(), without?.stop()]);
    await codecServer?.close();
  });

  async function workflowPage(server: DevServer): Promise<{ page: Page; workflowId: string }> {
    const temporal = await connectTemporal(buildConfig({ TEMPORAL_ADDRESS: server.address, TEMPORAL_CODEC_KEYS: KEYS }, '/tmp').temporal);
    clients.push(temporal);
    const workflowId = `ui-codec-${Date.now()}`;
    await temporal.client.workflow.start('syncSourceWorkflow', { taskQueue: 'ui-codec-no-worker', workflowId, args: [{ email: PLANTED }] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(`${server.uiUrl.replace('localhost', '127.0.0.1')}/namespaces/default/workflows/${workflowId}`);
    await page.getByText(workflowId).first().waitFor({ timeout: 60_000 });
    return { page, workflowId };
  }

  it('decodes the input through the codec server', async () => {
    const { page } = await workflowPage(withCodec);
    await page.getByText(PLANTED).first().waitFor({ timeout: 60_000 });
    fs.mkdirSync(TEST_OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(TEST_OUTPUT, 'web-ui-codec-decoded.png'), fullPage: true });
    expect(codec.decoded).toBeGreaterThan(0);
  });

  it('shows ciphertext without it', async () => {
    const { page } = await workflowPage(without);
    // The UI prints the stored payload's metadata in base64: binary/encrypted and the key id.
    await page.getByText(Buffer.from('binary/encrypted').toString('base64')).first().waitFor({ timeout: 60_000 });
    await page.getByText(Buffer.from('ui-test').toString('base64')).first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(TEST_OUTPUT, 'web-ui-codec-ciphertext.png'), fullPage: true });
    expect(await page.textContent('body')).not.toContain(PLANTED);
  });
});
