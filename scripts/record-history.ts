/**
 * Records workflow histories for the replay tests (tests/replay/workflow-replay.test.ts): runs each
 * flow once on the demo's ephemeral stack (emulators, a Temporal dev server in a temporary directory,
 * the worker bundling this checkout's workflows/) and writes every run's history as JSON, the format
 * of Temporal's own tools, plus a manifest entry per file (workflow id and type, commit, patch markers).
 *
 *   npx tsx scripts/record-history.ts [flow...] [--out <dir>]
 *
 * Flows: salesforce-sync, drift-sync, segment-backfill, segment-backfill-parallel, amplitude-ingest, amplitude-ingest-history-bytes,
 * segment-ingest, organize (default: all).
 * Files are named `<flow>[.<part>]@<commit>.json`: record from an older commit (a `git worktree` of it,
 * with this script copied in) to keep a history of runs the current code must still replay.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { historyToJson } from '../tests/helpers/history-json';
import { createLogger } from '../config/logger';
import { freePort } from '../lib/free-port';
import { installRuntime } from '../workers/runtime';
import { startDemoStack, type DemoStack } from '../client/demo/stack';
import { backfillProgress, pauseBackfill, resumeBackfill, setBackfillRate, startBackfill } from '../client/backfill';
import { AMPLITUDE_EVENTS_SIGNAL, AMPLITUDE_INGEST_STATUS_QUERY, AMPLITUDE_INGEST_WORKFLOW } from '../workflows/amplitude-ingest-names';
import type { AmplitudeIngestInput, AmplitudeIngestSettings, AmplitudeIngestStatus } from '../workflows/amplitude-ingest';
import type { IngestSignal } from '../activities/amplitude-ingest-types';
import type { IngestInput, IngestStatus } from '../workflows/push-ingest';
import { INGEST_EVENTS_SIGNAL, INGEST_STATUS_QUERY, PUSH_INGEST_WORKFLOW } from '../workflows/push-ingest-names';
import type { DeliveryStatus } from '../workflows/segment-delivery';
import { deliveryWorkflowId, ingestPrefixOf, SEGMENT_DELIVERY_STATUS_QUERY } from '../workflows/segment-delivery-names';
import { checkSegmentCall, enrichCall } from '../mappings/segment-calls';
import { historyMarkers, MANIFEST_FILE, readManifest, type ManifestEntry } from '../tests/helpers/history-fixtures';

type History = temporal.api.history.v1.IHistory;
interface Recorded {
  part: string;
  workflowId: string;
  history: History;
}
type Flow = (stack: DemoStack) => Promise<Recorded[]>;

const ROOT = path.resolve(__dirname, '..');
const log = createLogger({ level: 'warn' });

/** Every run of a workflow from `runId` on, following continue-as-new. */
async function runChain(client: Client, workflowId: string, runId: string | undefined, part: string): Promise<Recorded[]> {
  const out: Recorded[] = [];
  let next = runId;
  do {
    const history = await client.workflow.getHandle(workflowId, next).fetchHistory();
    out.push({ part: `${part}.run${out.length + 1}`, workflowId, history });
    next = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  } while (next);
  // A single run needs no run number in its name.
  if (out.length === 1) out[0].part = part;
  return out;
}

/** The child workflows a history started, each recorded too (their ids matter to the replay). */
async function children(client: Client, parent: History, part: string): Promise<Recorded[]> {
  const out: Recorded[] = [];
  for (const e of parent.events ?? []) {
    const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
    if (!child?.workflowId || !child.runId) continue;
    const name = child.workflowId.split('/').at(-1) ?? child.workflowId;
    out.push(...(await runChain(client, child.workflowId, child.runId, `${part}.${name}`)));
  }
  return out;
}

const sourceSync =
  (source: 'salesforce' | 'drift'): Flow =>
  async (stack) => {
    const workflowId = `record-${source}-sync`;
    const handle = await stack.client.workflow.start('syncSourceWorkflow', { taskQueue: stack.config.temporal.taskQueue, workflowId, args: [{ source }] });
    await handle.result();
    const runs = await runChain(stack.client, workflowId, handle.firstExecutionRunId, `${source}-sync`);
    return [...runs, ...(await children(stack.client, runs[0].history, `${source}-sync`))];
  };

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** Two days of two tables in pages of 10, a few steps per run: continue-as-new, plus a pause, a rate change and a resume. */
const segmentBackfill: Flow = async (stack) => {
  const { workflowId } = await startBackfill(stack.client, stack.config, {
    from: '2024-01-01',
    to: '2024-01-02',
    tables: ['tracks', 'pages'],
    options: { pageSize: 10, pagesPerStep: 1, stepsPerRun: 4 },
  });
  const handle = stack.client.workflow.getHandle(workflowId);
  const firstRunId = (await handle.describe()).runId;
  await pauseBackfill(handle);
  await until('the backfill to pause', async () => (await backfillProgress(handle)).state === 'paused');
  await setBackfillRate(handle, 1_000);
  await resumeBackfill(handle);
  await handle.result();
  const runs = await runChain(stack.client, workflowId, firstRunId, 'segment-backfill');
  return [...runs, ...(await segmentBackfillInterrupted(stack))];
};

/**
 * A step that made progress and then met a 429 with a Retry-After: it ends early with its cursor,
 * and the backfill waits the Retry-After before the next step (patch backfill-step-interruptions).
 */
async function segmentBackfillInterrupted(stack: DemoStack): Promise<Recorded[]> {
  // Its own table: the sink remembers the events the first backfill sent and would not send them again.
  const before = stack.amp.store.requests().length;
  const { workflowId } = await startBackfill(stack.client, stack.config, { from: '2024-01-01', to: '2024-01-02', tables: ['identifies'], options: { pageSize: 10, pagesPerStep: 5, stepsPerRun: 4 } });
  const handle = stack.client.workflow.getHandle(workflowId);
  const firstRunId = (await handle.describe()).runId;
  // Once the first page is acknowledged, the next request is throttled: the step has moved, so it ends early.
  await until('the first page of the step', async () => stack.amp.store.requests().length > before, 60_000);
  stack.amp.faults.set({ 'POST /batch': { failNext: 1, statuses: [429], retryAfterSeconds: 1 } });
  await handle.result();
  stack.amp.faults.clear();
  const runs = await runChain(stack.client, workflowId, firstRunId, 'segment-backfill-interrupted');
  if (!runs.some((r) => historyMarkers(r.history).includes('backfill-step-interruptions')))
    throw new Error('the 429 did not land inside a step after its first page (no backfill-step-interruptions marker): record again');
  return runs;
}

/** Two lanes over the two days of all three tables (journals replayed by the owner), continue-as-new, a pause, a rate change and a resume. */
const segmentBackfillParallel: Flow = async (stack) => {
  const { workflowId } = await startBackfill(stack.client, stack.config, {
    from: '2024-01-01',
    to: '2024-01-02',
    tables: ['tracks', 'identifies', 'pages'],
    parallel: 2,
    options: { pageSize: 10, pagesPerStep: 2, stepsPerRun: 5 },
  });
  const handle = stack.client.workflow.getHandle(workflowId);
  const firstRunId = (await handle.describe()).runId;
  await until('both lanes to take a window', async () => ((await backfillProgress(handle)).lanes ?? []).every((l) => l.cursor !== null || l.windowsDone > 0));
  await pauseBackfill(handle);
  await until('the backfill to pause', async () => (await backfillProgress(handle)).state === 'paused');
  await setBackfillRate(handle, 1_000);
  await resumeBackfill(handle);
  await handle.result();
  return runChain(stack.client, workflowId, firstRunId, 'segment-backfill-parallel');
};

function ingestEvents(n: number): IngestSignal['events'] {
  return Array.from({ length: n }, (_, i) => ({
    uuid: randomUUID(),
    $insert_id: `rec-${randomUUID()}`,
    event_type: 'Form Submitted',
    user_id: `user-${i % 7}`,
    event_time: '2026-11-01 12:00:00.000',
  }));
}

/**
 * The production defaults for batch size and age (only the run length is shortened, so that a few
 * flushes make a continue-as-new): signals of a few events flush on age. The burst of 520 lies between
 * the batch sizes before and after the larger-flushes patch (500, 1,000): older code flushes 500 at
 * once, newer code waits for the age, so the two histories differ in their commands.
 */
const amplitudeIngest =
  (part: string, settings: Partial<AmplitudeIngestSettings>, runs: number): Flow =>
  async (stack) => {
    const workflowId = `record-${part}`;
    const input: AmplitudeIngestInput = { shard: 0, settings };
    let sent = 0;
    let firstRunId: string | undefined;
    const signal = async (events: IngestSignal['events'], rejected: IngestSignal['rejected'] = []) => {
      const handle = await stack.client.workflow.signalWithStart(AMPLITUDE_INGEST_WORKFLOW, {
        taskQueue: stack.config.temporal.taskQueue,
        workflowId,
        args: [input],
        signal: AMPLITUDE_EVENTS_SIGNAL,
        signalArgs: [{ events, rejected } satisfies IngestSignal],
      });
      firstRunId ??= handle.signaledRunId;
      sent += events.length;
    };
    const status = () => stack.client.workflow.getHandle(workflowId).query<AmplitudeIngestStatus>(AMPLITUDE_INGEST_STATUS_QUERY);
    const settled = () =>
      until('the ingest to flush', async () => {
        const s = await status();
        return s.received === sent && s.pending === 0;
      });

    await signal(ingestEvents(20), [{ recordKey: 'request:0', problems: [{ path: 'event_time', message: 'expected a UTC time' }], payload: { uuid: 'bad', event_type: 'x', event_time: 'yesterday' } }]);
    await settled();
    await signal(ingestEvents(30));
    await signal(ingestEvents(25));
    await settled();
    await signal(ingestEvents(520));
    await settled();
    // Two batches and a bit in one signal: since LOCAL_BATCHING drained one flush per task.
    await signal(ingestEvents(2_100));
    await settled();
    // Small signals until the wanted run has started; it is left running.
    for (let i = 0; (await status()).runs < runs; i++) {
      if (i > 40) throw new Error(`the ingest did not reach run ${runs}`);
      await signal(ingestEvents(10 + (i % 3) * 5));
      await settled();
    }
    return runChain(stack.client, workflowId, firstRunId, part);
  };

/** Website calls as the collection endpoint makes them durable (enriched, messageId set). */
function segmentCalls(n: number): IngestSignal['events'] {
  return Array.from({ length: n }, (_, i) => {
    const raw = { type: i % 3 === 2 ? 'page' : 'track', event: 'Demo Requested', name: 'Pricing', messageId: `rec-${randomUUID()}`, anonymousId: `anon-${i % 11}-0000`, timestamp: '2026-11-01T12:00:00.000Z' };
    const checked = checkSegmentCall(raw);
    if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
    return enrichCall(raw, checked.call, { receivedAt: Date.parse('2026-11-01T12:00:01.000Z'), ip: '203.0.113.7', newMessageId: () => randomUUID() }) as unknown as Record<string, unknown>;
  });
}

/**
 * The Segment source on the push ingest (pushIngestWorkflow, source segment) until it has continued as
 * new, and the Amplitude delivery workflow its flushes hand their batch ids to.
 */
const segmentIngest: Flow = async (stack) => {
  const workflowId = 'record-segment-ingest-0';
  const input: IngestInput = { shard: 0, source: 'segment', settings: { maxHistoryEvents: 60 } };
  let sent = 0;
  let firstRunId: string | undefined;
  const signal = async (events: IngestSignal['events'], rejected: IngestSignal['rejected'] = []) => {
    const handle = await stack.client.workflow.signalWithStart(PUSH_INGEST_WORKFLOW, {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId,
      args: [input],
      signal: INGEST_EVENTS_SIGNAL,
      signalArgs: [{ events, rejected } satisfies IngestSignal],
    });
    firstRunId ??= handle.signaledRunId;
    sent += events.length;
  };
  const status = () => stack.client.workflow.getHandle(workflowId).query<IngestStatus>(INGEST_STATUS_QUERY);
  const delivery = deliveryWorkflowId(ingestPrefixOf(workflowId), 'amplitude');
  const settled = () =>
    until('the Segment ingest to flush and deliver', async () => {
      const s = await status();
      if (s.received !== sent || s.pending !== 0) return false;
      const d = await stack.client.workflow.getHandle(delivery).query<DeliveryStatus>(SEGMENT_DELIVERY_STATUS_QUERY);
      return d.pending === 0;
    });
  await signal(segmentCalls(20), [{ recordKey: 'bad-call', problems: [{ path: 'event', message: 'a track call needs "event"' }], payload: { type: 'track', anonymousId: 'anon-00000' } }]);
  await settled();
  await signal(segmentCalls(30));
  await signal(segmentCalls(25));
  await settled();
  for (let i = 0; (await status()).runs < 2; i++) {
    if (i > 40) throw new Error('the Segment ingest did not continue as new');
    await signal(segmentCalls(10 + (i % 3) * 5));
    await settled();
  }
  const deliveryRun = (await stack.client.workflow.getHandle(delivery).describe()).runId;
  return [...(await runChain(stack.client, workflowId, firstRunId, 'segment-ingest')), ...(await runChain(stack.client, delivery, deliveryRun, 'segment-delivery'))];
};

const organize: Flow = async (stack) => {
  const workflowId = 'record-organize';
  const handle = await stack.client.workflow.start('organizeWorkflow', { taskQueue: stack.config.temporal.taskQueue, workflowId, args: [{}] });
  await handle.result();
  return runChain(stack.client, workflowId, handle.firstExecutionRunId, 'organize');
};

// Organize last: it then has bronze and silver rows of every flow to merge and check.
const FLOWS: Record<string, Flow> = {
  'salesforce-sync': sourceSync('salesforce'),
  'drift-sync': sourceSync('drift'),
  'segment-backfill': segmentBackfill,
  'segment-backfill-parallel': segmentBackfillParallel,
  'amplitude-ingest': amplitudeIngest('amplitude-ingest', { maxHistoryEvents: 60 }, 3),
  // A small byte limit: the run continues as new on history bytes, which records that patch's marker mid-run.
  'amplitude-ingest-history-bytes': amplitudeIngest('amplitude-ingest-history-bytes', { maxHistoryBytes: 60_000 }, 2),
  'segment-ingest': segmentIngest,
  organize,
};

/** The checkout's commit, marked when workflows/ differs from it: the file says what code recorded it. */
function commitLabel(): string {
  const git = (...args: string[]) => execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim();
  const commit = git('rev-parse', '--short=7', 'HEAD');
  return git('status', '--porcelain', '--', 'workflows').length > 0 ? `${commit}-modified` : commit;
}

async function main(argv: string[]): Promise<void> {
  let out = path.join(ROOT, 'tests/fixtures/histories');
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = path.resolve(argv[++i] ?? '.');
    else names.push(argv[i]);
  }
  const unknown = names.filter((n) => !(n in FLOWS));
  if (unknown.length) throw new Error(`unknown flow(s) ${unknown.join(', ')}: give some of ${Object.keys(FLOWS).join(', ')}`);
  const selected = names.length ? names : Object.keys(FLOWS);
  const commit = commitLabel();
  fs.mkdirSync(out, { recursive: true });
  // The emulators and the warehouse log through loggers of their own.
  process.env.LOG_LEVEL ??= 'warn';

  installRuntime({ log, metricsBind: `127.0.0.1:${await freePort()}`, shutdownSignals: [] });
  const stack = await startDemoStack({ log, scale: 0.02, segmentRowsPerTable: 60, segmentFrom: '2024-01-01T00:00:00Z', segmentTo: '2024-01-03T00:00:00Z' });
  // Amplitude's emulator would stream every event the syncs send into ingest workflows of their own.
  stack.amp.setStream(undefined);
  const manifest = readManifest(out);
  try {
    for (const name of selected) {
      const recorded = await FLOWS[name](stack);
      for (const r of recorded) {
        const file = `${r.part}@${commit}.json`;
        fs.writeFileSync(path.join(out, file), `${historyToJson(r.history)}\n`);
        const entry: ManifestEntry = {
          file,
          workflowId: r.workflowId,
          workflowType: r.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? 'unknown',
          commit,
          patches: historyMarkers(r.history),
        };
        manifest.set(file, entry);
        console.log(`${file}: ${entry.workflowType}, ${r.history.events?.length ?? 0} events, ${fs.statSync(path.join(out, file)).size} bytes, patches [${entry.patches.join(', ')}]`);
      }
    }
  } finally {
    fs.writeFileSync(path.join(out, MANIFEST_FILE), `${JSON.stringify([...manifest.values()].sort((a, b) => a.file.localeCompare(b.file)), null, 2)}\n`);
    await stack.stop();
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
