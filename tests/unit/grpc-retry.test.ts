import { describe, expect, it } from 'vitest';
import { defaultGrpcRetryOptions, type GrpcRetryOptions } from '@temporalio/client';
import { closingGrpcRetryOptions, closingPassThroughRetryOptions, closingRetryPassedThrough, isClosingRefusal, isWorkflowClosing, withClosingRetry, withoutClosingRetry } from '../../lib/grpc-retry';

type Status = Parameters<GrpcRetryOptions['delayFunction']>[1];
const status = (code: number, details: string): Status => ({ code, details, metadata: undefined as unknown as Status['metadata'] });

// grpc status codes
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;
const INVALID_ARGUMENT = 3;
const closing = status(RESOURCE_EXHAUSTED, 'workflow operation can not be applied because workflow is closing');
const rateLimited = status(RESOURCE_EXHAUSTED, 'namespace rate limit exceeded');

describe('gRPC retry while a workflow is closing (continue-as-new racing a signal)', () => {
  it('recognises the closing refusal only', () => {
    expect(isWorkflowClosing(closing)).toBe(true);
    expect(isWorkflowClosing(rateLimited)).toBe(false);
    expect(isWorkflowClosing(status(UNAVAILABLE, 'workflow is closing'))).toBe(false);
  });

  it('retries the closing refusal within milliseconds, capped at 100 ms, beyond the default 10 attempts', () => {
    const opts = closingGrpcRetryOptions();
    const delays = [1, 2, 3, 4, 5, 6].map((a) => opts.delayFunction(a, closing));
    expect(delays[0]).toBe(10);
    expect(delays[1]).toBeCloseTo(17);
    expect(Math.max(...delays)).toBeLessThanOrEqual(100);
    expect(opts.delayFunction(50, closing)).toBe(100);
    expect(opts.retryableDecider(50, closing)).toBe(true);
    expect(opts.retryableDecider(200, closing)).toBe(false);
  });

  it('keeps the SDK default for real rate limiting and other errors', () => {
    const opts = closingGrpcRetryOptions();
    const defaults = defaultGrpcRetryOptions({ maxJitter: 0 });
    // The default backs off ~1.7 s after the first RESOURCE_EXHAUSTED (±20 % jitter).
    expect(opts.delayFunction(1, rateLimited)).toBeGreaterThan(1_000);
    expect(defaults.delayFunction(1, rateLimited)).toBeCloseTo(1_700);
    expect(opts.retryableDecider(10, rateLimited)).toBe(false);
    expect(opts.retryableDecider(1, status(UNAVAILABLE, 'connection refused'))).toBe(true);
    expect(opts.retryableDecider(1, status(INVALID_ARGUMENT, 'bad request'))).toBe(false);
  });

  it('adds one retry interceptor to the given connection options, keeping them', () => {
    const opts = withClosingRetry({ address: 'localhost:7233' });
    expect(opts.address).toBe('localhost:7233');
    expect(opts.interceptors).toHaveLength(1);
    expect(typeof opts.interceptors?.[0]).toBe('function');
  });

  it('recognises the refusal once the client wrapped it (ServiceError with the gRPC status as cause)', () => {
    const grpc = Object.assign(new Error('8 RESOURCE_EXHAUSTED: ...'), { code: RESOURCE_EXHAUSTED, details: closing.details });
    expect(isClosingRefusal(new Error('Failed to signalWithStart Workflow', { cause: grpc }))).toBe(true);
    expect(isClosingRefusal(grpc)).toBe(true);
    expect(isClosingRefusal(new Error('x', { cause: Object.assign(new Error('y'), { code: RESOURCE_EXHAUSTED, details: rateLimited.details }) }))).toBe(false);
    expect(isClosingRefusal(new Error('Temporal did not accept the events within 5000 ms'))).toBe(false);
    expect(isClosingRefusal(undefined)).toBe(false);
  });

  it('hands the closing refusal back at once to callers that reroute it, and retries everything else as the SDK does', async () => {
    const opts = closingPassThroughRetryOptions();
    expect(opts.retryableDecider(1, closing)).toBe(false);
    expect(opts.retryableDecider(1, rateLimited)).toBe(true);
    expect(opts.retryableDecider(1, status(UNAVAILABLE, 'connection refused'))).toBe(true);
    expect(opts.retryableDecider(1, status(INVALID_ARGUMENT, 'bad request'))).toBe(false);
    // The choice follows the async context of the call, including across awaits.
    expect(closingRetryPassedThrough()).toBe(false);
    const inside = await withoutClosingRetry(async () => {
      await new Promise((r) => setTimeout(r, 1));
      return closingRetryPassedThrough();
    });
    expect(inside).toBe(true);
    expect(closingRetryPassedThrough()).toBe(false);
  });
});
