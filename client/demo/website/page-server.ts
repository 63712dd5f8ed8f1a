import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/**
 * A stand-in for novade.com: one page that loads analytics.js 2.0 (@segment/analytics-next's browser
 * bundle, served from node_modules) configured as the site would be for dual tracking, `cdnURL` and
 * `integrations['Segment.io'].apiHost` pointing at novade-sync's Segment-compatible endpoint. The
 * page makes a page, an identify and two track calls and lists them with their messageIds.
 * `?strategy=batching` switches analytics.js to its batching delivery; `?visitor=` names the visitor;
 * `?settings=inline` skips the settings request.
 */
export interface WebsitePage {
  /** The page's origin, to list in SEGMENT_CORS_ORIGINS. */
  origin: string;
  /** Where analytics.js sends: the collection endpoint's base URL (no /v1) and the write key. Set once the endpoint listens. */
  setCollector(collector: { url: string; writeKey: string }): void;
  /**
   * The page URL for a delivery strategy and a visitor. `inlineSettings` gives analytics.js its
   * settings in the page instead of fetching them from `cdnURL` (Segment's `cdnSettings` option).
   */
  url(strategy: DeliveryStrategy, visitor: string, opts?: { inlineSettings?: boolean }): string;
  close(): Promise<void>;
}

export type DeliveryStrategy = 'standard' | 'batching';

/** The UMD bundle of @segment/analytics-next (global `AnalyticsNext`); a dev dependency, so the demo says how to get it. */
export function analyticsNextBundle(): string {
  let pkg: string;
  try {
    pkg = require.resolve('@segment/analytics-next/package.json');
  } catch {
    throw new Error('@segment/analytics-next is not installed: the website flow needs the dev dependencies (run `npm install` without --omit=dev).');
  }
  const bundle = path.join(path.dirname(pkg), 'dist/umd/index.js');
  if (!fs.existsSync(bundle)) throw new Error(`@segment/analytics-next has no browser bundle at ${bundle}: reinstall it (\`npm install\`).`);
  return bundle;
}

function pageHtml(collector: { url: string; writeKey: string }): string {
  const { host, protocol } = new URL(collector.url);
  const site = { writeKey: collector.writeKey, cdnURL: collector.url, apiHost: `${host}/v1`, protocol: protocol.replace(':', '') };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Novade | Pricing (website tracking test page)</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1d2733; }
  h1 { font-size: 1.5rem; } code { font-size: 13px; }
  table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
  td, th { border: 1px solid #cfd6de; padding: .35rem .6rem; text-align: left; }
  th { background: #eef2f6; } .ok { color: #11743b; } .err { color: #b3261e; }
</style>
</head>
<body>
<h1>Novade pricing</h1>
<p>Test page of novade-sync's website tracking: analytics.js (<code>@segment/analytics-next</code>) sends to
<code id="api-host"></code>, delivery strategy <b id="strategy"></b>, visitor <b id="visitor"></b>.</p>
<table><thead><tr><th>call</th><th>messageId</th><th>state</th></tr></thead><tbody id="calls"></tbody></table>
<p id="status">loading analytics.js...</p>
<script>window.__SITE = ${JSON.stringify(site)};</script>
<script src="/analytics-next.js"></script>
<script>
(async () => {
  const site = window.__SITE;
  const query = new URLSearchParams(location.search);
  const strategy = query.get('strategy') === 'batching' ? 'batching' : 'standard';
  const visitor = query.get('visitor') || 'visitor';
  document.getElementById('api-host').textContent = site.protocol + '://' + site.apiHost;
  document.getElementById('strategy').textContent = strategy;
  document.getElementById('visitor').textContent = visitor;
  const segmentio = { apiHost: site.apiHost, protocol: site.protocol };
  // Small batches and a short timeout, so that a batch leaves while the page is watched.
  if (strategy === 'batching') segmentio.deliveryStrategy = { strategy: 'batching', config: { size: 3, timeout: 500 } };
  const calls = (window.__calls = []);
  const row = (type, ctx) => {
    const messageId = ctx && ctx.event ? ctx.event.messageId : undefined;
    calls.push({ type, messageId });
    const tr = document.createElement('tr');
    tr.innerHTML = '<td>' + type + '</td><td><code>' + messageId + '</code></td><td class="ok">handed to analytics.js</td>';
    document.getElementById('calls').appendChild(tr);
  };
  try {
    const settings = query.get('settings') === 'inline'
      ? { writeKey: site.writeKey, cdnSettings: { integrations: { 'Segment.io': { apiKey: site.writeKey, apiHost: site.apiHost, protocol: site.protocol } } } }
      : { writeKey: site.writeKey, cdnURL: site.cdnURL };
    const analytics = window.AnalyticsNext.AnalyticsBrowser.load(settings, { integrations: { 'Segment.io': segmentio } });
    row('page', await analytics.page('Website', 'Pricing', { plan: 'enterprise' }));
    row('identify', await analytics.identify(visitor + '@example.com', { email: visitor + '@example.com', company: 'Acme Construction', plan: 'enterprise' }));
    row('track', await analytics.track('CTA Clicked', { cta: 'book-demo', position: 2 }));
    row('track', await analytics.track('Demo Requested', { company_size: '51-200', country: 'Singapore' }));
    document.getElementById('status').textContent = 'all calls handed to analytics.js';
  } catch (err) {
    document.getElementById('status').innerHTML = '<span class="err">' + String(err && err.message || err) + '</span>';
    window.__error = String(err && err.message || err);
  }
  window.__done = true;
})();
</script>
</body>
</html>
`;
}

export async function startWebsitePage(opts: { port?: number; host?: string } = {}): Promise<WebsitePage> {
  const bundle = fs.readFileSync(analyticsNextBundle());
  let collector: { url: string; writeKey: string } | undefined;
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://page').pathname;
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (pathname === '/analytics-next.js') {
      res.writeHead(200, { 'content-type': 'application/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(bundle);
      return;
    }
    if (pathname === '/' || pathname === '/pricing') {
      if (!collector) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('the collection endpoint is not running yet');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(pageHtml(collector));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, resolve);
  });
  const port = (server.address() as { port: number }).port;
  const origin = `http://${host}:${port}`;
  return {
    origin,
    setCollector: (c) => {
      collector = c;
    },
    url: (strategy, visitor, o) => `${origin}/pricing?strategy=${strategy}&visitor=${encodeURIComponent(visitor)}${o?.inlineSettings ? '&settings=inline' : ''}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
