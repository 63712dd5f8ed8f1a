import { shardOf } from '../../webhook/temporal-ingest';

/** One turn of the event loop: what the ingest schedules "at once" has run. */
export const turn = () => new Promise<void>((r) => setImmediate(r));

/** Tracks whether a submission is settled yet, without awaiting it. */
export function watch(p: Promise<void>): { state: 'pending' | 'acked' | 'failed' } {
  const w = { state: 'pending' as 'pending' | 'acked' | 'failed' };
  p.then(
    () => (w.state = 'acked'),
    () => (w.state = 'failed'),
  );
  return w;
}

/** A key whose hash lands on `shard` of `shards`. */
export function keyFor(shard: number, shards: number): string {
  for (let i = 0; ; i++) if (shardOf(`k${i}`, shards) === shard) return `k${i}`;
}

/**
 * Sends a request, and again every 500 ms while the answer is 503 `ingest_busy` (admission control
 * stored nothing), as Amplitude and Segment's clients do. Returns the first other answer and how many
 * times it was sent again.
 */
export async function sendUntilAdmitted<R extends { status: number; body: Record<string, unknown> }>(send: () => Promise<R>): Promise<{ answer: R; resent: number }> {
  let answer = await send();
  let resent = 0;
  while (answer.status === 503 && answer.body.error === 'ingest_busy') {
    await new Promise((r) => setTimeout(r, 500));
    answer = await send();
    resent++;
  }
  return { answer, resent };
}
