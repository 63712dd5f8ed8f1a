import { describe, expect, it } from 'vitest';
import { defaultGrpcRetryOptions, type GrpcRetryOptions } from '@temporalio/client';
import { closingGrpcRetryOptions, isWorkflowClosing, withClosingRetry } from '../../lib/grpc-retry';

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
});
