import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServer } from '../helpers/temporal';
import { WORKFLOWS_PATH } from '../../workers/workflows-path';
import { exportEvent, makeStack, startWorker, type Stack } from '../helpers/amplitude-webhook';
import { IngestContentError } from '../../webhook/temporal-ingest';

/**
 * A request Temporal cannot take is refused alone (400 + dead letter) and never costs another request
 * a 503: on the real dev server, worker and DuckDB. WEBHOOK_EVENT_MAX_BYTES is raised past the
 * server's 2 MB blob limit, so that an event the guard lets through is still refused by Temporal.
 */

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  [env, bundle] = await Promise.all([
    startDevServer(),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }),
  ]);
}, 180_000);
afterAll(async () => {
  await env?.teardown();
});

/** `{"a":{"a":...1...}}`, `levels` deep, as raw text: JSON.parse takes any depth, JSON.stringify does not. */
const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

/** One event whose event_properties are `levels` deep, as the raw body Amplitude would post. */
function deepBody(uuid: string, levels: number): string {
  const base = JSON.stringify(exportEvent({ uuid, event_properties: {} }));
  return base.replace('"event_properties":{}', `"event_properties":${nested(levels)}`);
}

type Letter = {
  record_key: string;
  reason: string;
  payload: string;
};

const letters = (stack: Stack) => stack.deps.warehouse.query<Letter>("SELECT record_key, reason, CAST(payload AS VARCHAR) AS payload FROM ops.dead_letters WHERE flow = 'amplitude'");

describe('webhook: a request Temporal cannot take', () => {
  let stack: Stack;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  beforeAll(async () => {
    // One shard, 300 ms between signals: requests sent together travel in one signal.
    stack = await makeStack(env, { shards: 1, ingest: { lingerMs: 300, maxSignalBytes: 4 << 20, admission: { maxBytes: 8 << 20 } }, limits: { maxEventBytes: 4 << 20 }, env: { WEBHOOK_BODY_LIMIT_BYTES: String(4 << 20) } });
    worker = await startWorker(env, bundle, stack);
    // Starts the shard and spends the pacer's token, so the next requests wait for company.
    expect((await stack.post(exportEvent())).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await worker?.stop();
    await stack?.close();
  });

  it('answers a 6,000-level event 400 naming the depth limit and dead-letters its raw body, while a valid request sent at the same moment is acknowledged and stored', async () => {
    const deepUuid = 'deep-nested-event-0001';
    const body = deepBody(deepUuid, 6_000);
    expect(body.length).toBeGreaterThan(35_000);
    const valid = exportEvent();
    const [deep, ok] = await Promise.all([stack.post(body), stack.post([valid])]);

    expect(ok.status).toBe(200);
    expect(deep.status).toBe(400);
    expect(deep.body).toMatchObject({ error: 'invalid_events', accepted: 0, rejected: 1 });
    const [outcome] = deep.body.events as { index: number; uuid: string; limit: string; problems: { path: string; message: string }[] }[];
    expect(outcome).toMatchObject({ index: 0, uuid: deepUuid, status: 'rejected', limit: 'WEBHOOK_EVENT_MAX_DEPTH' });
    expect(outcome.problems[0].message).toContain('WEBHOOK_EVENT_MAX_DEPTH=64');
    expect(outcome.problems[0].path).toMatch(/^event_properties\.a\.a/);

    const status = await stack.waitForIngest(2);
    expect(status.rejected).toBe(1);
    expect(await stack.silverUuids()).toContain(valid.uuid);
    expect(await stack.silverUuids()).not.toContain(deepUuid);
    const letter = (await letters(stack)).find((l) => l.record_key === deepUuid);
    expect(letter?.reason).toContain('WEBHOOK_EVENT_MAX_DEPTH');
    // The raw body, as text: nothing the webhook received is lost.
    expect(JSON.parse(letter!.payload)).toBe(body);
  });

  it('resends a grouped signal Temporal refuses per request: only the culprit fails, with IngestContentError', async () => {
    const splits = async () => (await stack.server.metrics.contentSplits.get()).values[0]?.value ?? 0;
    const before = await splits();
    const valid = exportEvent();
    // Past the guard: submitted straight to the ingest, as a route without the guard would.
    const deep = JSON.parse(deepBody('deep-straight-to-ingest', 6_000)) as Record<string, unknown>;
    const results = await Promise.allSettled([
      stack.server.ingest.submit({ events: [valid], rejected: [] }, { key: String(valid.uuid), bytes: 1_000 }),
      stack.server.ingest.submit({ events: [deep], rejected: [] }, { key: 'deep', bytes: 36_000 }),
    ]);
    expect(results[0].status).toBe('fulfilled');
    expect(results[1].status).toBe('rejected');
    const err = (results[1] as PromiseRejectedResult).reason as Error;
    expect(err).toBeInstanceOf(IngestContentError);
    expect(err.message).toContain('Unable to convert');
    expect(await splits()).toBe(before + 1);
    await stack.waitForIngest(3);
    expect(await stack.silverUuids()).toContain(valid.uuid);
  });

  it('answers 400 with the raw body dead-lettered when the server refuses a request the guard let through, and acknowledges the request grouped with it', async () => {
    // 2.2 MB: under this stack's WEBHOOK_EVENT_MAX_BYTES, over the server's 2 MB blob limit.
    const big = exportEvent({ uuid: 'big-event-over-the-blob-limit', event_properties: { text: 'x'.repeat(2_200_000) } });
    const valid = exportEvent();
    const [refused, ok] = await Promise.all([stack.post(big), stack.post(valid)]);
    expect(ok.status).toBe(200);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'not_storable', accepted: 0, rejected: 1, events: [{ index: 0, uuid: big.uuid, status: 'rejected', limit: 'TEMPORAL_PAYLOAD' }] });
    expect(String(refused.body.message)).toContain('dead letter');

    await stack.waitForIngest(4);
    expect(await stack.silverUuids()).toContain(valid.uuid);
    const letter = (await letters(stack)).find((l) => l.record_key === big.uuid);
    expect(letter).toBeDefined();
    // Cut to 64 Ki characters: the start of the body as received.
    const text = JSON.parse(letter!.payload) as string;
    expect(text.length).toBe(64 * 1024);
    expect(JSON.stringify(big).startsWith(text)).toBe(true);
  });
});
