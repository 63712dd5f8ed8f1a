import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { buildConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { createBackfillActivities, LATE_RESEND_MS } from '../../activities/backfill';
import type { ActivityDeps } from '../../activities/deps';
import type { BackfillStepInput } from '../../ports/backfill-step';
import type { Warehouse } from '../../connectors/warehouse/types';

/**
 * The re-send guard of a backfill step: a step whose first attempt is older than 6 days may have
 * sent part of its pages, and Amplitude only deduplicates insert_ids for 7 days, so it must not
 * send again unless the operator allows it. The guard runs before anything is read or sent: the
 * warehouse here records every call, and BigQuery points at a closed port, so a step that passes
 * the guard fails on reading BigQuery instead.
 */
const DAY = 86_400_000;

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function setup() {
  const config = buildConfig({}, '/tmp/novade-late-resend');
  config.bigquery = { projectId: 'novade-sandbox', apiEndpoint: `http://127.0.0.1:${await closedPort()}`, dataset: 'segment', tables: ['tracks'] };
  const calls: string[] = [];
  const warehouse = new Proxy({} as Warehouse, {
    get: (_t, name) => (name === 'kind' ? 'duckdb' : async () => void calls.push(String(name))),
  });
  const deps = { config, log: createLogger({ level: 'silent' }), warehouse } as unknown as ActivityDeps;
  const step = createBackfillActivities(deps).backfillStep;
  const input = (over: Partial<BackfillStepInput>): BackfillStepInput => ({
    runId: 'segment-backfill-test',
    tables: ['tracks'],
    range: { startMs: Date.parse('2024-01-01T00:00:00Z'), endMs: Date.parse('2024-01-03T00:00:00Z') },
    windowHours: 24,
    pageSize: 100,
    pagesPerStep: 2,
    stepBudgetMs: 5_000,
    cursor: { windowStart: '2024-01-01T00:00:00.000Z', table: 0 },
    dryRun: false,
    rate: null,
    firstAttemptAt: Date.now(),
    ...over,
  });
  const run = (over: Partial<BackfillStepInput>) => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR', () => undefined) }).run(step, input(over));
  return { run, calls };
}

describe('backfill step: re-sending past Amplitude 7-day insert_id dedup window', () => {
  it('guards at 6 days: a day of margin under Amplitude 7', () => {
    expect(LATE_RESEND_MS).toBe(6 * DAY);
  });

  it('refuses a step first attempted more than 6 days ago, for good and before touching anything, saying how to go on', async () => {
    const { run, calls } = await setup();
    const err = await run({ firstAttemptAt: Date.now() - 6 * DAY - 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'DedupWindowExpired', nonRetryable: true });
    expect((err as Error).message).toMatch(/first attempted 6\.0 days ago .* Amplitude deduplicates insert_ids for 7 days only/);
    expect((err as Error).message).toContain('npx novade backfill resume --allow-late-resend');
    expect(calls).toEqual([]);
  });

  it('lets through a step just inside the window, one the operator allowed, and a dry run (which sends nothing)', async () => {
    const { run, calls } = await setup();
    for (const over of [{ firstAttemptAt: Date.now() - 6 * DAY + 60_000 }, { firstAttemptAt: Date.now() - 30 * DAY, allowLateResend: true }, { firstAttemptAt: Date.now() - 30 * DAY, dryRun: true }]) {
      const err = await run(over).catch((e: unknown) => e);
      // Past the guard, the step went on to read BigQuery, which is not there.
      expect(err, JSON.stringify(over)).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).not.toBe('DedupWindowExpired');
      expect((err as Error).message).toMatch(/BigQuery|127\.0\.0\.1|ECONNREFUSED|reach/i);
    }
    expect(calls).toEqual([]);
  });
});
