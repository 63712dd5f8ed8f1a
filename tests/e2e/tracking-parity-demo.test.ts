import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../config/logger';
import { startDemoStack, type DemoStack } from '../../client/demo/stack';
import { runWebsiteFlow } from '../../client/demo/flows/website-flow';
import { runParityFlow } from '../../client/demo/flows/parity-flow';
import { launchChromium } from '../../client/demo/website/browser';
import { renderParityHtml } from '../../tracking/parity-render';
import { installRuntime } from '../../workers/runtime';
import { freePort } from '../helpers/ports';
import { TEST_OUTPUT } from '../helpers/paths';

/**
 * The sandbox end to end, as the demo runs it: analytics.js in chromium sends the website's calls
 * through the Segment-compatible endpoint (the project's tracking plan enforced), the Segment emulator
 * fills its BigQuery tables, the Amplitude emulator streams its events back to the webhook, and the
 * parity report reconciles the three sides; the calls the Segment emulator was told to lose are
 * reported by messageId, and nothing else is missing.
 */

let stack: DemoStack;

beforeAll(async () => {
  const log = createLogger({ level: 'warn', destination: 'stderr' });
  installRuntime({ log, metricsBind: `127.0.0.1:${await freePort()}`, shutdownSignals: [] });
  stack = await startDemoStack({ log, scale: 0.01, segmentRowsPerTable: 20, segmentFrom: '2024-01-01T00:00:00Z', segmentTo: '2024-01-08T00:00:00Z' });
  fs.mkdirSync(TEST_OUTPUT, { recursive: true });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
}, 120_000);

describe('the demo website flow, reconciled by the parity report', () => {
  it('reconciles every website call on the three sides and names the calls Segment lost', async () => {
    const website = await runWebsiteFlow(stack);
    expect(website.problems).toEqual([]);
    const { row, report, lost } = await runParityFlow(stack);
    expect(row.problems).toEqual([]);
    expect(lost.length).toBe(2);
    expect(report.missing.segment.samples.map((s) => s.messageId).sort()).toEqual([...lost].sort());
    expect([report.missing.collected.count, report.missing.amplitude.count, report.missing.extraInAmplitude.count, report.totals.blocked]).toEqual([0, 0, 0, 0]);
    // Three visits of four calls each: the two of the website flow, the parity flow's.
    expect(report.totals).toMatchObject({ collected: 12, segment: 10 });
    const out = report.rows.filter((r) => r.verdict !== 'ok');
    expect(out.map((r) => r.eventType).sort()).toEqual(['cta_clicked', 'demo_requested']);
    expect(report.rows.filter((r) => r.verdict === 'ok').map((r) => r.eventType).sort()).toEqual(['$identify', 'Viewed Pricing']);
    // The project's plan covers the demo website: no violation.
    expect(await stack.deps.warehouse.summarizeTrackingViolations(new Date(Date.now() - 3_600_000))).toEqual([]);

    const html = path.join(TEST_OUTPUT, 'tracking-parity-demo.html');
    fs.writeFileSync(html, renderParityHtml(report));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      await page.goto(`file://${html}`);
      for (const id of lost) await page.getByText(id).waitFor();
      const shot = path.join(TEST_OUTPUT, 'tracking-parity-demo.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(fs.statSync(shot).size).toBeGreaterThan(20_000);
    } finally {
      await browser.close();
    }
  }, 300_000);
});
