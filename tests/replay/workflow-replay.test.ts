import { beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../workers/workflows-path';
import { historyMarkers, HISTORIES_DIR, loadHistoryFixtures } from '../helpers/history-fixtures';
import { bundlerOptionsFor, dataConverterFor } from '../../lib/codec/data-converter';
import { parseCodecKeys } from '../../lib/codec/keys';

/**
 * The determinism guard: every history in tests/fixtures/histories, recorded by earlier code
 * (scripts/record-history.ts), is replayed on the current workflows/ bundle. A run still open when a
 * worker is upgraded is replayed exactly like this, so a failure here is a failure in production:
 * change the workflow behind patched() (or a new workflow type) instead of re-recording the history.
 * Offline: no server, no activity runs.
 */

const fixtures = loadHistoryFixtures();
let bundle: WorkflowBundleWithSourceMap;
/** A worker with payload encryption switched on meets these same plain histories when an operator sets TEMPORAL_CODEC_KEYS. */
const CODEC = { keys: parseCodecKeys(`replay:${Buffer.alloc(32, 1).toString('base64')}`), compressAboveBytes: 1024 };
let codecBundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  // A failed replay is reported by the test below; the worker's own error log would repeat it.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  codecBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN'), ...bundlerOptionsFor(CODEC) });
});

describe(`recorded histories (${HISTORIES_DIR})`, () => {
  it.each(fixtures.map((f) => [`${f.workflowType} ${f.file}`, f] as const))('%s replays on the current code', async (_name, f) => {
    const replayed = Worker.runReplayHistories({ workflowBundle: bundle, replayName: f.file }, [{ workflowId: f.workflowId, history: f.history }]);
    const results = [];
    for await (const r of replayed) results.push(r);
    expect(results).toHaveLength(1);
    const { error } = results[0];
    // The message names the history and the workflow, and carries the SDK's account of the mismatch.
    expect(error, error && `${f.workflowType} (${f.file}, recorded at ${f.commit}) does not replay: ${error.name}: ${error.message}`).toBeUndefined();
  });

  it.each(fixtures.map((f) => [`${f.workflowType} ${f.file}`, f] as const))('%s replays with payload encryption on (codec and failure converter)', async (_name, f) => {
    const replayed = Worker.runReplayHistories({ workflowBundle: codecBundle, dataConverter: dataConverterFor(CODEC), replayName: f.file }, [{ workflowId: f.workflowId, history: f.history }]);
    const results = [];
    for await (const r of replayed) results.push(r);
    expect(results).toHaveLength(1);
    const { error } = results[0];
    expect(error, error && `${f.workflowType} (${f.file}) does not replay with encryption on: ${error.name}: ${error.message}`).toBeUndefined();
  });

  it('the manifest lists the patch markers each history really holds', () => {
    for (const f of fixtures) expect(historyMarkers(f.history), f.file).toEqual(f.patches);
  });

  it.each([
    ['amplitudeIngestWorkflow', 'amplitude-ingest-larger-flushes-and-runs'],
    ['amplitudeIngestWorkflow', 'amplitude-ingest-continue-as-new-on-history-bytes'],
    ['amplitudeIngestWorkflow', 'amplitude-ingest-local-batching'],
    ['segmentBackfillWorkflow', 'backfill-sync-runs'],
  ])('a recorded %s history takes the new branch of patch %s', (type, patch) => {
    // A marker is recorded only when a run calls patched(): its history is what replays that branch.
    expect(fixtures.some((f) => f.workflowType === type && f.patches.includes(patch))).toBe(true);
  });

  it('the Amplitude ingest is covered on both sides of its larger-flushes patch', () => {
    // Runs recorded before the patch hold no marker and must replay through the old defaults;
    // re-recording them all with today's code would silently drop that check.
    const ingest = fixtures.filter((f) => f.workflowType === 'amplitudeIngestWorkflow');
    const withMarker = ingest.filter((f) => f.patches.includes('amplitude-ingest-larger-flushes-and-runs'));
    expect(withMarker.length).toBeGreaterThan(0);
    expect(ingest.length - withMarker.length).toBeGreaterThan(0);
    // Both sides include a continued run (input carried over from the run before).
    for (const side of [withMarker, ingest.filter((f) => !withMarker.includes(f))])
      expect(side.some((f) => f.history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId)).toBe(true);
  });
});
