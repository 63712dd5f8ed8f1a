import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createAmplitudeIngestActivities } from '../../activities/amplitude-ingest';
import { createLogger } from '../../config/logger';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../../connectors/warehouse';
import { PlatformMetrics } from '../../lib/metrics';
import { exportEvent } from '../helpers/amplitude-webhook';

describe('Amplitude flush activity: time per stage', () => {
  let wh: DuckDBWarehouse | undefined;
  afterEach(async () => {
    await wh?.close();
    wh = undefined;
  });

  it('observes each stage it runs once per flush, and only those', async () => {
    wh = await openDuckDBWarehouse({ path: ':memory:' });
    const metrics = new PlatformMetrics();
    const { flushAmplitudeEvents } = createAmplitudeIngestActivities({ warehouse: wh, log: createLogger({ level: 'silent' }), metrics });
    const counts = async () => {
      const m = await metrics.registry.getSingleMetric('novade_amplitude_flush_stage_seconds')!.get();
      // A histogram's values carry the series name (_bucket, _sum, _count) beside their labels.
      const values = m.values as { metricName?: string; labels: Record<string, string | number>; value: number }[];
      return Object.fromEntries(values.filter((v) => v.metricName === 'novade_amplitude_flush_stage_seconds_count').map((v) => [v.labels.stage, v.value]));
    };

    const env = new MockActivityEnvironment();
    const result = await env.run(flushAmplitudeEvents, { batchId: 'b1', events: [exportEvent(), exportEvent()], rejected: [] });
    expect(result).toMatchObject({ appended: 2, inserted: 2, deadLettered: 0 });
    expect(await counts()).toEqual({ check: 1, bronze: 1, silver: 1 });

    await env.run(flushAmplitudeEvents, { batchId: 'b2', events: [exportEvent({ event_type: 42 })], rejected: [] });
    expect(await counts()).toEqual({ check: 2, bronze: 1, silver: 1, dead_letters: 1 });
  });
});
