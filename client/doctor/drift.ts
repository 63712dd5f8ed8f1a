import { z } from 'zod';
import { fail, fetchErrorText, pass, SANDBOX_FIX, serviceLabel, withTimeout, type DoctorCheck, type DoctorContext } from './types';

/** What the Drift sync reads: contacts, conversations and their messages, users and their meetings. */
export const DRIFT_REQUIRED_SCOPES = ['contact_read', 'conversation_read', 'user_read'] as const;

const tokenInfoSchema = z.looseObject({ scope: z.string().default(''), authenticated_userid: z.string().optional(), expires_in: z.number().optional() });

const TOKEN_FIX = 'DRIFT_TOKEN is wrong, expired or revoked: copy the access token of the installed app (dev.drift.com > your app > Installing) into DRIFT_TOKEN';

/** Drift: the token is known (POST /app/token_info), carries the scopes the sync needs, and reads a conversation. */
export async function driftChecks(ctx: DoctorContext): Promise<DoctorCheck[]> {
  const { baseUrl, token } = ctx.config.drift;
  const service = serviceLabel(ctx.config, 'drift');
  const base = baseUrl.replace(/\/$/, '');
  let res: Response;
  try {
    res = await withTimeout(
      fetch(`${base}/app/token_info`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ access_token: token }), signal: AbortSignal.timeout(ctx.timeoutMs) }),
      ctx.timeoutMs,
      `POST ${base}/app/token_info`,
    );
  } catch (err) {
    return [fail(service, 'token valid', `cannot reach ${base}: ${fetchErrorText(err, ctx.timeoutMs)}`, ctx.config.sandboxed.includes('drift') ? SANDBOX_FIX : 'check DRIFT_BASE_URL (https://driftapi.com) and the network')];
  }
  if (res.status === 401 || res.status === 403 || res.status === 404) return [fail(service, 'token valid', `token_info answered HTTP ${res.status}: ${await bodyText(res)}`, TOKEN_FIX)];
  if (!res.ok) return [fail(service, 'token valid', `token_info answered HTTP ${res.status}: ${await bodyText(res)}`, 'Drift had a problem: try again; if it persists, check status.drift.com')];
  const info = tokenInfoSchema.safeParse(await res.json().catch(() => undefined));
  if (!info.success) return [fail(service, 'token valid', 'token_info answered something that is not token information', 'check DRIFT_BASE_URL: it must be the Drift API (https://driftapi.com), not a proxy page')];

  const out: DoctorCheck[] = [pass(service, 'token valid', `${info.data.authenticated_userid ?? 'org ?'}, ${info.data.expires_in ? `expires in ${Math.round(info.data.expires_in / 60_000)} min` : 'no expiry'}`)];
  const scopes = new Set(info.data.scope.split(/\s+/).filter(Boolean));
  const missing = DRIFT_REQUIRED_SCOPES.filter((s) => !scopes.has(s));
  out.push(
    missing.length === 0
      ? pass(service, 'scopes', DRIFT_REQUIRED_SCOPES.join(' '))
      : fail(service, 'scopes', `missing ${missing.join(', ')} (token has: ${[...scopes].join(' ') || 'none'})`, `add ${missing.join(', ')} to the app (dev.drift.com > your app > OAuth & Permissions), reinstall it and put the new token in DRIFT_TOKEN`),
  );

  // token_info takes the token in its body; a real read proves the token works as a Bearer token too.
  try {
    const list = await withTimeout(fetch(`${base}/conversations/list?limit=1`, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(ctx.timeoutMs) }), ctx.timeoutMs, 'GET /conversations/list');
    if (list.ok) out.push(pass(service, 'read conversations', 'GET /conversations/list answers'));
    else if (list.status === 401 || list.status === 403) out.push(fail(service, 'read conversations', `HTTP ${list.status}: ${await bodyText(list)}`, TOKEN_FIX));
    else if (list.status === 429) out.push(fail(service, 'read conversations', 'HTTP 429: rate limited right now', 'another integration is using the org\'s Drift rate limit: try again in a minute', false));
    else out.push(fail(service, 'read conversations', `HTTP ${list.status}: ${await bodyText(list)}`, 'try again; if it persists, check status.drift.com'));
  } catch (err) {
    out.push(fail(service, 'read conversations', fetchErrorText(err, ctx.timeoutMs), 'check DRIFT_BASE_URL and the network'));
  }
  return out;
}

const bodyText = async (res: Response) => (await res.text().catch(() => '')).slice(0, 200);
