import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createLogger } from '../../config/logger';
import { startDemoStack, type DemoStack } from '../../client/demo/stack';
import { waitForWebsiteCalls } from '../../client/demo/flows/website-flow';
import { launchChromium, trackingRequests, visitWebsite } from '../../client/demo/website/browser';
import { startWebsitePage } from '../../client/demo/website/page-server';
import { installRuntime } from '../../workers/runtime';
import { freePort } from '../helpers/ports';
import { TEST_OUTPUT } from '../helpers/paths';

/**
 * @segment/analytics-next's browser bundle in Debian's chromium, on a page served locally with
 * `cdnURL` and `apiHost` pointing at the webhook's Segment-compatible endpoint (dual tracking on,
 * forwarding to the Segment emulator): page, identify and track arrive through the CORS preflight
 * with both delivery strategies, and land in silver, in Amplitude and in Segment's BigQuery.
 */

let stack: DemoStack;
let browser: Browser;

beforeAll(async () => {
  const log = createLogger({ level: 'warn', destination: 'stderr' });
  installRuntime({ log, metricsBind: `127.0.0.1:${await freePort()}`, shutdownSignals: [] });
  stack = await startDemoStack({ log, scale: 0.01, segmentRowsPerTable: 20, segmentFrom: '2024-01-01T00:00:00Z', segmentTo: '2024-01-08T00:00:00Z' });
  browser = await launchChromium();
  fs.mkdirSync(TEST_OUTPUT, { recursive: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
}, 120_000);

describe('analytics.js in chromium → the Segment-compatible endpoint', () => {
  it('standard delivery: one request per call to /v1/{p,i,t}, through the preflight, landing in silver, Amplitude and Segment', async () => {
    const shot = path.join(TEST_OUTPUT, 'website-tracking-standard.png');
    const visit = await visitWebsite({ browser, page: stack.website, collectorUrl: stack.webhook.url, strategy: 'standard', visitor: 'e2e-standard', screenshot: shot });
    expect(visit.error).toBeUndefined();
    expect(visit.calls.map((c) => c.type)).toEqual(['page', 'identify', 'track', 'track']);
    expect(visit.calls.every((c) => /^ajs-next-/.test(c.messageId))).toBe(true);
    // Settings came from the endpoint (cdnURL), not from Segment's CDN.
    expect(visit.requests.find((r) => r.method === 'GET' && r.path === `/v1/projects/${stack.websiteWriteKey}/settings`)?.status).toBe(200);
    const posts = trackingRequests(visit);
    expect(posts.map((r) => [r.path, r.status]).sort()).toEqual([['/v1/i', 200], ['/v1/p', 200], ['/v1/t', 200], ['/v1/t', 200]]);
    // Authorization is not a CORS-safelisted header: these POSTs left the browser only because the preflight passed.
    for (const r of posts) expect(r.headers).toContain('authorization');
    expect(fs.statSync(shot).size).toBeGreaterThan(10_000);

    const arrival = await waitForWebsiteCalls(stack, visit.calls);
    const ids = visit.calls.map((c) => c.messageId).sort();
    expect([...arrival.silver].sort()).toEqual(ids);
    expect([...arrival.amplitude.keys()].sort()).toEqual(ids);
    expect([...arrival.segment.keys()].sort()).toEqual(ids);
    expect([...arrival.bigquery.keys()].sort()).toEqual(ids);
    expect([...arrival.amplitude.values(), ...arrival.bigquery.values()].every((n) => n === 1)).toBe(true);
    // The forward re-sends the call unchanged: same messageId, the visitor's IP filled by the endpoint.
    const page = stack.segment.store.byMessageId(visit.calls[0].messageId)!.call;
    expect(page.message).toMatchObject({ type: 'page', name: 'Pricing', context: { library: { name: 'analytics.js' }, ip: '127.0.0.1' } });
    expect(stack.amp.store.byInsertId(`seg:${visit.calls[0].messageId}`)?.event.event_type).toBe('Viewed Pricing');
  });

  it('batching delivery: the calls leave in /v1/b batches and arrive once each', async () => {
    const shot = path.join(TEST_OUTPUT, 'website-tracking-batching.png');
    const visit = await visitWebsite({ browser, page: stack.website, collectorUrl: stack.webhook.url, strategy: 'batching', visitor: 'e2e-batching', screenshot: shot });
    expect(visit.error).toBeUndefined();
    expect(visit.calls).toHaveLength(4);
    const posts = trackingRequests(visit);
    expect(posts.length).toBeGreaterThan(0);
    expect(posts.every((r) => r.path === '/v1/b' && r.status === 200)).toBe(true);
    expect(posts.length).toBeLessThan(visit.calls.length);

    const arrival = await waitForWebsiteCalls(stack, visit.calls);
    const ids = visit.calls.map((c) => c.messageId).sort();
    expect([...arrival.silver].sort()).toEqual(ids);
    expect([...arrival.amplitude.keys()].sort()).toEqual(ids);
    expect([...arrival.bigquery.keys()].sort()).toEqual(ids);
    expect(stack.segment.store.list().filter((c) => ids.includes(c.messageId))).toHaveLength(4);
  });

  it('a page from an origin not in SEGMENT_CORS_ORIGINS: the settings request and the preflight are refused, nothing is collected', async () => {
    const stranger = await startWebsitePage();
    try {
      stranger.setCollector({ url: stack.webhook.url, writeKey: stack.websiteWriteKey });
      const before = stack.segment.store.count();
      // Settings from cdnURL: the browser refuses the endpoint's answer, analytics.js never loads.
      const viaCdn = await visitWebsite({ browser, page: stranger, collectorUrl: stack.webhook.url, strategy: 'standard', visitor: 'e2e-stranger', expectDone: false, settleMs: 4_000 });
      expect(viaCdn.calls).toEqual([]);
      expect(viaCdn.requests.filter((r) => r.status === 200)).toEqual([]);
      expect(viaCdn.consoleErrors.join('\n')).toMatch(/CORS/);
      // Settings inline: analytics.js loads and takes the calls, but their preflight is refused.
      const inline = await visitWebsite({ browser, page: stranger, collectorUrl: stack.webhook.url, strategy: 'standard', visitor: 'e2e-stranger', inlineSettings: true, expectDone: false, settleMs: 4_000 });
      expect(inline.requests.filter((r) => r.status === 200)).toEqual([]);
      expect(trackingRequests(inline).length).toBeGreaterThan(0);
      expect(inline.consoleErrors.join('\n')).toMatch(/preflight|CORS/);
      expect(stack.segment.store.count()).toBe(before);
    } finally {
      await stranger.close();
    }
  });
});
