/**
 * Errors connectors throw, free of Temporal. Activities translate them (activities/failures.ts):
 * a TransientError is retried by Temporal after `retryAfterMs` when the service said how long to
 * wait; a PermanentError fails at once with a message that says what to fix.
 */
export class TransientError extends Error {
  readonly retryAfterMs?: number;
  /** What went wrong in a word an operator can scan, e.g. `amplitude-throttled` (status shows it). */
  readonly kind?: string;
  /**
   * Part of the work of the call that failed was acknowledged before the failure (e.g. some chunks of
   * a send): the retry does not redo it, so it should not wait as if nothing had moved.
   */
  readonly progressed?: boolean;
  constructor(message: string, opts: { retryAfterMs?: number; kind?: string; progressed?: boolean; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'TransientError';
    this.retryAfterMs = opts.retryAfterMs;
    this.kind = opts.kind;
    this.progressed = opts.progressed;
  }
}

/** `SchemaChange`: a source field changed type; the stream stops until an operator decides (docs/streams.md). */
export type PermanentKind = 'ConfigError' | 'AuthError' | 'PermissionError' | 'InvalidRequest' | 'InvalidResponse' | 'UnknownStream' | 'SchemaChange';

export class PermanentError extends Error {
  constructor(
    readonly kind: PermanentKind,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = kind;
  }
}

/** Parses an HTTP Retry-After header (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
