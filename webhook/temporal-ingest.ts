import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { isClosingRefusal, withoutClosingRetry } from '../lib/grpc-retry';
import type { IngestSignal } from '../activities/push-ingest-types';
import type { IngestInput, IngestSettings } from '../workflows/push-ingest';
import { INGEST_EVENTS_SIGNAL, ingestWorkflowId, ingestWorkflowPrefix, ingestWorkflowType, type IngestSource } from '../workflows/push-ingest-names';
import type { EventIngest } from './amplitude-handler';
import { isContentRefusal } from './ingest-guard';
import type { WebhookMetrics } from './metrics';
import { SignalPacer } from './signal-pacer';

/**
 * Makes a push source's events durable by signal-with-start into its ingest workflows (one
 * implementation for every source, DESIGN.md "Ingest path": the source picks the workflow ids and the
 * flush activity, nothing else differs). Requests wait in one queue and leave grouped: a request
 * reaching an idle webhook leaves on the next turn of the event loop (with whatever arrived in the
 * same turn); under load, a SignalPacer spaces signals `lingerMs`
 * apart and the requests that arrive meanwhile travel together, so signals grow instead of
 * multiplying. Each signal costs the Temporal server a history write and the worker a workflow task
 * whatever its size, so signals per second is what the machine pays for. A request is never split:
 * its events are durable together or not at all.
 *
 * A group goes to the shard its first request's uuid hashes to (`shards` workflows) when that shard
 * is free, else to the next free one: a request never waits behind another shard's signal in flight
 * while a shard is free, and with at most `maxInFlight` signals per shard, up to `shards` round trips
 * overlap. Which shard holds an event does not matter downstream: every shard merges into the same
 * silver table on `event_key`.
 *
 * While a shard's run continues as new and a signal raced it, the server refuses that shard's signals
 * ("workflow is closing") until the worker has replayed the run (0.3-0.8 s): the refused group goes
 * back to the head of the queue, to another shard, and the shard is avoided for `closingHoldMs`.
 *
 * Admission control: a shard batching locally keeps its workflow task open through its flush and its
 * gather, and the server holds the signals that arrive meanwhile for the next task; once more than
 * 100 of them or 2 MiB wait, it force-closes the task, which strands the shard (see
 * workflows/push-ingest.ts). A task stays open at most until the worker completes it, which the SDK
 * does by 80 % of the workflow task timeout (10 s) even while a local activity runs. So each shard
 * takes at most `admission.maxSignals` signals and `admission.maxBytes` bytes within any
 * `admission.windowMs` (defaults: 64 signals and 1 MiB per 10 s, well under both limits); a group
 * goes to a shard with room, and grows while none has. A request that has waited `admission.maxWaitMs`
 * in the queue is refused with IngestBusyError (the routes answer 503 + Retry-After): nothing stored.
 */

export interface TemporalIngestOptions {
  client: Client;
  taskQueue: string;
  /** Whose events these are (default amplitude): decides the workflow's flush activity and the default prefix. */
  source?: IngestSource;
  /** Workflow ids are `<prefix>-<shard>` (default `<source>-ingest`). */
  workflowIdPrefix?: string;
  shards?: number;
  /**
   * Under load, signals leave at least this far apart (on average; an idle webhook may send one per
   * shard at once), so a request waits at most this long for company. 0: no pacing, a group leaves as
   * soon as a shard is free.
   */
  lingerMs?: number;
  /** Signals per shard awaiting Temporal at once (default 1). */
  maxInFlight?: number;
  /** A group stops growing at this many body bytes (Temporal payloads must stay well under 2 MB). */
  maxSignalBytes?: number;
  /**
   * After a "workflow is closing" refusal, groups avoid that shard for this long (default 500 ms,
   * about one replay); then the shard is tried again.
   */
  closingHoldMs?: number;
  /** Answer 503 when Temporal has not accepted the signal within this time. */
  timeoutMs?: number;
  /**
   * Backpressure: while an ingest workflow's history is past these limits (its flushes are failing,
   * e.g. the warehouse or every worker is down), requests for its shard get 503 so that Amplitude
   * retries later, instead of growing the history towards Temporal's hard limit.
   */
  maxHistoryBytes?: number;
  maxHistoryEvents?: number;
  /**
   * How often each shard's history size is checked (a describe call per shard, no worker needed;
   * default 5 s). Admission control bounds what a shard takes to 1 MiB per 10 s, so a shard passes
   * its limit by at most half a MiB between two checks, while a describe costs the server about as
   * much as a signal.
   */
  guardIntervalMs?: number;
  /** What one shard may be sent within a window (see "Admission control" above); false turns it off (tests only). */
  admission?: Partial<AdmissionOptions> | false;
  /** Passed to the workflow when a signal starts it. */
  settings?: Partial<IngestSettings>;
  metrics?: WebhookMetrics;
}

export interface AdmissionOptions {
  /** Longer than a workflow task can stay open (the SDK completes one by 8 s of its 10 s timeout). */
  windowMs: number;
  /** Signals per shard within the window (the server force-closes a task past 100 waiting). */
  maxSignals: number;
  /** Signal bytes per shard within the window (the server force-closes a task past 2 MiB waiting); one larger request alone still goes, to a shard with nothing in its window. */
  maxBytes: number;
  /** How long a request may wait in the queue before it is refused (IngestBusyError). */
  maxWaitMs: number;
}

export const DEFAULT_ADMISSION: AdmissionOptions = { windowMs: 10_000, maxSignals: 64, maxBytes: 1024 * 1024, maxWaitMs: 2_000 };

interface Waiter {
  signal: IngestSignal;
  bytes: number;
  /** Shard its key hashes to: where its group goes when that shard is free. */
  home: number;
  /** performance.now() at submit, for the queue-wait metric. */
  queuedAt: number;
  /** Refused by a closing shard: it already paid its wait, it goes again without pacing. */
  refused?: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

interface Shard {
  /** Why the shard refuses new events, while its history is too large. */
  overloaded?: string;
  inFlight: number;
  /** performance.now() until which the shard is taken for closing (see closingHoldMs). */
  closingUntil: number;
  /** Signals sent within the admission window, oldest first: when (performance.now()) and bytes. */
  sent: { at: number; bytes: number }[];
  sentBytes: number;
}

/** FNV-1a: cheap and stable across processes, so one uuid always hashes to the same shard. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

export class IngestBackpressureError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'IngestBackpressureError';
  }
}

/** No shard had room for the request within the admission wait: nothing was stored, retry after `retryAfterSeconds`. */
export class IngestBusyError extends Error {
  constructor(
    waitedMs: number,
    readonly retryAfterSeconds: number,
  ) {
    super(`no ingest shard could take the request within ${Math.round(waitedMs)} ms (each was at its admission budget or awaiting Temporal)`);
    this.name = 'IngestBusyError';
  }
}

export class IngestTimeoutError extends Error {
  constructor(ms: number) {
    super(`Temporal did not accept the events within ${ms} ms`);
    this.name = 'IngestTimeoutError';
  }
}

/**
 * Temporal refused this request alone because of what it carries (its payload cannot be encoded, or
 * the server refused it as invalid): sending it again would fail again, so the route answers 4xx.
 */
export class IngestContentError extends Error {
  constructor(readonly reason: string) {
    super(`Temporal refused the request because of its content: ${reason}`);
    this.name = 'IngestContentError';
  }
}

const errorText = (err: unknown) => (err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err));

export class TemporalIngest implements EventIngest {
  private readonly shards: Shard[];
  private readonly queue: Waiter[] = [];
  private readonly pacer: SignalPacer;
  private readonly source: IngestSource;
  private readonly prefix: string;
  private readonly maxInFlight: number;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly closingHoldMs: number;
  private readonly admission?: AdmissionOptions;
  /** The pump's wake-up while the queue waits for admission room or a waiter's deadline: when, and its timer. */
  private wake?: { at: number; timer: NodeJS.Timeout };
  /** A pump is due: on the next turn (`turn`) or when the pacer has a token (`timer`). */
  private pumpDue?: 'turn' | 'timer';
  private guardTimer?: NodeJS.Timeout;
  /** Calls to Temporal not yet settled, including those a timeout gave up on: close() waits for them. */
  private readonly outstanding = new Set<Promise<unknown>>();

  constructor(private readonly opts: TemporalIngestOptions) {
    this.shards = Array.from({ length: Math.max(1, opts.shards ?? 8) }, () => ({ inFlight: 0, closingUntil: 0, sent: [], sentBytes: 0 }));
    this.admission = opts.admission === false ? undefined : { ...DEFAULT_ADMISSION, ...opts.admission };
    this.source = opts.source ?? 'amplitude';
    this.prefix = opts.workflowIdPrefix ?? ingestWorkflowPrefix(this.source);
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
    // One token per shard: an idle webhook hit by a burst opens every shard at once.
    this.pacer = new SignalPacer(opts.lingerMs ?? 20, this.shards.length);
    this.maxBytes = opts.maxSignalBytes ?? 512 * 1024;
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.closingHoldMs = opts.closingHoldMs ?? 500;
  }

  get workflowIds(): string[] {
    return this.shards.map((_, i) => ingestWorkflowId(this.prefix, i));
  }

  submit(signal: IngestSignal, opts: { key: string; bytes: number }): Promise<void> {
    const home = shardOf(opts.key, this.shards.length);
    this.guardTimer ??= this.startGuard();
    const overloaded = this.shards[home].overloaded;
    if (overloaded) return Promise.reject(new IngestBackpressureError(overloaded));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ signal, bytes: opts.bytes, home, queuedAt: performance.now(), resolve, reject });
      // The next turn still gathers the requests parsed in this one.
      if (this.pumpDue === undefined) {
        this.pumpDue = 'turn';
        setImmediate(() => {
          if (this.pumpDue === 'turn') this.pumpDue = undefined;
          this.pump();
        });
      }
    });
  }

  private isOpen(shard: Shard, now: number, bytes: number): boolean {
    return shard.inFlight < this.maxInFlight && shard.closingUntil <= now && !shard.overloaded && this.admits(shard, now, bytes);
  }

  /** Bytes the shard may still be sent now (Infinity without admission control; 0 when out of signals). */
  private room(shard: Shard, now: number): number {
    const a = this.admission;
    if (!a) return Infinity;
    while (shard.sent.length > 0 && shard.sent[0].at <= now - a.windowMs) shard.sentBytes -= shard.sent.shift()!.bytes;
    return shard.sent.length >= a.maxSignals ? 0 : a.maxBytes - shard.sentBytes;
  }

  /**
   * Whether a group led by a request of `bytes` may go to the shard now. A shard with nothing in its
   * window takes one request larger than the byte budget, alone (the routes keep every request under
   * Temporal's payload limit, so it alone stays under what may wait for a task).
   */
  private admits(shard: Shard, now: number, bytes: number): boolean {
    const room = this.room(shard, now);
    return room >= bytes || (room > 0 && shard.sent.length === 0);
  }

  /** When the shard's oldest signal leaves the admission window (room grows then). */
  private roomAt(shard: Shard): number | undefined {
    return this.admission && shard.sent.length > 0 ? shard.sent[0].at + this.admission.windowMs : undefined;
  }

  /**
   * Where the next group goes: `home` if it is free, else the next free shard. When none is free
   * and no signal is in flight to free one, the shard that started closing first, whose replay
   * should end first (the group then waits for it under the connection's closing retry).
   */
  private pickShard(home: number, bytes: number): { index: number; closing: boolean } | undefined {
    const now = performance.now();
    for (let step = 0; step < this.shards.length; step++) {
      const i = (home + step) % this.shards.length;
      if (this.isOpen(this.shards[i], now, bytes)) return { index: i, closing: false };
    }
    if (this.shards.some((s) => s.inFlight > 0)) return undefined;
    // Out of admission room: wait for it, never past the budget, even for a closing shard.
    let best = -1;
    this.shards.forEach((s, i) => {
      if (this.admits(s, now, bytes) && (best < 0 || s.closingUntil < this.shards[best].closingUntil)) best = i;
    });
    if (best < 0) return undefined;
    return { index: best, closing: this.shards[best].closingUntil > now };
  }

  /** Sends queued groups while a shard is free and the pacer allows; a completion or the pacer's timer calls it again. */
  private pump(): void {
    this.refuseExpired();
    while (this.queue.length > 0) {
      const target = this.pickShard(this.queue[0].home, this.queue[0].bytes);
      if (!target) {
        this.wakeForRoom();
        return;
      }
      const refused = this.queue[0].refused === true;
      const wait = refused ? 0 : this.pacer.waitMs();
      if (wait > 0) {
        if (this.pumpDue !== 'timer') {
          this.pumpDue = 'timer';
          setTimeout(() => {
            this.pumpDue = undefined;
            this.pump();
          }, wait);
        }
        return;
      }
      if (!refused) this.pacer.take();
      const group: Waiter[] = [];
      let bytes = 0;
      const limit = Math.min(this.maxBytes, this.room(this.shards[target.index], performance.now()));
      while (this.queue.length > 0 && (group.length === 0 || bytes + this.queue[0].bytes <= limit)) {
        const w = this.queue.shift()!;
        bytes += w.bytes;
        group.push(w);
      }
      void this.send(target.index, group, target.closing, bytes);
    }
  }

  /** Refuses the requests that waited longer than the admission allows (none normally: the head is served first). */
  private refuseExpired(): void {
    const a = this.admission;
    if (!a || this.queue.length === 0) return;
    const now = performance.now();
    if (now - this.queue[0].queuedAt < a.maxWaitMs) return;
    const earliest = Math.min(...this.shards.map((s) => this.roomAt(s) ?? now));
    const retryAfter = Math.max(1, Math.ceil((earliest - now) / 1000));
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const w = this.queue[i];
      if (now - w.queuedAt < a.maxWaitMs) continue;
      this.queue.splice(i, 1);
      this.opts.metrics?.admissionRefusals.inc();
      w.reject(new IngestBusyError(now - w.queuedAt, retryAfter));
    }
  }

  /** Pumps again when a shard's window frees room or the head of the queue reaches its deadline, whichever comes first. */
  private wakeForRoom(): void {
    const a = this.admission;
    if (!a || this.queue.length === 0) return;
    const times = this.shards.map((s) => this.roomAt(s)).filter((t): t is number => t !== undefined);
    const at = Math.min(...times, this.queue[0].queuedAt + a.maxWaitMs);
    if (this.wake && this.wake.at <= at) return;
    const now = performance.now();
    const head = this.queue[0].bytes;
    if (this.shards.some((s) => s.inFlight < this.maxInFlight && s.closingUntil <= now && !s.overloaded && !this.admits(s, now, head))) this.opts.metrics?.admissionWaits.inc();
    if (this.wake) clearTimeout(this.wake.timer);
    const timer = setTimeout(() => {
      this.wake = undefined;
      this.pump();
    }, Math.max(1, Math.ceil(at - performance.now())));
    this.wake = { at, timer };
  }

  private async send(index: number, group: Waiter[], waitIfClosing: boolean, bytes: number): Promise<void> {
    const shard = this.shards[index];
    shard.inFlight++;
    // Counted from when it leaves: the server may hold it for the open task from then on.
    const entry = { at: performance.now(), bytes };
    if (this.admission) {
      shard.sent.push(entry);
      shard.sentBytes += bytes;
    }
    const signal: IngestSignal = { events: group.flatMap((w) => w.signal.events), rejected: group.flatMap((w) => w.signal.rejected) };
    const started = performance.now();
    for (const w of group) this.opts.metrics?.queueWait.observe((started - w.queuedAt) / 1000);
    try {
      // Sent to a closing shard only when every shard is closing: then it waits for the replay,
      // retried within milliseconds by the connection (withClosingRetry), as long as the timeout allows.
      await (waitIfClosing ? this.signalWithStart(index, signal) : withoutClosingRetry(() => this.signalWithStart(index, signal)));
      this.opts.metrics?.signalLatency.observe((performance.now() - started) / 1000);
      this.opts.metrics?.signalEvents.observe(signal.events.length + signal.rejected.length);
      for (const w of group) w.resolve();
    } catch (err) {
      // A refused signal stored nothing: it leaves the window. One that timed out may still have been stored: it stays.
      if (!(err instanceof IngestTimeoutError)) this.forget(shard, entry);
      if (!waitIfClosing && isClosingRefusal(err)) this.reroute(index, group);
      else if (isContentRefusal(err)) await this.sendAlone(index, group, err);
      else for (const w of group) w.reject(err);
    } finally {
      shard.inFlight--;
      this.pump();
    }
  }

  private forget(shard: Shard, entry: { at: number; bytes: number }): void {
    const i = shard.sent.indexOf(entry);
    if (i < 0) return;
    shard.sent.splice(i, 1);
    shard.sentBytes -= entry.bytes;
  }

  /**
   * A signal refused for its content stored nothing: each request of the group is sent again on its
   * own (on the same shard, in parallel), so only the one Temporal cannot take is refused, with an
   * IngestContentError. Rare (the routes' guard stops such requests before they join a group), so the
   * extra round trips do not matter.
   */
  private async sendAlone(index: number, group: Waiter[], err: unknown): Promise<void> {
    if (group.length === 1) {
      group[0].reject(new IngestContentError(errorText(err)));
      return;
    }
    this.opts.metrics?.contentSplits.inc();
    const shard = this.shards[index];
    await Promise.all(
      group.map(async (w) => {
        // Counted like any signal (the group's own entry was forgotten: it stored nothing).
        if (this.admission) {
          shard.sent.push({ at: performance.now(), bytes: w.bytes });
          shard.sentBytes += w.bytes;
        }
        try {
          await this.signalWithStart(index, w.signal);
          w.resolve();
        } catch (alone) {
          w.reject(isContentRefusal(alone) ? new IngestContentError(errorText(alone)) : alone);
        }
      }),
    );
  }

  /** Nothing was stored by the refused signal: its requests go back to the head of the queue, for another shard. */
  private reroute(index: number, group: Waiter[]): void {
    const now = performance.now();
    this.shards[index].closingUntil = now + this.closingHoldMs;
    const elsewhere = this.shards.some((s) => s.closingUntil <= now && !s.overloaded);
    for (const w of group) w.refused = true;
    this.queue.unshift(...group);
    this.opts.metrics?.closingReroutes.inc({ outcome: elsewhere ? 'rerouted' : 'wait' });
  }

  private async signalWithStart(index: number, signal: IngestSignal): Promise<void> {
    const { client } = this.opts;
    // Amplitude's input leaves the source out, as its shards always have (the workflow's default).
    const input: IngestInput = { shard: index, ...(this.source === 'amplitude' ? {} : { source: this.source }), settings: this.opts.settings };
    const call = this.track(
      client.connection.withDeadline(Date.now() + this.timeoutMs, () =>
        client.workflow.signalWithStart(ingestWorkflowType(this.source), {
        workflowId: ingestWorkflowId(this.prefix, index),
        taskQueue: this.opts.taskQueue,
        args: [input],
          signal: INGEST_EVENTS_SIGNAL,
          signalArgs: [signal],
        }),
      ),
    );
    // The deadline does not cover a lazy connection's first connect: bound the whole call as well.
    // A call that loses the race may still fail later (e.g. on close): that failure is already answered.
    call.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new IngestTimeoutError(this.timeoutMs)), this.timeoutMs);
    });
    try {
      await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops the history guard and waits until every call to Temporal has settled (each is bounded by
   * its deadline), so the connection can be closed without a retry firing on a closed channel.
   */
  async close(): Promise<void> {
    clearInterval(this.guardTimer);
    if (this.wake) clearTimeout(this.wake.timer);
    await Promise.allSettled([...this.outstanding]);
  }

  private track<T>(call: Promise<T>): Promise<T> {
    this.outstanding.add(call);
    const done = () => this.outstanding.delete(call);
    call.then(done, done);
    return call;
  }

  private startGuard(): NodeJS.Timeout {
    const maxBytes = this.opts.maxHistoryBytes ?? 16 * 1024 * 1024;
    const maxEvents = this.opts.maxHistoryEvents ?? 20_000;
    let running = false;
    const check = async () => {
      if (running) return;
      running = true;
      try {
        await Promise.all(
          this.shards.map(async (shard, i) => {
            try {
              const d = await this.track(
                this.opts.client.connection.withDeadline(Date.now() + 2_000, () => this.opts.client.workflow.getHandle(ingestWorkflowId(this.prefix, i)).describe()),
              );
              const size = d.historySize ?? 0;
              shard.overloaded =
                size > maxBytes || d.historyLength > maxEvents
                  ? `ingest shard ${i} is behind (history ${d.historyLength} events, ${Math.round(size / 1024)} KiB): its flushes to the warehouse are not completing. Retry later.`
                  : undefined;
            } catch (err) {
              // Not started yet: nothing to protect. Temporal unreachable: the signal itself will tell.
              if (err instanceof WorkflowNotFoundError) shard.overloaded = undefined;
            }
          }),
        );
      } finally {
        running = false;
      }
    };
    const timer = setInterval(() => void check(), this.opts.guardIntervalMs ?? 5_000);
    timer.unref();
    return timer;
  }

  /** Ready when Temporal answers a cheap call within `timeoutMs`. */
  async ready(timeoutMs = 2_000): Promise<{ ready: boolean; reason?: string }> {
    const { client } = this.opts;
    let timer: NodeJS.Timeout | undefined;
    const call = this.track(client.connection.withDeadline(Date.now() + timeoutMs, () => client.workflowService.getSystemInfo({})));
    call.catch(() => undefined);
    try {
      await Promise.race([
        call,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return { ready: true };
    } catch (err) {
      return { ready: false, reason: `Temporal is not reachable: ${(err as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }
}
