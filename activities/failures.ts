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
      nextRetryDelay: err.retryAfterMs !== undefined ? Math.max(err.retryAfterMs, 100) : undefined,
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
