import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createLogger } from '../../config/logger';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { handleDriftWebhook } from '../../webhook/drift';
import { exportEvent, makeStack, startWorker, type Stack } from '../helpers/amplitude-webhook';
import { basicAuth, makeSegmentStack, startSegmentWorker, type SegmentStack } from '../helpers/segment-collect';
import { temporalSuite } from '../helpers/temporal-suite';

/**
 * Property-based tests of the push handlers (/amplitude, /drift, the Segment routes /v1/t and
 * /v1/batch) against hostile bodies, on the real dev server, worker and DuckDB. While Temporal is up:
 * no answer is a 5xx, the server stays up, every acknowledged event is in silver exactly once, every
 * refused tracked event is in dead letters, nothing refused is in silver.
 *
 * Bounded for CI: FUZZ_SEED (default 20260101) and FUZZ_RUNS (default 40) fix what runs; no shrinking
 * against the live stack (endOnFailure). A failure prints the seed to re-run it with.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20260101);
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const log = createLogger({ level: 'silent' });

const suite = temporalSuite();

async function withSeed(name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    console.error(`${name} failed: re-run with FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);
    throw err;
  }
}

/** Text that is hard on JSON, UTF-8 and SQL: lone surrogates, NUL, RTL marks, quotes, emoji. */
const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\ud800', '\udfff', 'a\ud83d', '\u0000', 'x\u0000y', '\u200f\u202eevil', '\u2028\u2029', "'; DROP TABLE silver.amplitude_events; --", '"\\', '😀\u0301', '__proto__', 'constructor'),
);
const nastyKey = fc.oneof(nasty, fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', ''));

/** A JSON value rendered as raw text, so that duplicate and prototype keys survive into the body. */
type Raw = { text: string };
const raw = (text: string): Raw => ({ text });
const rawValue: fc.Arbitrary<Raw> = fc.letrec<{ v: Raw }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 3 }).map((v) => raw(JSON.stringify(v) ?? 'null')),
    nasty.map((s) => raw(JSON.stringify(s))),
    fc.array(fc.tuple(nastyKey, tie('v')), { maxLength: 4 }).map((kv) => raw(`{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v.text}`).join(',')}}`)),
    fc.array(tie('v'), { maxLength: 4 }).map((xs) => raw(`[${xs.map((x) => x.text).join(',')}]`)),
  ),
})).v;

/** Shapes known to break naive handlers: deep nesting, huge strings and arrays, many keys, numbers JSON.stringify rewrites. */
const hostile = fc.oneof(
  fc.integer({ min: 1, max: 6_000 }).map((n) => raw(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)),
  fc.integer({ min: 1, max: 6_000 }).map((n) => raw(`${'['.repeat(n)}${']'.repeat(n)}`)),
  fc.integer({ min: 1, max: 70_000 }).map((n) => raw(JSON.stringify('x'.repeat(n)))),
  fc.integer({ min: 1, max: 20_000 }).map((n) => raw(`[${Array(n).fill('0').join(',')}]`)),
  fc.integer({ min: 1, max: 12_000 }).map((n) => raw(`{${Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',')}}`)),
  fc.constantFrom(raw('1e400'), raw('-0'), raw('123456789e-20'), raw('{"__proto__":{"polluted":true}}'), raw('{"constructor":{"prototype":{"polluted":true}}}')),
  rawValue,
);

let tracked = 0;

interface Item {
  text: string;
  /** Set for a well-formed event: its uuid (the last of duplicate keys, as JSON.parse keeps it). */
  uuid?: string;
}

/** A valid event carrying hostile content somewhere, written as raw text (duplicate and prototype keys included). */
const eventItem: fc.Arbitrary<() => Item> = fc
  .record({
    where: fc.constantFrom('event_properties', 'user_properties', 'groups', 'data', 'extra_field'),
    value: fc.oneof(hostile, rawValue),
    userId: fc.option(nasty, { nil: undefined }),
    eventType: fc.option(nasty, { nil: undefined }),
    duplicateUuid: fc.boolean(),
    protoKey: fc.boolean(),
  })
  .map((r) => () => {
    const uuid = `fuzz-${SEED}-${++tracked}`;
    const base = exportEvent({ uuid, $insert_id: `fuzz-ins-${SEED}-${tracked}`, ...(r.userId !== undefined ? { user_id: r.userId } : {}), ...(r.eventType !== undefined ? { event_type: r.eventType } : {}) });
    delete base[r.where];
    let text = JSON.stringify(base).slice(0, -1);
    const value = r.where === 'extra_field' ? r.value.text : `{"v":${r.value.text}}`;
    text += `,${JSON.stringify(r.where)}:${value}`;
    if (r.protoKey) text += ',"__proto__":{"user_id":"from-proto"},"constructor":{"prototype":{"x":1}}';
    text = r.duplicateUuid ? `{"uuid":"overridden-${uuid}",${text.slice(1)}}` : `${text}}`;
    return { text, uuid };
  });

const garbageItem: fc.Arbitrary<() => Item> = fc.oneof(hostile, rawValue).map((r) => () => ({ text: r.text }));

/** A body: one item, or a batch of items; now and then not JSON at all. */
const body: fc.Arbitrary<{ items: (() => Item)[]; batch: boolean }> = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.oneof({ weight: 3, arbitrary: eventItem }, { weight: 1, arbitrary: garbageItem }), { minLength: 1, maxLength: 3 }).chain((items) => fc.boolean().map((batch) => ({ items, batch }))) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 50 }).map((s) => ({ items: [(): Item => ({ text: s })], batch: false })) },
);

interface Outcome {
  index: number;
  uuid?: string;
  status: 'accepted' | 'rejected';
}

describe('webhook fuzz', () => {
  let stack: Stack;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  beforeAll(async () => {
    stack = await makeStack(suite.env, { shards: 2, ingest: { lingerMs: 5 } });
    worker = await startWorker(suite.env, suite.bundle, stack);
  }, 60_000);
  afterAll(async () => {
    await worker?.stop();
    await stack?.close();
  });

  it('POST /amplitude: never a 5xx; every acknowledged event in silver once; every refused one in dead letters and not in silver', async () => {
    const acked = new Set<string>();
    const refused = new Set<string>();
    let answers = 0;
    await withSeed('amplitude fuzz', () =>
      fc.assert(
        fc.asyncProperty(fc.array(body, { minLength: 1, maxLength: 4 }), async (bodies) => {
          // Sent at once, so hostile and valid requests share signals.
          const sent = bodies.map((b) => {
            const items = b.items.map((make) => make());
            const text = b.batch || items.length > 1 ? `[${items.map((i) => i.text).join(',')}]` : items[0].text;
            return { items, text, batch: b.batch || items.length > 1 };
          });
          const answered = await Promise.all(sent.map((s) => fetch(stack.server.amplitudeUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-novade-webhook-secret': stack.config.webhook.secret }, body: s.text })));
          for (const [i, res] of answered.entries()) {
            answers++;
            const json = (await res.json()) as { events?: Outcome[] };
            expect(res.status, `answer to ${sent[i].text.slice(0, 200)}: ${JSON.stringify(json).slice(0, 300)}`).toBeLessThan(500);
            if (res.status === 200) for (const it of sent[i].items) if (it.uuid) acked.add(it.uuid);
            if (res.status === 400 && json.events)
              for (const o of json.events) {
                const uuid = sent[i].items[o.index]?.uuid;
                if (uuid && o.uuid === uuid) (o.status === 'accepted' ? acked : refused).add(uuid);
              }
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      ),
    );
    expect(answers).toBeGreaterThan(RUNS);
    expect((await fetch(`${stack.server.url}/healthz`)).status).toBe(200);

    await stack.waitForIngest(acked.size, 30_000);
    const silver = await stack.deps.warehouse.query<{ uuid: string; n: number }>("SELECT uuid, CAST(count(*) AS INTEGER) AS n FROM silver.amplitude_events WHERE uuid LIKE 'fuzz-%' GROUP BY uuid");
    const inSilver = new Map(silver.map((r) => [r.uuid, r.n]));
    for (const uuid of acked) expect(inSilver.get(uuid), `acknowledged ${uuid}`).toBe(1);
    for (const uuid of refused) expect(inSilver.has(uuid), `refused ${uuid}`).toBe(false);
    const letters = new Set((await stack.deps.warehouse.query<{ record_key: string }>("SELECT record_key FROM ops.dead_letters WHERE flow = 'amplitude'")).map((r) => r.record_key));
    for (const uuid of refused) expect(letters.has(uuid), `dead letter of ${uuid}`).toBe(true);
    // Both outcomes happened, or the generators have drifted from what they mean to test.
    expect(acked.size).toBeGreaterThan(5);
    expect(refused.size).toBeGreaterThan(5);
  }, 120_000);

  it('POST /drift: hostile bodies with the right token are answered 4xx or 200, never 5xx', async () => {
    // No worker polls this queue: workflows the valid events start just wait, the test needs only Temporal's answer.
    const deps = { client: suite.env.client.workflow, taskQueue: `drift-fuzz-${process.pid}`, verificationToken: SANDBOX.drift.verificationToken, log };
    const type = fc.constantFrom('new_message', 'new_conversation', 'contact_identified', 'contact_updated', 'new_meeting', 'playbook_goal_met', 'unknown_type');
    const text = fc.oneof(nasty, fc.integer({ min: 1, max: 3_000 }).map((n) => 'm'.repeat(n)));
    const id = fc.oneof(fc.integer(), fc.double(), text);
    const data = fc.record(
      { conversationId: id, id, endUserId: id, eventId: text, slotStart: id, playbookId: id, goalId: text, goalMessage: text, extra: hostile.map((r) => r.text) },
      { requiredKeys: [] },
    );
    let statuses = new Map<number, number>();
    await withSeed('drift fuzz', () =>
      fc.assert(
        fc.asyncProperty(type, fc.oneof(fc.integer(), text), data, async (t, orgId, d) => {
          // The hostile part is spliced in as raw text, as Drift would post it.
          const { extra, ...rest } = d;
          const text = JSON.stringify({ type: t, token: SANDBOX.drift.verificationToken, orgId, data: rest });
          const res = await handleDriftWebhook(deps, JSON.parse(extra === undefined ? text : `${text.slice(0, -2)}${Object.keys(rest).length ? ',' : ''}"extra":${extra}}}`));
          statuses = statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBeLessThan(500);
        }),
        { seed: SEED, numRuns: RUNS * 2, endOnFailure: true },
      ),
    );
    expect(statuses.get(400)).toBeGreaterThan(0);
  }, 60_000);
});

let segmentTracked = 0;

interface SegmentItem {
  text: string;
  /** Set for a call-shaped item: its messageId (the last of duplicate keys, as JSON.parse keeps it). */
  messageId?: string;
}

/** A Segment call of any type, with hostile content spliced in as raw text where analytics.js puts data. */
const segmentCallItem: fc.Arbitrary<() => SegmentItem> = fc
  .record({
    type: fc.constantFrom('track', 'identify', 'page', 'screen', 'group', 'alias'),
    where: fc.constantFrom('properties', 'traits', 'context', 'integrations', 'extra_field'),
    value: fc.oneof(hostile, rawValue),
    userId: fc.option(nasty, { nil: undefined }),
    event: fc.option(nasty, { nil: undefined }),
    duplicateId: fc.boolean(),
    protoKey: fc.boolean(),
  })
  .map((r) => () => {
    const messageId = `sfuzz-${SEED}-${++segmentTracked}`;
    const base: Record<string, unknown> = {
      type: r.type,
      messageId,
      anonymousId: `anon-${segmentTracked}`,
      userId: r.userId ?? `user-${segmentTracked}`,
      timestamp: new Date().toISOString(),
      context: { library: { name: 'analytics.js', version: 'npm:next-1.84.1' } },
      ...(r.type === 'track' ? { event: r.event ?? 'Fuzz Sent' } : {}),
      ...(r.type === 'group' ? { groupId: 'acme' } : {}),
      ...(r.type === 'alias' ? { previousId: `anon-prev-${segmentTracked}` } : {}),
    };
    delete base[r.where];
    let text = JSON.stringify(base).slice(0, -1);
    text += `,${JSON.stringify(r.where)}:${r.where === 'extra_field' ? r.value.text : `{"v":${r.value.text}}`}`;
    if (r.protoKey) text += ',"__proto__":{"userId":"from-proto"},"constructor":{"prototype":{"x":1}}';
    text = r.duplicateId ? `{"messageId":"overridden-${messageId}",${text.slice(1)}}` : `${text}}`;
    return { text, messageId };
  });

/** One call to /v1/t, or a batch to /v1/batch (now and then with a hostile top-level context merged into each call); now and then not JSON. */
const segmentBody: fc.Arbitrary<{ items: (() => SegmentItem)[]; batch: boolean; context?: Raw }> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      items: fc.array(fc.oneof({ weight: 3, arbitrary: segmentCallItem }, { weight: 1, arbitrary: garbageItem }), { minLength: 1, maxLength: 3 }),
      batch: fc.boolean(),
      context: fc.option(fc.oneof(hostile, rawValue), { nil: undefined, freq: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 50 }).map((s) => ({ items: [(): SegmentItem => ({ text: s })], batch: false })) },
);

interface SegmentAnswer {
  error?: string;
  message?: string;
  rejections?: { index: number; messageId?: string }[];
}

describe('segment fuzz', () => {
  let stack: SegmentStack;
  let worker: Awaited<ReturnType<typeof startSegmentWorker>>;
  beforeAll(async () => {
    // No forward: only the ingest path is under test (deliveries read what it stored).
    stack = await makeSegmentStack(suite.env, { forward: false, ingest: { lingerMs: 5 } });
    worker = await startSegmentWorker(suite.env, suite.bundle, stack);
  }, 60_000);
  afterAll(async () => {
    await worker?.stop();
    await stack?.close();
  });

  it('POST /v1/t and /v1/batch: never a 5xx; every acknowledged call in silver once; every refused one answered 4xx or dead-lettered, and not in silver', async () => {
    const acked = new Set<string>();
    const refused = new Set<string>();
    /** Refused calls the answer says were recorded as dead letters. */
    const lettered = new Set<string>();
    let answers = 0;
    await withSeed('segment fuzz', () =>
      fc.assert(
        fc.asyncProperty(fc.array(segmentBody, { minLength: 1, maxLength: 4 }), async (bodies) => {
          const sent = bodies.map((b) => {
            const items = b.items.map((make) => make());
            const batch = b.batch || items.length > 1;
            const text = batch ? `{"sentAt":${JSON.stringify(new Date().toISOString())},${b.context ? `"context":${b.context.text},` : ''}"batch":[${items.map((i) => i.text).join(',')}]}` : items[0].text;
            return { items, text, route: batch ? 'batch' : 't' };
          });
          // Sent at once, so hostile and valid requests share signals.
          const answered = await Promise.all(
            sent.map((s) => fetch(`${stack.server.segmentUrl}/${s.route}`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: basicAuth() }, body: s.text })),
          );
          for (const [i, res] of answered.entries()) {
            answers++;
            const text = await res.text();
            const json = (text ? JSON.parse(text) : {}) as SegmentAnswer;
            const { items, route } = sent[i];
            expect(res.status, `answer to /v1/${route} ${sent[i].text.slice(0, 200)}: ${text.slice(0, 300)}`).toBeLessThan(500);
            const rejectedAt = new Set((json.rejections ?? []).map((r) => r.index));
            for (const [index, item] of items.entries()) {
              if (!item.messageId) continue;
              if (res.status === 200 && !rejectedAt.has(index)) acked.add(item.messageId);
              else refused.add(item.messageId);
            }
            // What the answer says was dead-lettered must be: a batch's rejections once the request was durable, a refused single call, a request Temporal refused.
            if (res.status === 200 || /recorded as (a )?dead letters?/.test(json.message ?? ''))
              for (const r of json.rejections ?? []) if (r.messageId && items[r.index]?.messageId === r.messageId) lettered.add(r.messageId);
            if (res.status === 400 && (json.error === 'invalid_call' || json.error === 'not_storable') && /dead letter/.test(json.message ?? ''))
              for (const item of items) if (item.messageId) lettered.add(item.messageId);
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      ),
    );
    expect(answers).toBeGreaterThan(RUNS);
    expect((await fetch(`${stack.server.url}/healthz`)).status).toBe(200);

    const deadline = Date.now() + 30_000;
    for (let s = await stack.ingestStatus(); s.received < acked.size || s.pending > 0; s = await stack.ingestStatus()) {
      if (Date.now() > deadline) throw new Error(`ingest did not flush: ${JSON.stringify(s)} (${acked.size} calls acknowledged)`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const counts = new Map<string, number>();
    for (const id of await stack.silverIds()) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const id of acked) expect(counts.get(id), `acknowledged ${id}`).toBe(1);
    for (const id of refused) expect(counts.has(id), `refused ${id}`).toBe(false);
    const letters = new Set((await stack.deps.warehouse.query<{ record_key: string }>("SELECT record_key FROM ops.dead_letters WHERE flow = 'segment'")).map((r) => r.record_key));
    for (const id of lettered) expect(letters.has(id), `dead letter of ${id}`).toBe(true);
    // Both outcomes happened, or the generators have drifted from what they mean to test.
    expect(acked.size).toBeGreaterThan(5);
    expect(lettered.size).toBeGreaterThan(5);
  }, 120_000);
});
