import { AsyncLocalStorage } from 'node:async_hooks';
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type GrpcRetryOptions } from '@temporalio/client';
import type { ConnectionOptions } from '@temporalio/client';

type Status = Parameters<GrpcRetryOptions['delayFunction']>[1];
type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];

/** grpc.status.RESOURCE_EXHAUSTED (the enum lives in @grpc/grpc-js, not a direct dependency). */
const RESOURCE_EXHAUSTED = 8;
const CLOSING = /workflow is closing/i;

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
  return status.code === RESOURCE_EXHAUSTED && CLOSING.test(status.details ?? '');
}

/**
 * The same refusal once it reached the caller: the client wraps the gRPC error (`code`, `details`)
 * in a ServiceError, so the cause chain is searched.
 */
export function isClosingRefusal(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, details } = e as { code?: unknown; details?: unknown };
    if (typeof code === 'number' && typeof details === 'string' && isWorkflowClosing({ code, details } as Status)) return true;
  }
  return false;
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

/** For callers that handle the closing refusal themselves: it comes back at once, everything else is retried as usual. */
export function closingPassThroughRetryOptions(): GrpcRetryOptions {
  const defaults = defaultGrpcRetryOptions();
  return {
    delayFunction: defaults.delayFunction,
    retryableDecider: (attempt, status) => !isWorkflowClosing(status) && defaults.retryableDecider(attempt, status),
  };
}

const closingPassThrough = new AsyncLocalStorage<true>();

/**
 * Runs `fn` with the closing refusal handed straight back to it instead of retried (on connections
 * built with `withClosingRetry`): the webhook sends a refused group to another ingest shard at once
 * rather than wait for this one's replay. The interceptor is chosen when a call starts, which happens
 * in `fn`'s async context.
 */
export function withoutClosingRetry<T>(fn: () => Promise<T>): Promise<T> {
  return closingPassThrough.run(true, fn);
}

/** Whether the current call runs under `withoutClosingRetry` (for tests of its callers). */
export function closingRetryPassedThrough(): boolean {
  return closingPassThrough.getStore() === true;
}

/** Client connection options plus the retry above (not for the worker's NativeConnection). */
export function withClosingRetry<T extends Partial<ConnectionOptions>>(options: T): T & Pick<ConnectionOptions, 'interceptors'> {
  const retrying = makeGrpcRetryInterceptor(closingGrpcRetryOptions());
  const passing = makeGrpcRetryInterceptor(closingPassThroughRetryOptions());
  const interceptor: Interceptor = (callOptions, nextCall) => (closingPassThrough.getStore() ? passing : retrying)(callOptions, nextCall);
  return { ...options, interceptors: [interceptor] };
}
