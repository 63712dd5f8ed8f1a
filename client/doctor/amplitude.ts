import { fail, fetchErrorText, pass, SANDBOX_FIX, serviceLabel, withTimeout, type DoctorCheck, type DoctorContext } from './types';

const KEY_FIX = 'AMPLITUDE_API_KEY is not the API key of an Amplitude project: copy it from Settings > Projects > <project> > General, and check AMPLITUDE_ZONE (us or eu) matches the project\'s data residency';

/**
 * Amplitude: the API key is accepted, without creating data. The Identify API checks the key before
 * the identification, so an empty identification list answers 400 `missing_event` for a good key and
 * `invalid_api_key` for a bad one; nothing is ingested either way.
 */
export async function amplitudeChecks(ctx: DoctorContext): Promise<DoctorCheck[]> {
  const { serverUrl, apiKey } = ctx.config.amplitude;
  const service = serviceLabel(ctx.config, 'amplitude');
  const url = `${serverUrl.replace(/\/+$/, '')}/identify`;
  let res: Response;
  try {
    res = await withTimeout(
      fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ api_key: apiKey, identification: '[]' }).toString(), signal: AbortSignal.timeout(ctx.timeoutMs) }),
      ctx.timeoutMs,
      `POST ${url}`,
    );
  } catch (err) {
    return [fail(service, 'API key valid', `cannot reach ${serverUrl}: ${fetchErrorText(err, ctx.timeoutMs)}`, ctx.config.sandboxed.includes('amplitude') ? SANDBOX_FIX : 'check AMPLITUDE_ZONE / AMPLITUDE_SERVER_URL and the network')];
  }
  const text = (await res.text().catch(() => '')).trim().slice(0, 200);
  if (/invalid_api_key|invalid api key/i.test(text) || res.status === 401 || res.status === 403) return [fail(service, 'API key valid', `Amplitude answered HTTP ${res.status} ${text}`, KEY_FIX)];
  if (res.status === 400 && /missing_event/i.test(text)) return [pass(service, 'API key valid', `accepted by ${serverUrl} (no data sent)`)];
  if (res.status === 429) return [fail(service, 'API key valid', `HTTP 429 ${text}`, 'Amplitude is throttling this project right now: try again in a minute', false)];
  return [fail(service, 'API key valid', `unexpected answer HTTP ${res.status} ${text}`, 'check AMPLITUDE_SERVER_URL points at Amplitude\'s ingestion API (api2.amplitude.com or api.eu.amplitude.com)')];
}
