import type { DriftWebhookDeps } from './drift';
import { handleDriftWebhook } from './drift';
import type { ExtraRoute } from './server';

export const DRIFT_PATH = '/drift';

/**
 * Drift's webhook on the platform's HTTP server. Drift authenticates with the verification token in
 * the body, not a header, so this route skips the Amplitude secret and leaves the check to the handler.
 */
export function driftRoute(deps: DriftWebhookDeps): ExtraRoute {
  return {
    url: DRIFT_PATH,
    handler: async (req) => {
      let body: unknown;
      const text = typeof req.body === 'string' ? req.body : req.body.toString('utf8');
      try {
        body = JSON.parse(text);
      } catch (err) {
        // Not dead-lettered: without a readable token nothing says Drift sent it.
        return { status: 400, body: { error: `The body is not JSON (${err instanceof Error ? err.message : String(err)}): Drift posts {type, token, orgId, data} as application/json.` } };
      }
      return handleDriftWebhook(deps, body, text);
    },
  };
}
