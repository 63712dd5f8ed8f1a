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
