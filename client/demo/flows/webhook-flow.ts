import { SANDBOX } from '../../../config/sandbox-endpoints';
import { judge, type Reconciliation } from '../reconcile';
import type { DemoStack } from '../stack';

/** Website events of the burst: what a tracked site sends Amplitude, which streams them back to us. */
const BURST = 500;

/**
 * Amplitude → webhook → warehouse: every event Amplitude ingested during the demo (the syncs' events
 * and a burst of website events) is streamed to the webhook; the source is what Amplitude says it
 * delivered, the destination silver.amplitude_events.
 */
export async function runWebhookFlow(stack: DemoStack): Promise<Reconciliation> {
  const now = Date.now();
  const events = Array.from({ length: BURST }, (_, i) => ({
    device_id: `demo-web-${i % 50}`,
    event_type: 'Page Viewed',
    time: now - i * 1_000,
    insert_id: `demo:web:${now}:${i}`,
    event_properties: { path: `/demo/${i}` },
  }));
  const res = await fetch(`${stack.amp.url}/2/httpapi`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: SANDBOX.amplitude.apiKey, events }),
  });
  if (!res.ok) throw new Error(`the Amplitude emulator refused the burst (${res.status}): ${await res.text()}`);

  await stack.amp.flushStream(120_000);
  const stats = stack.amp.streamStats();
  const problems = stats.failed > 0 ? [`Amplitude could not deliver ${stats.failed} events to the webhook`] : [];
  // The ingest workflows flush by count or age: wait until silver stops growing at the delivered count.
  const deadline = Date.now() + 120_000;
  let silver = await silverCount(stack);
  while (silver < stats.delivered && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    silver = await silverCount(stack);
  }
  const [dup] = await stack.deps.warehouse.query<{ n: number | bigint }>(
    'SELECT count(*) - count(DISTINCT uuid) AS n FROM silver.amplitude_events',
  );
  return judge({
    flow: 'amplitude webhook',
    source: stats.delivered,
    silver,
    amplitude: null,
    sent: null,
    deadLetters: await stack.deps.warehouse.countDeadLetters({ flow: 'amplitude' }),
    duplicates: Number(dup?.n ?? 0),
  }, problems);
}

async function silverCount(stack: DemoStack): Promise<number> {
  const exists = await stack.deps.warehouse.query<{ n: number | bigint }>(
    "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'silver' AND table_name = 'amplitude_events'",
  );
  if (Number(exists[0]?.n ?? 0) === 0) return 0;
  const [r] = await stack.deps.warehouse.query<{ n: number | bigint }>('SELECT count(*) AS n FROM silver.amplitude_events');
  return Number(r?.n ?? 0);
}
