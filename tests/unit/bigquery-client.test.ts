import { describe, expect, it } from 'vitest';
import { createBigQueryClient, isLoopbackEndpoint } from '../../connectors/bigquery/client';

describe('BigQuery client', () => {
  it('treats only loopback endpoints as emulators', () => {
    expect(isLoopbackEndpoint('http://127.0.0.1:9050')).toBe(true);
    expect(isLoopbackEndpoint('localhost:9050')).toBe(true);
    expect(isLoopbackEndpoint('http://[::1]:9050')).toBe(true);
    expect(isLoopbackEndpoint('https://bigquery.googleapis.com')).toBe(false);
    expect(isLoopbackEndpoint('https://bigquery-psc.p.googleapis.com')).toBe(false);
    expect(isLoopbackEndpoint(undefined)).toBe(false);
    expect(isLoopbackEndpoint('http://%zz')).toBe(false);
  });

  it('sends no credentials to an emulator and adds no header', async () => {
    const bq = createBigQueryClient({ projectId: 'novade-sandbox', apiEndpoint: 'http://127.0.0.1:9050' });
    expect(bq.apiEndpoint).toBe('http://127.0.0.1:9050');
    const opts = await bq.authClient.authorizeRequest({ url: 'http://127.0.0.1:9050/x', headers: { a: '1' } });
    expect(new Headers(opts.headers as ConstructorParameters<typeof Headers>[0]).get('authorization')).toBeNull();
    const real = createBigQueryClient({ projectId: 'novade-prod' });
    expect(real.apiEndpoint).toBe('https://bigquery.googleapis.com');
  });
});
