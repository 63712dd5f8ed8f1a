import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import type { DeliveryStrategy, WebsitePage } from './page-server';

/**
 * Visits the test page in Debian's chromium (playwright-core, a dev dependency loaded on demand) and
 * reports what analytics.js did: the calls it was handed with their messageIds, and every request it
 * made to the collection endpoint with the answer.
 */
export const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`npm run setup -- --for-tests\` (installs Debian's chromium).`);
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch {
    throw new Error('playwright-core is not installed: the website flow needs the dev dependencies (run `npm install` without --omit=dev).');
  }
  return playwright.chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

export interface PageCall {
  type: 'page' | 'identify' | 'track';
  messageId: string;
}

export interface ObservedRequest {
  method: string;
  /** Path on the collection endpoint, e.g. `/v1/t`. */
  path: string;
  /** HTTP status; 0 when the request failed (a CORS refusal, a reset). */
  status: number;
  failure?: string;
  /** Header names analytics.js sent (lower case). */
  headers: string[];
}

export interface Visit {
  strategy: DeliveryStrategy;
  calls: PageCall[];
  /** Requests to the collection endpoint, in the order they finished. */
  requests: ObservedRequest[];
  /** Error the page reported, if analytics.js failed to load or to take a call. */
  error?: string;
  consoleErrors: string[];
}

export interface VisitOptions {
  browser: Browser;
  page: WebsitePage;
  /** The collection endpoint's base URL, to tell its requests from the page's own. */
  collectorUrl: string;
  strategy: DeliveryStrategy;
  visitor: string;
  /** Wait until this many requests to the endpoint's tracking routes have answered (default: one per call, or one batch). */
  settleMs?: number;
  /** Where to save a screenshot of the page once its calls are delivered. */
  screenshot?: string;
  /** Settings given in the page rather than fetched from the endpoint (`cdnSettings`). */
  inlineSettings?: boolean;
  /** False when analytics.js is not expected to finish (a refused origin): the visit then lasts `settleMs`. */
  expectDone?: boolean;
  timeoutMs?: number;
}

const TRACKING_PATH = /^\/v1\/(?:t|i|p|s|g|a|b|track|identify|page|screen|group|alias|batch)$/;

export async function visitWebsite(opts: VisitOptions): Promise<Visit> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const collector = new URL(opts.collectorUrl);
  // A fresh context per visit: its own cookies and localStorage, so a new anonymousId.
  const context = await opts.browser.newContext({ viewport: { width: 1100, height: 700 } });
  const tab = await context.newPage();
  const requests: ObservedRequest[] = [];
  const consoleErrors: string[] = [];
  const ours = (url: string) => {
    const u = new URL(url);
    return u.host === collector.host ? u.pathname : undefined;
  };
  tab.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  tab.on('requestfinished', (req) => {
    const p = ours(req.url());
    if (!p) return;
    void req.response().then((res) => requests.push({ method: req.method(), path: p, status: res?.status() ?? 0, headers: Object.keys(req.headers()) }));
  });
  tab.on('requestfailed', (req) => {
    const p = ours(req.url());
    if (p) requests.push({ method: req.method(), path: p, status: 0, failure: req.failure()?.errorText, headers: Object.keys(req.headers()) });
  });
  try {
    await tab.goto(opts.page.url(opts.strategy, opts.visitor, { inlineSettings: opts.inlineSettings }), { timeout: timeoutMs });
    if (opts.expectDone === false) await tab.waitForTimeout(opts.settleMs ?? 15_000);
    else await tab.waitForFunction(() => (globalThis as unknown as { __done?: boolean }).__done === true, undefined, { timeout: timeoutMs });
    const calls = (await tab.evaluate(() => (globalThis as unknown as { __calls: PageCall[] }).__calls)) ?? [];
    const error = await tab.evaluate(() => (globalThis as unknown as { __error?: string }).__error);
    // Batching sends on size or timeout; standard mode may still be answering: wait for the last answers.
    const wanted = opts.strategy === 'batching' ? Math.ceil(calls.length / 3) : calls.length;
    const deadline = Date.now() + (opts.settleMs ?? 15_000);
    while (requests.filter((r) => r.method === 'POST' && TRACKING_PATH.test(r.path)).length < wanted && Date.now() < deadline) await tab.waitForTimeout(100);
    if (opts.screenshot) await tab.screenshot({ path: opts.screenshot, fullPage: true });
    return { strategy: opts.strategy, calls, requests, error, consoleErrors };
  } finally {
    await context.close();
  }
}

/** The tracking requests of a visit (POSTs to /v1/{t,i,p,…,b}). */
export function trackingRequests(visit: Visit): ObservedRequest[] {
  return visit.requests.filter((r) => r.method === 'POST' && TRACKING_PATH.test(r.path));
}
