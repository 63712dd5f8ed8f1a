import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabricksWarehouse } from '../../connectors/warehouse/databricks/databricks-warehouse';
import { amplitudeEventsSilver } from '../../mappings/amplitude-export';
import { segmentSilverDef, segmentSilverRow } from '../../mappings/segment-warehouse';
import { segmentLiveSilverDef } from '../../mappings/segment-live';
import { readDraftStats } from '../../tracking/draft-read';
import { paritySilverTables, warehouseSides } from '../../tracking/parity-sources';
import { SparkExecutor } from '../helpers/spark-executor';

/**
 * The tracking reports' read-only SQL (the draft's and the parity report's) on the Databricks
 * adapter, run by Apache Spark 3.5 + Delta Lake as the other Databricks dialect tests are: the same
 * text DuckDB runs in the other tracking tests. Fails (does not skip) without Spark: run
 * `npm run setup -- --for-tests`.
 */

const SLOW = 300_000;
let spark: SparkExecutor;
let wh: DatabricksWarehouse;

const row = (id: string, at: string, extra: Record<string, unknown>) => ({ id, user_id: 'someone@example.com', timestamp: at, received_at: at, loaded_at: at, ...extra });

beforeAll(async () => {
  spark = await SparkExecutor.start();
  wh = new DatabricksWarehouse({ executor: spark, catalog: 'spark_catalog' });
  await wh.ensureSchema({ silver: [segmentSilverDef('tracks'), segmentSilverDef('identifies'), segmentSilverDef('pages'), ...paritySilverTables()] });
  const tracks = [
    row('t1', '2024-05-01T10:00:00.000000Z', { event: 'form_submitted', event_text: 'Form Submitted', form_type: 'inspection', item_count: 3 }),
    row('t2', '2024-05-01T11:00:00.000000Z', { event: 'form_submitted', event_text: 'Form Submitted', form_type: 'ncr', item_count: 4 }),
    row('t3', '2024-05-02T23:59:59.900000Z', { event: 'login', event_text: 'Login' }),
  ];
  await wh.mergeSilver(segmentSilverDef('tracks'), tracks.map((r) => segmentSilverRow('tracks', r)));
  await wh.mergeSilver(segmentSilverDef('pages'), [segmentSilverRow('pages', row('p1', '2024-05-01T09:00:00.000000Z', { name: 'Pricing', path: '/pricing' }))]);
  await wh.mergeSilver(segmentSilverDef('identifies'), [segmentSilverRow('identifies', row('i1', '2024-05-01T09:30:00.000000Z', { email: 'someone@example.com', plan: 'free' }))]);
  await wh.mergeSilver(segmentLiveSilverDef('tracks'), tracks.map((r) => segmentSilverRow('tracks', r)));
  await wh.mergeSilver(segmentLiveSilverDef('groups'), [{ id: 'g1', timestamp: '2024-05-01T12:00:00Z', received_at: '2024-05-01T12:00:00Z', group_id: 'acme' }]);
  const amp = (id: string, at: string, type: string) => ({ event_key: `ins:seg:${id}`, uuid: `u-${id}`, insert_id: `seg:${id}`, event_type: type, event_time: new Date(at), version_time: new Date(at) });
  await wh.mergeSilver(amplitudeEventsSilver, [amp('t1', '2024-05-01T10:00:00Z', 'form_submitted'), amp('g1', '2024-05-01T12:00:00Z', '$identify'), { ...amp('x', '2024-05-01T12:00:00Z', 'Other'), insert_id: 'sf:x', event_key: 'ins:sf:x' }]);
  await wh.writeTrackingViolations([
    { id: 'v1', event: 'Clicked Banner', callType: 'track', messageId: 'b1', type: 'unplanned_event', path: '$.event', sample: 'Clicked Banner', detail: 'd', outcome: 'blocked', planVersion: '1', receivedAt: new Date('2024-05-01T13:00:00Z') },
    { id: 'v2', event: 'Form Submitted', callType: 'track', messageId: 't2', type: 'wrong_type', path: '$.properties.item_count', sample: '4', detail: 'd', outcome: 'allowed', planVersion: '1', receivedAt: new Date('2024-05-01T11:00:00Z') },
  ]);
}, SLOW);
afterAll(async () => {
  await spark?.close();
}, 60_000);

describe('tracking reports on the Databricks adapter (Spark + Delta)', () => {
  it(
    'reads the draft statistics',
    async () => {
      const stats = await readDraftStats(wh, { from: '2024-05-01', to: '2024-05-02' });
      expect(stats.events.map((e) => [e.name, e.count, e.sampled])).toEqual([
        ['Form Submitted', 2, 2],
        ['Login', 1, 1],
      ]);
      const form = stats.events[0].properties;
      expect(form.map((p) => [p.key, p.present, p.types])).toEqual([
        ['form_type', 2, { string: 2 }],
        ['item_count', 2, { integer: 2 }],
      ]);
      expect(stats.pages.map((p) => [p.name, p.count])).toEqual([['Pricing', 1]]);
      expect(stats.identify?.count).toBe(1);
    },
    SLOW,
  );

  it(
    "reads novade-sync's side, Amplitude's (seg: insert_ids, groups left out) and the blocked calls",
    async () => {
      const sides = warehouseSides(wh);
      const w = { start: '2024-05-01T00:00:00.000Z', end: '2024-05-03T00:00:00.000Z' };
      expect((await sides.collected(w)).map((c) => [c.id, c.eventType, c.at.slice(0, 19)]).sort()).toEqual([
        ['t1', 'form_submitted', '2024-05-01T10:00:00'],
        ['t2', 'form_submitted', '2024-05-01T11:00:00'],
        ['t3', 'login', '2024-05-02T23:59:59'],
      ]);
      expect((await sides.amplitude(w)).map((c) => [c.id, c.eventType])).toEqual([['t1', 'form_submitted']]);
      expect((await sides.blocked(w)).map((c) => [c.id, c.eventType])).toEqual([['b1', 'clicked_banner']]);
      expect(await sides.collected({ start: '2024-06-01T00:00:00.000Z', end: '2024-06-02T00:00:00.000Z' })).toEqual([]);
    },
    SLOW,
  );
});
