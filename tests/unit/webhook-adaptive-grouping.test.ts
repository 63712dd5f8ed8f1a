import { describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { IngestSignal } from '../../activities/amplitude-ingest-types';
import { TemporalIngest } from '../../webhook/temporal-ingest';
import { keyFor, turn, watch } from '../helpers/ingest-settling';

/**
 * The webhook's grouping of requests into signals, against a Temporal client whose
 * signal-with-start calls stay open until the test settles them: what leaves when, and with whom.
 */

interface Call {
  workflowId: string;
  signal: IngestSignal;
  settle(err?: Error): void;
}

function fakeClient(): { client: Client; calls: Call[] } {
  const calls: Call[] = [];
  const client = {
    connection: { withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn() },
    workflow: {
      signalWithStart: (_type: string, opts: { workflowId: string; signalArgs: [IngestSignal] }) =>
        new Promise<void>((resolve, reject) => calls.push({ workflowId: opts.workflowId, signal: opts.signalArgs[0], settle: (err) => (err ? reject(err) : resolve()) })),
    },
  };
  return { client: client as unknown as Client, calls };
}

const request = (id: string, bytes = 100) => ({ signal: { events: [{ uuid: id }], rejected: [] }, opts: { key: 'same-shard', bytes } });
const uuids = (c: Call) => c.signal.events.map((e) => e.uuid);

describe('adaptive grouping of webhook requests into Temporal signals', () => {
  it('sends a request reaching an idle shard on the next turn, whatever the linger, with the requests of the same turn', async () => {
    const { client, calls } = fakeClient();
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 1, lingerMs: 60_000 });
    const a = watch(ingest.submit(request('a').signal, request('a').opts));
    const b = watch(ingest.submit(request('b').signal, request('b').opts));
    expect(calls).toHaveLength(0);
    await turn();
    expect(calls.map(uuids)).toEqual([['a', 'b']]);
    // Acknowledged only once Temporal accepted the signal.
    await turn();
    expect([a.state, b.state]).toEqual(['pending', 'pending']);
    calls[0].settle();
    await turn();
    expect([a.state, b.state]).toEqual(['acked', 'acked']);
    await ingest.close();
  });

  it('holds the requests that arrive while the only shard has a signal in flight and sends them together when it completes', async () => {
    const { client, calls } = fakeClient();
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 1, lingerMs: 0 });
    const first = watch(ingest.submit(request('first').signal, request('first').opts));
    await turn();
    const later = Array.from({ length: 10 }, (_, i) => watch(ingest.submit(request(`r${i}`).signal, request(`r${i}`).opts)));
    await turn();
    await turn();
    // One signal at a time per shard (the default): the ten wait, whatever time passes.
    expect(calls).toHaveLength(1);
    calls[0].settle();
    await turn();
    expect(first.state).toBe('acked');
    expect(calls).toHaveLength(2);
    expect(uuids(calls[1])).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    expect(later.every((w) => w.state === 'pending')).toBe(true);
    calls[1].settle();
    await turn();
    expect(later.every((w) => w.state === 'acked')).toBe(true);
    await ingest.close();
  });

  it('never splits a request, caps a group at maxSignalBytes, and fails every request of a failed signal', async () => {
    const { client, calls } = fakeClient();
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 1, maxSignalBytes: 250, lingerMs: 0 });
    const batch = { events: [{ uuid: 'x1' }, { uuid: 'x2' }], rejected: [] };
    const x = watch(ingest.submit(batch, { key: 'k', bytes: 400 }));
    const y = watch(ingest.submit(request('y').signal, request('y').opts));
    const z = watch(ingest.submit(request('z').signal, request('z').opts));
    await turn();
    // A request over the cap still travels (alone), whole.
    expect(calls.map(uuids)).toEqual([['x1', 'x2']]);
    calls[0].settle(new Error('Temporal unreachable'));
    await turn();
    expect(x.state).toBe('failed');
    expect(calls.map(uuids)).toEqual([['x1', 'x2'], ['y', 'z']]);
    calls[1].settle();
    await turn();
    expect([y.state, z.state]).toEqual(['acked', 'acked']);
    await ingest.close();
  });

  it('with maxInFlight 2 opens a second signal only after the linger, so a burst still shares it', async () => {
    const { client, calls } = fakeClient();
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 1, maxInFlight: 2, lingerMs: 5 });
    void ingest.submit(request('a').signal, request('a').opts);
    await turn();
    expect(calls).toHaveLength(1);
    for (const id of ['b', 'c', 'd']) void ingest.submit(request(id).signal, request(id).opts);
    await turn();
    expect(calls).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls.map(uuids)).toEqual([['a'], ['b', 'c', 'd']]);
    for (const c of calls) c.settle();
    await ingest.close();
  });

  it('does not hold a request behind its shard’s signal in flight while another shard is free', async () => {
    const { client, calls } = fakeClient();
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 2, workflowIdPrefix: 'ing', lingerMs: 0 });
    void ingest.submit({ events: [{ uuid: 'a' }], rejected: [] }, { key: keyFor(0, 2), bytes: 100 });
    await turn();
    void ingest.submit({ events: [{ uuid: 'b' }], rejected: [] }, { key: keyFor(0, 2), bytes: 100 });
    await turn();
    expect(calls.map((c) => [c.workflowId, uuids(c)])).toEqual([
      ['ing-0', ['a']],
      ['ing-1', ['b']],
    ]);
    for (const c of calls) c.settle();
    await ingest.close();
  });

  it('under load spaces signals lingerMs apart across all shards, and what arrives meanwhile shares the next one', async () => {
    const { client, calls } = fakeClient();
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 2, workflowIdPrefix: 'ing', lingerMs: 200 });
    // An idle webhook has one token per shard: the first two requests leave at once, each alone.
    const first = [watch(ingest.submit(request('a').signal, request('a').opts))];
    await turn();
    first.push(watch(ingest.submit(request('b').signal, request('b').opts)));
    await turn();
    expect(calls.map(uuids)).toEqual([['a'], ['b']]);
    for (const c of calls) c.settle();
    await turn();
    expect(first.map((w) => w.state)).toEqual(['acked', 'acked']);
    // Both shards are free again but the tokens are spent: the next requests wait for one, together.
    const later = ['c', 'd', 'e'].map((id) => watch(ingest.submit(request(id).signal, request(id).opts)));
    await turn();
    await turn();
    expect(calls).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(calls.map(uuids)).toEqual([['a'], ['b'], ['c', 'd', 'e']]);
    expect(later.every((w) => w.state === 'pending')).toBe(true);
    calls[2].settle();
    await turn();
    expect(later.every((w) => w.state === 'acked')).toBe(true);
    await ingest.close();
  });
});
