import type { BenchScenario } from '../scenario';
import { cpuSeconds } from '../process-probe';

/**
 * The floor of the webhook's acknowledgement: signal-with-start round trips to the Temporal dev server
 * alone, with no webhook, no worker and no warehouse, sent open-loop at a fixed rate (as the webhook's
 * paced queue sends them) to BENCH_SIGNAL_SHARDS workflows whose task queue no worker polls.
 *
 * BENCH_SIGNAL_RATE signals/s (default 40, what the webhook sends at 1,000 requests/s), each carrying
 * BENCH_SIGNAL_BYTES of payload (default 27,000: ~27 events) for BENCH_SIGNAL_SECONDS (default 30).
 * Prints p50/p90/p99/max and the dev server's CPU per signal; the slowest answer of each second goes
 * to stderr. No workflow task ever runs, so the histories only grow: keep runs short.
 */

const num = (name: string, dflt: number) => (process.env[name] ? Number(process.env[name]) : dflt);

const scenario: BenchScenario = {
  name: 'temporal-signal',
  description: 'signal-with-start round trips to the Temporal dev server alone (the acknowledgement floor)',
  async run() {
    const { Connection } = await import('@temporalio/client');
    const { benchClient } = await import('../temporal-client');
    const { startBenchDevServer } = await import('../dev-server');
    const rate = num('BENCH_SIGNAL_RATE', 40);
    const seconds = num('BENCH_SIGNAL_SECONDS', 30);
    const bytes = num('BENCH_SIGNAL_BYTES', 27_000);
    const shards = num('BENCH_SIGNAL_SHARDS', 4);

    const server = await startBenchDevServer();
    const connection = await Connection.connect({ address: server.address });
    try {
      const client = benchClient(connection, server.address);
      const blob = 'x'.repeat(bytes);
      const latencies: number[] = [];
      const slowest: number[] = [];
      const send = async (i: number, t0: number) => {
        const start = performance.now();
        await client.workflow.signalWithStart('amplitudeIngestWorkflow', {
          workflowId: `bench-signal-${i % shards}`,
          taskQueue: 'bench-signal-no-worker',
          args: [{ shard: i % shards }],
          signal: 'amplitude-events',
          signalArgs: [{ events: [{ blob, i }], rejected: [] }],
        });
        const ms = performance.now() - start;
        latencies.push(ms);
        const s = Math.floor((start - t0) / 1000);
        slowest[s] = Math.max(slowest[s] ?? 0, ms);
      };
      // Warm-up: creates the workflows and lets the server's and client's code paths compile.
      await Promise.all(Array.from({ length: 2 * shards }, (_, i) => send(i, performance.now())));
      latencies.length = 0;
      slowest.length = 0;

      const cpuBefore = cpuSeconds(server.process.pid);
      const t0 = performance.now();
      const inFlight: Promise<void>[] = [];
      // Open loop: a slow answer never delays the next send, as with the webhook's many requests.
      for (let i = 0; i < rate * seconds; i++) {
        const wait = t0 + (i * 1000) / rate - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        inFlight.push(send(i, t0));
      }
      await Promise.all(inFlight);
      const elapsed = (performance.now() - t0) / 1000;
      const serverCpu = cpuSeconds(server.process.pid) - cpuBefore;

      latencies.sort((a, b) => a - b);
      const q = (p: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1));
      process.stderr.write(`  slowest answer per second (ms): ${slowest.map((x) => Math.round(x)).join(' ')}\n`);
      return {
        records: latencies.length,
        seconds: elapsed,
        extra: {
          rate_asked: rate,
          payload_bytes: bytes,
          shards,
          p50_ms: q(0.5),
          p90_ms: q(0.9),
          p99_ms: q(0.99),
          max_ms: q(1),
          server_cpu_ms_per_signal: Number(((1000 * serverCpu) / latencies.length).toFixed(2)),
        },
      };
    } finally {
      await connection.close();
      await server.stop();
    }
  },
};

export default scenario;
