import { ApplicationFailure, executeChild, patched, workflowInfo } from '@temporalio/workflow';
import { STREAMS_BY_SOURCE, isSyncSource } from '../streams/names';
import type { StreamRunSummary } from '../activities/sync-types';
import { activities, syncStreamWorkflow, type SyncActivityOverrides } from './sync-stream';
import { apiUsageProblems, reconcileAlertsSafely, rootMessage, syncFailureProblems } from './alerting';

export interface SyncSourceInput {
  source: string;
  /** Subset of the source's streams; all of them by default. */
  streams?: string[];
  full?: boolean;
  /** Passed to every stream run (see SyncActivityOverrides). */
  activityOverrides?: SyncActivityOverrides;
}

export interface SyncSourceSummary {
  source: string;
  streams: StreamRunSummary[];
  failed: { stream: string; error: string }[];
}

/** One scheduled tick of a source: each stream as a child workflow, one after the other. */
export async function syncSourceWorkflow(input: SyncSourceInput): Promise<SyncSourceSummary> {
  if (!isSyncSource(input.source))
    throw ApplicationFailure.nonRetryable(`Unknown source "${input.source}". Known: ${Object.keys(STREAMS_BY_SOURCE).join(', ')}.`, 'UnknownStream');
  // The configured streams (config/streams.yaml) come from the worker; histories from before keep the fixed list.
  const known: readonly string[] = patched('streams-from-config')
    ? await activities(input.activityOverrides).streamsOfSource({ source: input.source })
    : STREAMS_BY_SOURCE[input.source];
  const streams = input.streams ?? [...known];
  const unknown = streams.filter((s) => !known.includes(s));
  if (unknown.length)
    throw ApplicationFailure.nonRetryable(`Unknown ${input.source} stream(s) ${unknown.join(', ')}. Known: ${known.join(', ')}.`, 'UnknownStream');

  const summary: SyncSourceSummary = { source: input.source, streams: [], failed: [] };
  for (const stream of streams) {
    try {
      summary.streams.push(
        await executeChild(syncStreamWorkflow, {
          args: [{ stream, full: input.full, activityOverrides: input.activityOverrides }],
          workflowId: `${workflowInfo().workflowId}/${stream}`,
        }),
      );
    } catch (err) {
      // One broken stream must not starve the others; the run still fails at the end.
      summary.failed.push({ stream, error: rootMessage(err) });
    }
  }
  // A run of a few streams may raise the source's alert but not declare it recovered.
  if (!input.streams || summary.failed.length) await reconcileAlertsSafely(`sync:${input.source}`, syncFailureProblems(input.source, summary.failed), input.activityOverrides);
  await reconcileAlertsSafely(`api_usage:${input.source}`, apiUsageProblems(input.source, summary.streams), input.activityOverrides);
  if (summary.failed.length)
    throw ApplicationFailure.nonRetryable(
      `${input.source} sync failed for ${summary.failed.map((f) => `${f.stream} (${f.error})`).join('; ')}`,
      'SyncFailed',
      summary,
    );
  return summary;
}
