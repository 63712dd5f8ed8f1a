import { SANDBOX } from '../../config/sandbox-endpoints';
import { fail, pass, type DoctorCheck, type DoctorContext } from './types';

/** Shorter than this is guessable: Amplitude sends it as a plain header, with no signature. */
const MIN_SECRET_LENGTH = 16;

/** The webhook's shared secret is set (required in production) and not trivially short. */
export async function webhookChecks(ctx: DoctorContext): Promise<DoctorCheck[]> {
  const { env } = ctx.config;
  const production = env.NODE_ENV === 'production';
  const secret = env.WEBHOOK_SECRET;
  const fix = `set WEBHOOK_SECRET to a long random value (e.g. \`openssl rand -hex 32\`) and the same value in Amplitude's event streaming destination, header ${ctx.config.webhook.secretHeader}`;
  if (secret === undefined)
    return [fail('webhook', 'secret set', `WEBHOOK_SECRET is not set: the webhook accepts the sandbox secret "${SANDBOX.webhookSecret}"`, fix, production)];
  if (secret.length < MIN_SECRET_LENGTH) return [fail('webhook', 'secret set', `WEBHOOK_SECRET is only ${secret.length} characters`, fix, production)];
  return [pass('webhook', 'secret set', `${secret.length} characters, header ${ctx.config.webhook.secretHeader}`)];
}
