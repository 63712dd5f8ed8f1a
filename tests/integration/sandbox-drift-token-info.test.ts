import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDriftEmulator, DRIFT_ORG_ID, DRIFT_SANDBOX_SCOPES, type DriftEmulator } from '../../sandbox/drift';

/** POST /app/token_info as devdocs.drift.com "Get Token Information" documents it. */
describe('Drift emulator: token information', () => {
  let emu: DriftEmulator;
  beforeAll(async () => {
    emu = await startDriftEmulator({ port: 0, scale: 0.01, token: 'tok-123' });
  });
  afterAll(async () => emu?.close());

  const post = (body: unknown) => fetch(`${emu.url}/app/token_info`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  it('answers the documented fields for the token in the body, with no Authorization header', async () => {
    const res = await post({ access_token: 'tok-123' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ access_token: 'tok-123', authenticated_userid: `orgId:${DRIFT_ORG_ID}`, token_type: 'bearer', expires_in: 0, scope: DRIFT_SANDBOX_SCOPES.join(' ') });
    expect(typeof body.created_at).toBe('number');
    expect(typeof body.credential_id).toBe('string');
  });

  it('reports the scopes set on the emulator', async () => {
    emu.setScopes(['contact_read']);
    expect(((await (await post({ access_token: 'tok-123' })).json()) as { scope: string }).scope).toBe('contact_read');
    emu.setScopes(DRIFT_SANDBOX_SCOPES);
  });

  it('answers 401 authentication_error for an unknown token and 400 without one', async () => {
    const bad = await post({ access_token: 'nope' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: { type: 'authentication_error', message: 'Invalid access token' } });
    const missing = await post({});
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe('validation_error');
  });
});
