import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { isClosingRefusal, withoutClosingRetry } from '../lib/grpc-retry';
import type { IngestSignal } from '../activities/amplitude-ingest-types';
import type { AmplitudeIngestInput, AmplitudeIngestSettings } from '../workflows/amplitude-ingest';
import { AMPLITUDE_EVENTS_SIGNAL, AMPLITUDE_INGEST_WORKFLOW, ingestWorkflowId } from '../workflows/amplitude-ingest-names';
import type { EventIngest } from './amplitude-handler';
import type { WebhookMetrics } from './metrics';

/**
 * Makes webhook events durable by signal-with-start into the ingest workflows. Requests are spread
 * over `shards` workflows by a hash of their first event's uuid. Grouping adapts to load like Nagle's
 * algorithm: a request reaching an idle shard leaves at once (with whatever arrived in the same turn
 * of the event loop); requests that arrive while a signal is in flight wait for it and travel together
 * in the next one, so under load signals grow instead of multiplying. Each signal costs the Temporal
 * server a history write and the worker a workflow task, whatever its size, so signals per second is
 * what the machine pays for. A request is never split: its events are durable together or not at all.
 *
 * While a shard's run continues as new and a signal raced it, the server refuses that shard's signals
 * ("workflow is closing") until the worker has replayed the run (0.3-0.8 s): the refused group goes
 * to the next shard at once, and the shard is avoided for `closingHoldMs`. Which shard holds an event
 * does not matter downstream: every shard merges into the same silver table on `event_key`.
 */

export interface TemporalIngestOptions {
  client: Client;
  taskQueue: string;
  /** Workflow ids are `<prefix>-<shard>`. */
  workflowIdPrefix?: string;
  shards?: number;
  /**
   * With `maxInFlight` > 1: how long requests wait for company before a further signal joins one
   * already in flight. An idle shard never waits.
   */
  lingerMs?: number;
  /** Signals per shard awaiting Temporal at once; more overlap round trips, fewer make bigger groups (default 1). */
  maxInFlight?: number;
  /** A group stops growing at this many body bytes (Temporal payloads must stay well under 2 MB). */
  maxSignalBytes?: number;
  /**
   * After a "workflow is closing" refusal, new requests for that shard go to the next one for this
   * long (default 500 ms, about one replay); then the shard is tried again.
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
  /** How often each shard's history size is checked (a describe call, no worker needed). */
  guardIntervalMs?: number;
  /** Passed to the workflow when a signal starts it. */
  settings?: Partial<AmplitudeIngestSettings>;
  metrics?: WebhookMetrics;
}

interface Waiter {
  signal: IngestSignal;
  bytes: number;
  /** performance.now() at submit, for the queue-wait metric. */
  queuedAt: number;
  /** Shards that refused it as closing; past the shard count it waits for its own shard instead. */
  hops: number;
  resolve(): void;
  reject(err: unknown): void;
}

interface Shard {
  queue: Waiter[];
  /** Why the shard refuses new events, while its history is too large. */
  overloaded?: string;
  inFlight: number;
  /** A send is scheduled (next turn of the event loop, or after the linger). */
  scheduled: boolean;
  /** performance.now() until which the shard is taken for closing (see closingHoldMs). */
  closingUntil: number;
}

/** FNV-1a: cheap and stable across processes, so one uuid always lands on the same shard. */
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

export class IngestTimeoutError extends Error {
  constructor(ms: number) {
    super(`Temporal did not accept the events within ${ms} ms`);
    this.name = 'IngestTimeoutError';
  }
}

export class TemporalIngest implements EventIngest {
  private readonly shards: Shard[];
  private readonly prefix: string;
  private readonly linger: number;
  private readonly maxInFlight: number;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly closingHoldMs: number;
  private guardTimer?: NodeJS.Timeout;
  /** Calls to Temporal not yet settled, including those a timeout gave up on: close() waits for them. */
  private readonly outstanding = new Set<Promise<unknown>>();

  constructor(private readonly opts: TemporalIngestOptions) {
    this.shards = Array.from({ length: Math.max(1, opts.shards ?? 4) }, () => ({ queue: [], inFlight: 0, scheduled: false, closingUntil: 0 }));
    this.prefix = opts.workflowIdPrefix ?? 'amplitude-ingest';
    this.linger = opts.lingerMs ?? 2;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
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
    const index = this.openShardFrom(home);
    return new Promise<void>((resolve, reject) => {
      this.shards[index].queue.push({ signal, bytes: opts.bytes, queuedAt: performance.now(), hops: 0, resolve, reject });
      this.schedule(index);
    });
  }

  /** `from` unless it is closing: then the next shard neither closing nor behind, or `from` if there is none. */
  private openShardFrom(from: number): number {
    const now = performance.now();
    if (this.shards[from].closingUntil <= now) return from;
    for (let step = 1; step < this.shards.length; step++) {
      const i = (from + step) % this.shards.length;
      if (this.shards[i].closingUntil <= now && !this.shards[i].overloaded) return i;
    }
    return from;
  }

  private schedule(index: number): void {
    const shard = this.shards[index];
    if (shard.inFlight >= this.maxInFlight || shard.scheduled || shard.queue.length === 0) return;
    shard.scheduled = true;
    const go = () => {
      shard.scheduled = false;
      void this.send(index);
    };
    // Idle: go on the next turn, which still gathers the requests parsed in this one. Busy: linger,
    // since the signal in flight will carry whoever arrives meanwhile when it completes anyway.
    if (shard.inFlight === 0) setImmediate(go);
    else setTimeout(go, this.linger);
  }

  private async send(index: number): Promise<void> {
    const shard = this.shards[index];
    // A completion may have sent the queue first; the next completion picks up whatever is left.
    if (shard.queue.length === 0 || shard.inFlight >= this.maxInFlight) return;
    const group: Waiter[] = [];
    let bytes = 0;
    while (shard.queue.length > 0 && (group.length === 0 || bytes + shard.queue[0].bytes <= this.maxBytes)) {
      const w = shard.queue.shift()!;
      bytes += w.bytes;
      group.push(w);
    }
    shard.inFlight++;
    const signal: IngestSignal = { events: group.flatMap((w) => w.signal.events), rejected: group.flatMap((w) => w.signal.rejected) };
    const started = performance.now();
    for (const w of group) this.opts.metrics?.queueWait.observe((started - w.queuedAt) / 1000);
    // A group that every shard refused as closing waits for its own shard's replay, retried within
    // milliseconds by the connection (withClosingRetry), as long as the timeout allows.
    const waitIfClosing = group.some((w) => w.hops >= this.shards.length);
    try {
      await (waitIfClosing ? this.signalWithStart(index, signal) : withoutClosingRetry(() => this.signalWithStart(index, signal)));
      this.opts.metrics?.signalLatency.observe((performance.now() - started) / 1000);
      this.opts.metrics?.signalEvents.observe(signal.events.length + signal.rejected.length);
      for (const w of group) w.resolve();
    } catch (err) {
      if (!waitIfClosing && isClosingRefusal(err)) this.reroute(index, group);
      else for (const w of group) w.reject(err);
    } finally {
      shard.inFlight--;
      // Whoever queued during the round trip has waited long enough: go now, no linger. What did not
      // fit in that signal takes a free slot, if any, as usual.
      if (shard.queue.length > 0) void this.send(index);
      this.schedule(index);
    }
  }

  /**
   * Nothing was stored by the refused signal: its requests go first in the next open shard's queue,
   * followed by those already queued for the closing shard. When every shard is closing, they wait
   * for the one that started closing first, whose replay should end first.
   */
  private reroute(index: number, group: Waiter[]): void {
    const shard = this.shards[index];
    shard.closingUntil = performance.now() + this.closingHoldMs;
    let to = this.openShardFrom(index);
    const waiting = to === index;
    if (waiting) to = this.shards.reduce((best, s, i) => (s.closingUntil < this.shards[best].closingUntil ? i : best), index);
    for (const w of group) w.hops = waiting ? this.shards.length : w.hops + 1;
    if (to === index) shard.queue.unshift(...group);
    else this.shards[to].queue.unshift(...group, ...shard.queue.splice(0));
    this.opts.metrics?.closingReroutes.inc({ outcome: waiting ? 'wait' : 'rerouted' });
    if (to !== index) this.schedule(to);
  }

  private async signalWithStart(index: number, signal: IngestSignal): Promise<void> {
    const { client } = this.opts;
    const input: AmplitudeIngestInput = { shard: index, settings: this.opts.settings };
    const call = this.track(
      client.connection.withDeadline(Date.now() + this.timeoutMs, () =>
        client.workflow.signalWithStart(AMPLITUDE_INGEST_WORKFLOW, {
        workflowId: ingestWorkflowId(this.prefix, index),
        taskQueue: this.opts.taskQueue,
        args: [input],
          signal: AMPLITUDE_EVENTS_SIGNAL,
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
    const timer = setInterval(() => void check(), this.opts.guardIntervalMs ?? 1_000);
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
