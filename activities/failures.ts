import { ApplicationFailure } from '@temporalio/activity';
import { PermanentError, TransientError } from '../lib/errors';

/** Turns a connector error into what Temporal should do with it. */
export function toFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof PermanentError)
    return ApplicationFailure.create({ message: err.message, type: err.kind, nonRetryable: true, cause: err });
  if (err instanceof TransientError)
    return ApplicationFailure.create({
      message: err.message,
      type: 'TransientError',
      nextRetryDelay: retryDelayOf(err),
      // The kind (e.g. amplitude-throttled) for `backfill status`, which reads it from the pending activity's last failure.
      details: err.kind ? [{ kind: err.kind }] : undefined,
      cause: err,
    });
  return err;
}

/** Wraps an activity body so every connector error reaches Temporal in the right shape. */
export async function translated<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toFailure(err);
  }
}

/** Shortest delay Temporal is given, so that "at once" still leaves the failed request behind. */
export const IMMEDIATE_RETRY_MS = 100;

/**
 * The wait before the next attempt: what the service asked for (Retry-After, Amplitude's throttling
 * window); at once when this attempt got part of its work acknowledged (the retry resends only the
 * rest, and the policy's backoff is for attempts that moved nothing); else the retry policy's backoff.
 */
export function retryDelayOf(err: TransientError): number | undefined {
  if (err.retryAfterMs !== undefined) return Math.max(err.retryAfterMs, IMMEDIATE_RETRY_MS);
  return err.progressed ? IMMEDIATE_RETRY_MS : undefined;
}

/**
 * For events already acknowledged to their sender: no failure may be final, or they would be lost
 * with the workflow. A permanent error (bad warehouse credentials, missing permission) is retried like
 * any other, under the workflow's capped backoff, with its message kept for the UI.
 */
export async function alwaysRetried<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const failure = toFailure(err);
    if (failure instanceof ApplicationFailure && failure.nonRetryable)
      throw ApplicationFailure.create({ message: failure.message, type: failure.type ?? 'WarehouseError', nonRetryable: false, cause: err instanceof Error ? err : undefined });
    throw failure;
  }
}
