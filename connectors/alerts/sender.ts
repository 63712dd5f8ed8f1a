import type { Logger } from '../../config/logger';
import { PermanentError, TransientError, retryAfterMs } from '../../lib/errors';
import { alertPayload, headline, summaryLine } from './format';
import type { AlertFormat, AlertMessage } from './types';

export interface AlertSenderOptions {
  /** Incoming webhook of the channel; without one, alerts are written to the log. */
  url?: string;
  format: AlertFormat;
  log: Logger;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Posts alert and recovery messages to a Teams or Slack webhook, or logs them when none is configured. */
export class AlertSender {
  constructor(private readonly opts: AlertSenderOptions) {}

  get target(): string {
    return this.opts.url ? `${this.opts.format} webhook` : 'log';
  }

  async send(m: AlertMessage): Promise<void> {
    const fields = { alert: m.key, kind: m.kind, since: m.since.toISOString(), link: m.link, detail: m.detail };
    if (!this.opts.url) {
      const line = `${headline(m)}: ${summaryLine(m)}`;
      if (m.kind === 'alert') this.opts.log.error(fields, line);
      else this.opts.log.info(fields, line);
      return;
    }
    const doFetch = this.opts.fetch ?? fetch;
    let res: Response;
    try {
      res = await doFetch(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alertPayload(this.opts.format, m)),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new TransientError(`Could not reach the alert webhook (ALERT_WEBHOOK_URL): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const text = await res.text().catch(() => '');
    if (res.ok) {
      this.opts.log.info(fields, `${m.kind} sent to the ${this.opts.format} webhook`);
      return;
    }
    const body = text.slice(0, 200);
    if (res.status === 429 || res.status >= 500)
      throw new TransientError(`The alert webhook answered HTTP ${res.status} ${body}`, { retryAfterMs: retryAfterMs(res.headers.get('retry-after')) });
    // A 4xx will not heal by retrying: the URL is wrong, revoked, or the format does not match the channel.
    throw new PermanentError(
      'ConfigError',
      `The alert webhook refused the ${this.opts.format} message with HTTP ${res.status} ${body}: check ALERT_WEBHOOK_URL and that ALERT_FORMAT (${this.opts.format}) matches the channel (teams or slack).`,
    );
  }
}
