import { describe, expect, it } from 'vitest';
import { HttpRequest, InvocationContext } from '@azure/functions';
import type { IngestSignal } from '../../activities/push-ingest-types';
import { createAzureSegmentHandler } from '../../webhook/azure/handler';
import { createSegmentHandler } from '../../webhook/segment-handler';

/** The Segment routes under the Azure Function host: same handler, the host's /api prefix dropped. */

describe('Segment endpoint on Azure Functions', () => {
  it('serves calls, preflights and settings under /api/v1, with the client address from X-Forwarded-For', async () => {
    const signals: IngestSignal[] = [];
    const segment = createSegmentHandler({ writeKeys: ['wk-site-0001'], corsOrigins: ['https://www.novade.com'], ingest: { submit: async (s) => void signals.push(s) } });
    const handler = createAzureSegmentHandler({ handler: segment, route: '/v1/{call}' });
    const ctx = new InvocationContext({ functionName: 'segment' });
    const base = 'https://novade-collect.azurewebsites.net/api/v1';
    const auth = `Basic ${Buffer.from('wk-site-0001:').toString('base64')}`;

    const call = { type: 'page', name: 'Pricing', messageId: 'ajs-1', anonymousId: 'anon-12345' };
    const ok = await handler(new HttpRequest({ method: 'POST', url: `${base}/p`, headers: { authorization: auth, 'content-type': 'text/plain', 'x-forwarded-for': '198.51.100.9:52311', origin: 'https://www.novade.com' }, body: { string: JSON.stringify(call) } }), ctx);
    expect(ok.status).toBe(200);
    expect(ok.headers).toMatchObject({ 'access-control-allow-origin': 'https://www.novade.com' });
    expect(signals[0].events[0]).toMatchObject({ type: 'page', messageId: 'ajs-1', context: { ip: '198.51.100.9' } });

    const preflight = await handler(new HttpRequest({ method: 'OPTIONS', url: `${base}/t`, headers: { origin: 'https://www.novade.com', 'access-control-request-headers': 'authorization' } }), ctx);
    expect(preflight.status).toBe(204);
    expect(preflight.body).toBeUndefined();

    const settings = await handler(new HttpRequest({ method: 'GET', url: `${base}/projects/wk-site-0001/settings`, headers: { host: 'novade-collect.azurewebsites.net' } }), ctx);
    expect(settings.status).toBe(200);
    expect(JSON.parse(String(settings.body)).integrations['Segment.io']).toMatchObject({ apiKey: 'wk-site-0001', apiHost: 'novade-collect.azurewebsites.net/api/v1' });

    const unauthorized = await handler(new HttpRequest({ method: 'POST', url: `${base}/batch`, body: { string: JSON.stringify({ batch: [call] }) } }), ctx);
    expect(unauthorized.status).toBe(401);
  });
});
