import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type GrpcRetryOptions } from '@temporalio/client';
import type { ConnectionOptions } from '@temporalio/client';

type Status = Parameters<GrpcRetryOptions['delayFunction']>[1];

/** grpc.status.RESOURCE_EXHAUSTED (the enum lives in @grpc/grpc-js, not a direct dependency). */
const RESOURCE_EXHAUSTED = 8;

/**
 * When a continue-as-new races with a signal, the server refuses the completion and, until the
 * worker's next attempt completes, refuses further signals ("workflow operation can not be applied
 * because workflow is closing", RESOURCE_EXHAUSTED) so that the run can close. The webhook's ingest
 * shards continue as new every few thousand events under load. The SDK's default retry treats every
 * RESOURCE_EXHAUSTED as rate limiting and backs off 1.7 s, then 2.9 s: each such race held a shard's
 * acknowledgements for about 4.5 s. This state is not load to back off from, so it is retried within
 * milliseconds; real rate limiting keeps the default backoff.
 */
export function isWorkflowClosing(status: Status): boolean {
  return status.code === RESOURCE_EXHAUSTED && /workflow is closing/i.test(status.details ?? '');
}

/**
 * The closing state lasts until the worker has completed the continue-as-new (replaying the run's
 * history first, after the refused completion): retry every 10 ms, then at most every 100 ms, for
 * as long as the call's deadline allows (WEBHOOK_INGEST_TIMEOUT_MS; at most 200 attempts, ~20 s, for calls
 * without one), not for the default 10 attempts.
 */
export function closingGrpcRetryOptions(closingInitialMs = 10, closingMaxMs = 100): GrpcRetryOptions {
  const defaults = defaultGrpcRetryOptions();
  return {
    delayFunction: (attempt, status) => (isWorkflowClosing(status) ? Math.min(closingMaxMs, closingInitialMs * 1.7 ** (attempt - 1)) : defaults.delayFunction(attempt, status)),
    retryableDecider: (attempt, status) => (isWorkflowClosing(status) && attempt < 200) || defaults.retryableDecider(attempt, status),
  };
}

/** Client connection options plus the retry above (not for the worker's NativeConnection). */
export function withClosingRetry<T extends Partial<ConnectionOptions>>(options: T): T & Pick<ConnectionOptions, 'interceptors'> {
  return { ...options, interceptors: [makeGrpcRetryInterceptor(closingGrpcRetryOptions())] };
}
