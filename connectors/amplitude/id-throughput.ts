import { createHash } from 'node:crypto';
import type { AmplitudeEvent } from '../../mappings/amplitude-types';

/**
 * Keeps each user_id / device_id under the Batch API's throughput (1,000 events per second averaged
 * over 30 s, API-FACTS.md) before sending, instead of learning it from 429s: a throttled id holds
 * up its whole request for ~15 s. History is bursty (one integration may have sent thousands of
 * events for one id in an hour), so the backfill asks how long to wait before a batch, and waits.
 * It only knows what this process sent; a 429 is still honoured when it comes.
 */
export interface IdThroughputOptions {
  /** Events per second per id; default 800 (a margin under Amplitude's 1,000). */
  perIdPerSecond?: number;
  windowMs?: number;
  now?: () => number;
  /**
   * Keys ids by a short hash, so that `exportHot` can hand the history to a parallel backfill's next
   * step (through Temporal) without carrying user ids.
   */
  hashIds?: boolean;
}

/** Hashed id → sends within the window: [epoch ms, events]. */
export type IdSends = Record<string, [number, number][]>;

function idsOf(events: AmplitudeEvent[], hash: boolean): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) {
    // Amplitude counts per user when there is one, else per device.
    const raw = e.user_id !== undefined ? `u:${e.user_id}` : `d:${e.device_id ?? ''}`;
    const id = hash ? createHash('sha256').update(raw).digest('base64url').slice(0, 16) : raw;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

export class IdThroughputBudget {
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly hashIds: boolean;
  /** id → sends within the window, oldest first. */
  private readonly history = new Map<string, { at: number; n: number }[]>();

  constructor(opts: IdThroughputOptions = {}) {
    this.windowMs = opts.windowMs ?? 30_000;
    this.perWindow = (opts.perIdPerSecond ?? 800) * (this.windowMs / 1000);
    this.now = opts.now ?? Date.now;
    this.hashIds = opts.hashIds === true;
  }

  /** Starts from sends made elsewhere (a previous step of the same lane, maybe on another worker). */
  importSends(sends: IdSends): this {
    for (const [id, list] of Object.entries(sends)) this.history.set(id, list.map(([at, n]) => ({ at, n })));
    return this;
  }

  /**
   * The sends within the window of the ids that used at least `minShare` of their budget, busiest
   * first, `maxIds` at most: the ids that could make a next batch wait. Ids below that can at most
   * overshoot by `minShare`, inside the margin under Amplitude's limit.
   */
  exportHot(minShare = 0.05, maxIds = 200): IdSends {
    const now = this.now();
    const hot: [string, { at: number; n: number }[], number][] = [];
    for (const id of this.history.keys()) {
      const sends = this.live(id, now);
      const total = sends.reduce((a, s) => a + s.n, 0);
      if (total >= this.perWindow * minShare) hot.push([id, sends, total]);
    }
    hot.sort((a, b) => b[2] - a[2]);
    return Object.fromEntries(hot.slice(0, maxIds).map(([id, sends]) => [id, sends.map((s): [number, number] => [s.at, s.n])]));
  }

  /** Milliseconds to wait before `events` can be sent with every id within its budget (0: now). */
  delayFor(events: AmplitudeEvent[]): number {
    const now = this.now();
    let wait = 0;
    for (const [id, n] of idsOf(events, this.hashIds)) {
      // More than a window's worth in one batch can never fit: waiting would not help, Amplitude decides.
      if (n > this.perWindow) continue;
      const sends = this.live(id, now);
      let total = n + sends.reduce((a, s) => a + s.n, 0);
      for (const s of sends) {
        if (total <= this.perWindow) break;
        total -= s.n;
        wait = Math.max(wait, s.at + this.windowMs - now);
      }
    }
    return wait;
  }

  record(events: AmplitudeEvent[]): void {
    const now = this.now();
    for (const [id, n] of idsOf(events, this.hashIds)) {
      const sends = this.live(id, now);
      sends.push({ at: now, n });
      this.history.set(id, sends);
    }
    // Forget ids that sent nothing within the window, so memory follows the active ids only.
    if (this.history.size > 10_000) for (const id of [...this.history.keys()]) if (this.live(id, now).length === 0) this.history.delete(id);
  }

  private live(id: string, now: number): { at: number; n: number }[] {
    const sends = this.history.get(id) ?? [];
    while (sends.length > 0 && sends[0].at <= now - this.windowMs) sends.shift();
    return sends;
  }
}
