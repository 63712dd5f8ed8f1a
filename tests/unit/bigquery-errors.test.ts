import { describe, expect, it } from 'vitest';
import { mapBigQueryError, type BigQueryErrorContext } from '../../connectors/bigquery/errors';
import { PermanentError, TransientError } from '../../lib/errors';

const ctx: BigQueryErrorContext = { projectId: 'novade-prod', dataset: 'segment', table: 'tracks', action: 'reading tracks' };
const api = (code: number, message: string, reason = '') => Object.assign(new Error(message), { code, errors: [{ reason, message }] });

describe('BigQuery error messages', () => {
  it('points at BIGQUERY_API_ENDPOINT when the endpoint does not answer', () => {
    const err = mapBigQueryError(Object.assign(new Error('request to http://127.0.0.1:9050/bigquery/v2/projects failed, reason: connect ECONNREFUSED 127.0.0.1:9050'), { code: 'ECONNREFUSED' }), {
      ...ctx,
      apiEndpoint: 'http://127.0.0.1:9050',
    });
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toMatch(/cannot connect to the BigQuery API at http:\/\/127\.0\.0\.1:9050 \(ECONNREFUSED\).*BIGQUERY_API_ENDPOINT.*npm run sandbox/);
    const nested = mapBigQueryError(new Error('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND bigquery.googleapis.com'), { code: 'ENOTFOUND' }) }), ctx);
    expect(nested.message).toMatch(/ENOTFOUND.*network and proxy settings/);
  });

  it('names the missing dataset or table and the variable to fix', () => {
    const dataset = mapBigQueryError(api(404, 'Not found: Dataset novade-prod:segment', 'notFound'), ctx);
    expect(dataset).toBeInstanceOf(PermanentError);
    expect((dataset as PermanentError).kind).toBe('ConfigError');
    expect(dataset.message).toMatch(/dataset novade-prod\.segment not found.*SEGMENT_DATASET.*BIGQUERY_PROJECT/);
    const table = mapBigQueryError(api(404, 'Not found: Table novade-prod:segment.tracks was not found in location US', 'notFound'), ctx);
    expect(table.message).toMatch(/table novade-prod\.segment\.tracks not found.*SEGMENT_TABLES/);
    const emulator = mapBigQueryError(api(400, 'failed to analyze: INVALID_ARGUMENT: Table not found: `novade-prod.segment.tracks` [at 2:17]', 'jobInternalError'), ctx);
    expect(emulator.message).toMatch(/table novade-prod\.segment\.tracks not found.*SEGMENT_TABLES/);
    expect(mapBigQueryError(api(404, 'Not found: Job novade-prod:US.abc', 'notFound'), ctx)).toBeInstanceOf(TransientError);
  });

  it('sends credential problems to GOOGLE_APPLICATION_CREDENTIALS', () => {
    const missing = mapBigQueryError(new Error('Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started for more information.'), ctx);
    expect((missing as PermanentError).kind).toBe('AuthError');
    expect(missing.message).toMatch(/GOOGLE_APPLICATION_CREDENTIALS/);
    expect((mapBigQueryError(api(401, 'Request had invalid authentication credentials.'), ctx) as PermanentError).kind).toBe('AuthError');
    const denied = mapBigQueryError(api(403, 'Access Denied: Project novade-prod: User does not have bigquery.jobs.create permission', 'accessDenied'), ctx);
    expect((denied as PermanentError).kind).toBe('PermissionError');
    expect(denied.message).toMatch(/roles\/bigquery\.jobUser.*roles\/bigquery\.dataViewer/);
  });

  it('lets Temporal retry overload and server errors, not bad queries', () => {
    expect(mapBigQueryError(api(403, 'Exceeded rate limits', 'rateLimitExceeded'), ctx)).toBeInstanceOf(TransientError);
    expect(mapBigQueryError(api(503, 'Service unavailable', 'backendError'), ctx)).toBeInstanceOf(TransientError);
    expect(mapBigQueryError(api(429, 'Too many requests'), ctx)).toBeInstanceOf(TransientError);
    const bad = mapBigQueryError(api(400, 'Syntax error: Unexpected keyword', 'invalidQuery'), ctx);
    expect((bad as PermanentError).kind).toBe('InvalidRequest');
    const same = new PermanentError('ConfigError', 'x');
    expect(mapBigQueryError(same, ctx)).toBe(same);
    expect(mapBigQueryError('weird', ctx)).toBeInstanceOf(TransientError);
  });
});
