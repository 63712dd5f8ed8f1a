import { describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { IngestSignal } from '../../activities/amplitude-ingest-types';
import { closingRetryPassedThrough } from '../../lib/grpc-retry';
import { WebhookMetrics } from '../../webhook/metrics';
import { TemporalIngest } from '../../webhook/temporal-ingest';
import { keyFor, turn, watch } from '../helpers/ingest-settling';

/**
 * A shard whose run is continuing as new refuses signals ("workflow is closing") until the worker has
 * replayed it: the webhook sends the refused group to another shard instead of waiting. Against a fake
 * client whose calls the test settles, as the server would.
 */

interface Call {
  workflowId: string;
  uuids: unknown[];
  /** Whether the call ran with the connection's closing retry turned off (rerouting handles it). */
  passThrough: boolean;
  settle(err?: Error): void;
}

function fakeClient(): { client: Client; calls: Call[] } {
  const calls: Call[] = [];
  const client = {
    connection: { withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn() },
    workflow: {
      signalWithStart: (_type: string, opts: { workflowId: string; signalArgs: [IngestSignal] }) =>
        new Promise<void>((resolve, reject) =>
          calls.push({ workflowId: opts.workflowId, uuids: opts.signalArgs[0].events.map((e) => e.uuid), passThrough: closingRetryPassedThrough(), settle: (err) => (err ? reject(err) : resolve()) }),
        ),
    },
  };
  return { client: client as unknown as Client, calls };
}

/** What the client throws for the refusal: a ServiceError whose cause is the gRPC status. */
function closingRefusal(): Error {
  const grpc = Object.assign(new Error('8 RESOURCE_EXHAUSTED: workflow operation can not be applied because workflow is closing'), {
    code: 8,
    details: 'workflow operation can not be applied because workflow is closing',
  });
  return new Error('Failed to signalWithStart Workflow', { cause: grpc });
}

const submit = (ingest: TemporalIngest, uuid: string, shard: number, shards: number) => ingest.submit({ events: [{ uuid }], rejected: [] }, { key: keyFor(shard, shards), bytes: 100 });

describe('webhook ingest: a shard refusing signals while it continues as new', () => {
  it('sends the refused group to the next shard right away, with the requests queued behind it, and acknowledges once that shard accepted', async () => {
    const { client, calls } = fakeClient();
    const metrics = new WebhookMetrics({ defaultMetrics: false });
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 3, workflowIdPrefix: 'ing', metrics });
    const a = watch(submit(ingest, 'a', 1, 3));
    await turn();
    expect(calls.map((c) => [c.workflowId, c.uuids])).toEqual([['ing-1', ['a']]]);
    expect(calls[0].passThrough).toBe(true);
    // Queued behind the signal in flight on shard 1.
    const b = watch(submit(ingest, 'b', 1, 3));
    calls[0].settle(closingRefusal());
    await turn();
    await turn();
    expect(a.state).toBe('pending');
    expect(calls.slice(1).map((c) => [c.workflowId, c.uuids])).toEqual([['ing-2', ['a', 'b']]]);
    calls[1].settle();
    await turn();
    expect([a.state, b.state]).toEqual(['acked', 'acked']);
    expect(await metrics.registry.getSingleMetricAsString('webhook_ingest_closing_refusals_total')).toContain('outcome="rerouted"} 1');
    await ingest.close();
  });

  it('keeps sending that shard’s new requests elsewhere for closingHoldMs, then tries it again', async () => {
    const { client, calls } = fakeClient();
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 2, workflowIdPrefix: 'ing', closingHoldMs: 40 });
    void submit(ingest, 'a', 0, 2);
    await turn();
    calls[0].settle(closingRefusal());
    await turn();
    await turn();
    expect(calls.map((c) => c.workflowId)).toEqual(['ing-0', 'ing-1']);
    calls[1].settle();
    await turn();
    const during = watch(submit(ingest, 'during', 0, 2));
    await turn();
    expect(calls[2]).toMatchObject({ workflowId: 'ing-1', uuids: ['during'] });
    calls[2].settle();
    await new Promise((r) => setTimeout(r, 60));
    const after = watch(submit(ingest, 'after', 0, 2));
    await turn();
    expect(calls[3]).toMatchObject({ workflowId: 'ing-0', uuids: ['after'] });
    calls[3].settle();
    await turn();
    expect([during.state, after.state]).toEqual(['acked', 'acked']);
    await ingest.close();
  });

  it('when every shard is closing, waits for the one that started closing first under the connection’s closing retry, and fails the requests if that fails too', async () => {
    const { client, calls } = fakeClient();
    const metrics = new WebhookMetrics({ defaultMetrics: false });
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 2, workflowIdPrefix: 'ing', metrics });
    const a = watch(submit(ingest, 'a', 0, 2));
    await turn();
    calls[0].settle(closingRefusal());
    await turn();
    await turn();
    calls[1].settle(closingRefusal());
    await turn();
    await turn();
    // Both shards refused: the third attempt goes to the shard that started closing first and lets
    // the connection retry the refusal until its replay is done.
    expect(calls.map((c) => [c.workflowId, c.passThrough])).toEqual([
      ['ing-0', true],
      ['ing-1', true],
      ['ing-0', false],
    ]);
    expect(a.state).toBe('pending');
    calls[2].settle(closingRefusal());
    await turn();
    expect(a.state).toBe('failed');
    expect(calls).toHaveLength(3);
    const counted = await metrics.registry.getSingleMetricAsString('webhook_ingest_closing_refusals_total');
    expect(counted).toContain('outcome="rerouted"} 1');
    expect(counted).toContain('outcome="wait"} 1');
    await ingest.close();
  });

  it('fails a group on any other error, without rerouting it', async () => {
    const { client, calls } = fakeClient();
    const ingest = new TemporalIngest({ client, taskQueue: 'q', shards: 2, workflowIdPrefix: 'ing' });
    const a = watch(submit(ingest, 'a', 0, 2));
    await turn();
    const rateLimited = new Error('Failed to signalWithStart Workflow', { cause: Object.assign(new Error('8 RESOURCE_EXHAUSTED'), { code: 8, details: 'namespace rate limit exceeded' }) });
    calls[0].settle(rateLimited);
    await turn();
    await turn();
    expect(a.state).toBe('failed');
    expect(calls).toHaveLength(1);
    await ingest.close();
  });
});
