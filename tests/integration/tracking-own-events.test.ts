import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../../connectors/warehouse/duckdb/duckdb-warehouse';
import { SalesforceReader } from '../../connectors/salesforce';
import { DriftReader } from '../../connectors/drift';
import { parseSegmentRow } from '../../connectors/bigquery';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../sandbox/salesforce';
import { startDriftEmulator, DRIFT_ORG_ID, type DriftEmulator } from '../../sandbox/drift';
import { SEED_AS_OF } from '../../sandbox/seed/salesforce';
import { SEGMENT_TABLES, segmentRows } from '../../sandbox/seed/segment';
import { syncPage } from '../../streams/pipeline';
import type { EventSink } from '../../ports/event-sink';
import type { Cursor, ReadMode, SourceReader } from '../../ports/source-reader';
import { buildStreamDeclarations, DEFAULT_STREAMS_FILE } from '../../streams/registry';
import { loadStreamsFile } from '../../streams/config/load';
import type { StreamDeclaration } from '../../streams/types';
import { mapSegmentRow } from '../../mappings/segment';
import type { AmplitudeEvent } from '../../mappings/amplitude-types';
import { routeDriftEvent } from '../../webhook/drift';
import { loadValidPlan } from '../../tracking/plan-compile';
import { checkAmplitudeEvent } from '../../tracking/amplitude-check';
import { ROOT } from '../helpers/paths';

/**
 * The platform's own Amplitude events are on the tracking plan: every mapping (Salesforce contacts,
 * leads, opportunities and their changes; Drift conversations, messages, contacts, meetings,
 * playbook goals; the Segment backfill's tracks, identifies and pages) run over the sandbox's seed
 * data through the real readers and pipeline (no Temporal), every event it sends checked against
 * tracking-plan/. A violation names the event type, the path and a masked sample.
 */

const plan = loadValidPlan(path.join(ROOT, 'tracking-plan'));
const log = createLogger({ level: 'silent' });

class CapturingSink implements EventSink {
  readonly events: AmplitudeEvent[] = [];
  async send(events: AmplitudeEvent[]) {
    this.events.push(...events);
    return { sent: events.length, rejected: [] };
  }
}

/** The plan's verdict on a list of events: "<event type> <violation> <path> (<sample>)" per problem, with a count. */
function violations(events: AmplitudeEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events)
    for (const v of checkAmplitudeEvent(e, plan)) {
      const key = `${e.event_type} ${v.type} ${v.path} (${v.sample ?? '-'})`;
      out[key] = (out[key] ?? 0) + 1;
    }
  return out;
}

const byType = (events: AmplitudeEvent[]) => [...new Set(events.map((e) => e.event_type))].sort();

/** Every page of a stream through the real pipeline, from its current cursor to the end. */
async function syncAll(wh: DuckDBWarehouse, reader: SourceReader, sink: EventSink, decl: StreamDeclaration, run: string): Promise<void> {
  let cursor: Cursor = (await wh.getSyncState(decl.name)) ?? null;
  const planned = await reader.plan(decl, cursor, false);
  cursor = planned.cursor;
  let mode: ReadMode = planned.mode;
  for (let page = 0; page < 500; page++) {
    const r = await syncPage({ warehouse: wh, reader, sink, mapping: { minIdLength: 5, userIdField: 'Email' } }, decl, { runId: `${run}-${decl.name}`, cursor, mode }, { runId: run, progress: () => undefined });
    if (r.done) return;
    cursor = r.nextCursor;
    mode = r.nextMode;
  }
  throw new Error(`${decl.name} did not finish in 500 pages`);
}

const streams = buildStreamDeclarations(loadStreamsFile(DEFAULT_STREAMS_FILE));
const decl = (name: string) => streams.get(name)!;

describe("the platform's own Amplitude events against the tracking plan", () => {
  let wh: DuckDBWarehouse;
  let sf: SalesforceEmulator;
  let drift: DriftEmulator;
  const clock = { t: SEED_AS_OF + 10 * 60_000 };

  beforeAll(async () => {
    wh = await openDuckDBWarehouse({ path: ':memory:' });
    const now = Date.now();
    [sf, drift] = await Promise.all([
      startSalesforceEmulator({ port: 0, scale: 0.03, now: () => new Date(clock.t), bulkJobDurationMs: 20 }),
      startDriftEmulator({ port: 0, scale: 0.1, now: () => new Date(now) }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([sf?.close(), drift?.close()]);
    await wh?.close();
  });

  it('Salesforce: contacts, leads (converted ones too), opportunities, then their changes (identify, stage changed, won, lost)', async () => {
    const config = buildConfig({}, ROOT);
    config.salesforce.loginUrl = sf.url;
    const reader = new SalesforceReader({ config: config.salesforce, log });
    const sink = new CapturingSink();
    const order = ['salesforce_account', 'salesforce_contact', 'salesforce_lead', 'salesforce_opportunity'];
    for (const s of order) await syncAll(wh, reader, sink, decl(s), 'sf-1');
    // Changes between two syncs: every kind of change event the mapping can send.
    const at = (s: number) => ({ at: clock.t + s * 1000 });
    const open = sf.store.records('Opportunity').filter((o) => !o.IsClosed);
    sf.store.update('Opportunity', open[0].Id as string, { StageName: open[0].StageName === 'Negotiation/Review' ? 'Proposal/Price Quote' : 'Negotiation/Review' }, at(1));
    sf.store.update('Opportunity', open[1].Id as string, { StageName: 'Closed Won' }, at(2));
    sf.store.update('Opportunity', open[2].Id as string, { StageName: 'Closed Lost' }, at(3));
    const contact = sf.store.records('Contact').find((c) => typeof c.Email === 'string' && c.Email.includes('.'))!;
    sf.store.update('Contact', contact.Id as string, { Title: 'Chief Digital Officer' }, at(4));
    // (Leads converted in the seed send Lead Converted on the first sync; the emulator has no conversion call.)
    expect(sf.store.records('Lead').some((l) => l.IsConverted === true)).toBe(true);
    clock.t += 30_000;
    for (const s of order) await syncAll(wh, reader, sink, decl(s), 'sf-2');

    expect(byType(sink.events)).toEqual(['$identify', 'Contact Created', 'Lead Converted', 'Lead Created', 'Opportunity Created', 'Opportunity Lost', 'Opportunity Stage Changed', 'Opportunity Won']);
    expect(sink.events.length).toBeGreaterThan(1_000);
    expect(violations(sink.events)).toEqual({});
  }, 300_000);

  it('Drift: conversations, messages, contacts, meetings, and playbook goals from the webhook', async () => {
    const config = buildConfig({}, ROOT);
    config.drift.baseUrl = drift.url;
    const reader = new DriftReader({ config: config.drift, log });
    const sink = new CapturingSink();
    for (const s of ['drift_contacts', 'drift_conversations', 'drift_messages', 'drift_meetings']) await syncAll(wh, reader, sink, decl(s), 'drift-1');
    // Playbook goals arrive only by webhook: the emulator's event, routed as the webhook routes it, read as a targeted page.
    const withPlaybook = drift.store.listConversations({ limit: 1_000 }).page.filter((c) => c.relatedPlaybookId !== undefined).slice(0, 5);
    expect(withPlaybook.length).toBeGreaterThan(0);
    for (const c of withPlaybook) {
      const goal = drift.store.playbookGoalMet(c.id);
      const { targets } = routeDriftEvent(String(DRIFT_ORG_ID), 'playbook_goal_met', goal, Date.now());
      for (const s of ['drift_conversations', 'drift_playbook_goals'])
        await syncPage({ warehouse: wh, reader, sink, mapping: { minIdLength: 5, userIdField: 'Email' } }, decl(s), { runId: `goal-${c.id}`, cursor: targets as unknown as Cursor, mode: 'targeted' }, { runId: `goal-${c.id}`, progress: () => undefined });
    }

    expect(byType(sink.events)).toEqual(['Drift Conversation Started', 'Drift Email Captured', 'Drift Meeting Booked', 'Drift Message Received', 'Drift Playbook Goal Met']);
    expect(violations(sink.events)).toEqual({});
  }, 300_000);

  it('the Segment backfill: every row of the seeded history it can send', () => {
    const events: AmplitudeEvent[] = [];
    const seed = { seed: 42, rowsPerTable: 15_000, from: '2022-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' };
    for (const table of SEGMENT_TABLES)
      for (const row of segmentRows(seed, table)) {
        const parsed = parseSegmentRow(table, row);
        if (!parsed.ok) continue;
        const mapped = mapSegmentRow(table, parsed.row, { minIdLength: 5 });
        if (mapped.ok) events.push(mapped.event);
      }
    expect(events.length).toBeGreaterThan(40_000);
    expect(byType(events).length).toBeGreaterThan(20);
    expect(violations(events)).toEqual({});
  });

  it('fails on an event off the plan, naming what is wrong', () => {
    const e: AmplitudeEvent = { event_type: 'Opportunity Won', device_id: 'sf-account:001', time: 0, insert_id: 'x', event_properties: { salesforce_opportunity_id: '006000000000001AAA', amount: 'a lot', colour: 'red' } };
    expect(violations([e, { ...e, event_type: 'Opportunity Exploded' }])).toEqual({
      'Opportunity Won unplanned_property $.event_properties.colour (red)': 1,
      'Opportunity Won wrong_type $.event_properties.amount (a lot)': 1,
      'Opportunity Exploded unplanned_event $.event_type (Opportunity Exploded)': 1,
    });
  });
});
