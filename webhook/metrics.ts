import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one webhook host (fastify server or Azure Function instance). Each host owns
 * its registry, so tests and several apps in one process never share counters.
 */
export class WebhookMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'webhook_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'] as const, registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'webhook_request_duration_seconds',
    help: 'Time from request to answer (for /amplitude: until Temporal accepted the events)',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly eventsAccepted = new Counter({ name: 'webhook_events_accepted_total', help: 'Events durably accepted (signalled to Temporal)', labelNames: ['source'] as const, registers: [this.registry] });
  readonly eventsRejected = new Counter({
    name: 'webhook_events_rejected_total',
    help: 'Events refused: invalid (sent to dead letters) or not made durable (answered 503)',
    labelNames: ['source', 'reason'] as const,
    registers: [this.registry],
  });
  readonly signalEvents = new Histogram({
    name: 'webhook_ingest_signal_events',
    help: 'Events per Temporal signal (requests grouped within a few milliseconds)',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [this.registry],
  });

  readonly signalLatency = new Histogram({
    name: 'webhook_ingest_signal_seconds',
    help: 'Time for Temporal to accept one signal-with-start (the floor of the acknowledgement latency)',
    buckets: [0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly queueWait = new Histogram({
    name: 'webhook_ingest_queue_seconds',
    help: 'Time a request waits for its shard before its signal leaves (grouping with other requests, or a signal already in flight)',
    buckets: [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly closingReroutes = new Counter({
    name: 'webhook_ingest_closing_refusals_total',
    help: 'Signals a shard refused while its run continued as new ("workflow is closing"): rerouted to another shard, or waiting for this one when every shard was closing',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly contentSplits = new Counter({
    name: 'webhook_ingest_content_splits_total',
    help: 'Grouped signals Temporal refused for their content: each request of the group was sent again alone, so only the culprit was refused',
    registers: [this.registry],
  });

  readonly admissionRefusals = new Counter({
    name: 'webhook_ingest_admission_refusals_total',
    help: 'Requests refused (503 + Retry-After, nothing stored) because no ingest shard had admission room within WEBHOOK_INGEST_ADMISSION_WAIT_MS',
    registers: [this.registry],
  });

  readonly admissionWaits = new Counter({
    name: 'webhook_ingest_admission_waits_total',
    help: 'Times the queue waited because every free ingest shard was at its admission budget (signals or bytes within the window)',
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Labelled children by route and status: resolving labels per request (hashing them) showed in the webhook's profile. */
  private readonly byRoute = new Map<string, { count: { inc(): void }; latency: { observe(v: number): void } }>();

  observeRequest(route: string, status: number, seconds: number): void {
    const key = `${route} ${status}`;
    let m = this.byRoute.get(key);
    if (!m) this.byRoute.set(key, (m = { count: this.requests.labels({ route, status: String(status) }), latency: this.latency.labels({ route }) }));
    m.count.inc();
    m.latency.observe(seconds);
  }
}
