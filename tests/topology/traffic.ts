import { exportEvent } from '../helpers/amplitude-webhook';

/**
 * Amplitude's event stream as the webhooks see it: `senders` loops each posting two fresh export
 * events at a time, spread over every webhook. A request not answered 200 (a 503 while Temporal is
 * down, a refused connection) is sent again with the same events, as Amplitude retries, until it is
 * acknowledged: every event sent must end in silver exactly once.
 */
export class WebhookTraffic {
  readonly sent = new Set<string>();
  readonly acked = new Set<string>();
  /** Requests answered other than 200, or not answered, each retried. */
  retries = 0;
  readonly statuses = new Map<string, number>();
  /** Batches given up after `giveUpMs` without an acknowledgement (a failure of the platform). */
  readonly abandoned: string[] = [];
  private stopping = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly opts: { urls: string[]; secret: string; secretHeader: string; senders?: number; pauseMs?: number; giveUpMs?: number }) {}

  start(): void {
    const senders = this.opts.senders ?? 3;
    this.loops = Array.from({ length: senders }, (_, i) => this.sender(i));
  }

  /** Lets each sender finish the batch it holds (acknowledged or abandoned), then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  private async sender(index: number): Promise<void> {
    let next = index;
    while (!this.stopping) {
      const events = [exportEvent(), exportEvent()];
      const uuids = events.map((e) => e.uuid as string);
      for (const u of uuids) this.sent.add(u);
      const body = JSON.stringify(events);
      const since = Date.now();
      for (;;) {
        const url = this.opts.urls[next++ % this.opts.urls.length];
        const status = await this.post(url, body);
        this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
        if (status === '200') {
          for (const u of uuids) this.acked.add(u);
          break;
        }
        this.retries++;
        if (Date.now() - since > (this.opts.giveUpMs ?? 180_000)) {
          this.abandoned.push(...uuids);
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      await new Promise((r) => setTimeout(r, this.opts.pauseMs ?? 100));
    }
  }

  private async post(url: string, body: string): Promise<string> {
    try {
      const res = await fetch(`${url}/amplitude`, { method: 'POST', headers: { 'content-type': 'application/json', [this.opts.secretHeader]: this.opts.secret }, body, signal: AbortSignal.timeout(15_000) });
      await res.arrayBuffer();
      return String(res.status);
    } catch (err) {
      return err instanceof Error ? err.name : 'error';
    }
  }
}
