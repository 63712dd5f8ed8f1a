import http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CheckResult } from '../connectors/warehouse/types';

/**
 * The platform's own Prometheus metrics, kept by the worker process: what flows moved, how long
 * runs took, how far cursors lag, dead letters and check results. The Temporal SDK's metrics
 * (task latencies, slots, polls) come from the Rust core on their own endpoint
 * (WORKER_METRICS_BIND, :9464); these are served on APP_METRICS_BIND (:9465). Prometheus scrapes
 * both (deploy/prometheus/prometheus.yml).
 */
export class PlatformMetrics {
  readonly registry = new Registry();
  readonly records = new Counter({
    name: 'novade_records_total',
    help: 'Records moved by the sync flows, by flow, stream and kind (read, written, sent, rejected)',
    labelNames: ['flow', 'stream', 'kind'] as const,
    registers: [this.registry],
  });
  readonly runs = new Counter({
    name: 'novade_stream_runs_total',
    help: 'Finished stream runs by outcome (succeeded, failed, stopped)',
    labelNames: ['flow', 'stream', 'status'] as const,
    registers: [this.registry],
  });
  readonly runDuration = new Histogram({
    name: 'novade_stream_run_duration_seconds',
    help: 'Duration of stream runs, start to finish',
    labelNames: ['flow', 'stream', 'status'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200],
    registers: [this.registry],
  });
  readonly cursorLag = new Gauge({
    name: 'novade_cursor_lag_seconds',
    help: 'Age of the newest source timestamp in the cursor when a stream run finished',
    labelNames: ['flow', 'stream'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Gauge({
    name: 'novade_dead_letters_recent',
    help: 'Dead letters recorded within ALERT_DEAD_LETTERS_WINDOW, per flow (measured by organize)',
    labelNames: ['flow'] as const,
    registers: [this.registry],
  });
  readonly checkPassed = new Gauge({
    name: 'novade_check_passed',
    help: 'Last result of a data-quality check: 1 passed, 0 failed',
    labelNames: ['check', 'table'] as const,
    registers: [this.registry],
  });
  readonly checkObserved = new Gauge({
    name: 'novade_check_observed',
    help: 'Value a data-quality check measured (duplicates, null keys, missing keys, age in seconds)',
    labelNames: ['check', 'table'] as const,
    registers: [this.registry],
  });
  readonly ingestFlushStage = new Histogram({
    name: 'novade_amplitude_flush_stage_seconds',
    help: 'Time of each stage of an Amplitude ingest flush activity: check (re-validating the events), bronze (append), silver (merge), dead_letters',
    labelNames: ['stage'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly organizeMerged = new Counter({
    name: 'novade_organize_merged_rows_total',
    help: 'Bronze rows the organize flow merged into silver because they were missing there',
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });
  readonly bronzePurged = new Counter({
    name: 'novade_bronze_purged_rows_total',
    help: 'Bronze rows deleted by the retention clean-up',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });
  readonly warehouseOwner = new Gauge({
    name: 'novade_worker_warehouse_owner',
    help: 'This worker holds the warehouse and runs the flows (1), or waits as a standby for the DuckDB file another worker holds (0)',
    registers: [this.registry],
  });
  readonly alerts = new Counter({
    name: 'novade_alerts_total',
    help: 'Alert and recovery messages sent, by scope',
    labelNames: ['scope', 'kind'] as const,
    registers: [this.registry],
  });

  readonly trackingCalls = new Counter({
    name: 'novade_tracking_calls_total',
    help: 'Website calls checked against the tracking plan, by call type and outcome (allow, block)',
    labelNames: ['call_type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly trackingViolations = new Counter({
    name: 'novade_tracking_violations_total',
    help: 'Tracking plan violations found in website calls, by call type, violation type and what was done (allowed, omitted, blocked)',
    labelNames: ['call_type', 'type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly trackingViolationsRecent = new Gauge({
    name: 'novade_tracking_violations_recent',
    help: 'Calls with a tracking plan violation within TRACKING_VIOLATIONS_WINDOW, by violation type (measured by organize)',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly trackingParityRowsOut = new Gauge({
    name: 'novade_tracking_parity_rows_out_of_tolerance',
    help: 'Rows (day, event type) out of tolerance in the last daily parity check (Segment vs novade-sync vs Amplitude)',
    registers: [this.registry],
  });
  readonly trackingParityMissing = new Gauge({
    name: 'novade_tracking_parity_missing_calls',
    help: 'Calls missing on a side in the last daily parity check (segment, collected, amplitude, extra_in_amplitude)',
    labelNames: ['side'] as const,
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'novade_worker_' });
  }

  /** One call checked against the tracking plan (tracking/enforce.ts). */
  recordEnforcement(r: { callType: string; outcome: string; violations: readonly { type: string; outcome: string }[] }): void {
    this.trackingCalls.inc({ call_type: r.callType, outcome: r.outcome });
    for (const v of r.violations) this.trackingViolations.inc({ call_type: r.callType, type: v.type, outcome: v.outcome });
  }

  recordChecks(results: readonly Pick<CheckResult, 'check' | 'table' | 'passed' | 'observed'>[]): void {
    for (const r of results) {
      this.checkPassed.set({ check: r.check, table: r.table }, r.passed ? 1 : 0);
      this.checkObserved.set({ check: r.check, table: r.table }, r.observed);
    }
  }
}

/** Newest ISO-8601 timestamp found in a cursor (cursors are source-specific JSON). */
export function newestTimestamp(cursor: unknown, depth = 0): number | undefined {
  if (depth > 4 || cursor === null || cursor === undefined) return undefined;
  if (typeof cursor === 'string') {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(cursor)) return undefined;
    const t = Date.parse(cursor);
    return Number.isNaN(t) ? undefined : t;
  }
  if (typeof cursor !== 'object') return undefined;
  let newest: number | undefined;
  for (const v of Object.values(cursor as Record<string, unknown>)) {
    const t = newestTimestamp(v, depth + 1);
    if (t !== undefined && (newest === undefined || t > newest)) newest = t;
  }
  return newest;
}

/** Serves /metrics of a registry on host:port; answers the server once it listens. */
export function serveMetrics(registry: Registry, bind: string): Promise<http.Server> {
  const i = bind.lastIndexOf(':');
  const host = bind.slice(0, i);
  const port = Number(bind.slice(i + 1));
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: metrics are at /metrics\n');
      return;
    }
    registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text))
      .catch((err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)));
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`APP_METRICS_BIND ${bind} is already in use: pick another port (e.g. 0.0.0.0:9466).`) : err),
    );
    server.listen(port, host, () => resolve(server));
  });
}
