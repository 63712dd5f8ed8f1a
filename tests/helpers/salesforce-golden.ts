import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { createWarehouse } from '../../connectors/warehouse';
import type { Row, Warehouse } from '../../connectors/warehouse/types';
import { SalesforceReader } from '../../connectors/salesforce';
import type { AmplitudeEvent } from '../../mappings/amplitude-types';
import type { MappingContext } from '../../mappings/types';
import type { EventSink } from '../../ports/event-sink';
import { syncPage } from '../../streams/pipeline';
import type { StreamDeclaration } from '../../streams/types';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../sandbox/salesforce';
import { SEED_AS_OF } from '../../sandbox/seed/salesforce';
import { ROOT } from './paths';

/**
 * The Salesforce flow's output over the sandbox seed, as data: every Amplitude call (insert_id,
 * type, time, subject, groups, properties) and dead letter per sync, and the silver rows at the
 * end. The scenario walks a record through every version the sandbox produces: first sight
 * (REST and Bulk), edits, a changed and a removed email, a lead conversion, stage changes, wins
 * and losses (by hand and from the emulator's stage plan), deletes and system touches.
 *
 * Recorded once from the hand-written mappings (scripts/record-salesforce-golden.ts); the
 * streams.yaml rule engine must reproduce it exactly, since an event already sent under one
 * insert_id must never be sent again under another.
 */

export const GOLDEN_FILE = path.join(ROOT, 'tests/fixtures/salesforce-golden.json');

export interface GoldenCall {
  insert_id: string;
  event_type: string;
  time: number;
  user_id?: string;
  device_id?: string;
  groups?: Record<string, unknown>;
  event_properties?: Record<string, unknown>;
  user_properties?: Record<string, unknown>;
}

export interface GoldenPhase {
  name: string;
  calls: GoldenCall[];
  deadLetters: { stream: string; record_key: string; reason: string }[];
}

export interface GoldenOutput {
  scale: number;
  phases: GoldenPhase[];
  silver: Record<string, Record<string, unknown>[]>;
}

const SCALE = 0.008;
const STREAMS = ['salesforce_account', 'salesforce_contact', 'salesforce_lead', 'salesforce_opportunity'];

class RecordingSink implements EventSink {
  calls: AmplitudeEvent[] = [];
  async send(events: AmplitudeEvent[]) {
    this.calls.push(...events);
    return { sent: events.length, rejected: [] };
  }
}

/** A cell as stable JSON: timestamps as ISO text, bigints as numbers. */
function norm(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return Number(v);
  return v ?? null;
}

function callOf(e: AmplitudeEvent): GoldenCall {
  const out: GoldenCall = { insert_id: e.insert_id as string, event_type: e.event_type, time: e.time as number };
  if (e.user_id !== undefined) out.user_id = e.user_id;
  if (e.device_id !== undefined) out.device_id = e.device_id;
  if (e.groups !== undefined) out.groups = e.groups as Record<string, unknown>;
  if (e.event_properties !== undefined) out.event_properties = e.event_properties as Record<string, unknown>;
  if (e.user_properties !== undefined) out.user_properties = e.user_properties as Record<string, unknown>;
  return out;
}

export interface GoldenRun {
  streams: ReadonlyMap<string, StreamDeclaration>;
  mapping?: MappingContext;
}

/** Runs the scenario with the given declarations and returns what it produced. */
export async function runSalesforceGolden(run: GoldenRun): Promise<GoldenOutput> {
  const clock = { t: SEED_AS_OF + 10 * 60_000 };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-golden-'));
  let sf: SalesforceEmulator | undefined;
  let warehouse: Warehouse | undefined;
  try {
    sf = await startSalesforceEmulator({ port: 0, scale: SCALE, now: () => new Date(clock.t), bulkJobDurationMs: 20 });
    // A low Bulk threshold: the first load of contacts and leads comes as CSV, the rest as REST JSON.
    const config = buildConfig({ DATA_DIR: dir, SALESFORCE_BULK_THRESHOLD: '60' }, dir);
    config.salesforce.loginUrl = sf.url;
    warehouse = await createWarehouse(config.warehouse);
    const reader = new SalesforceReader({ config: config.salesforce, log: createLogger({ level: 'silent' }) });
    const sink = new RecordingSink();
    const mapping = run.mapping ?? { minIdLength: 5, userIdField: 'Email' };
    const seenLetters = new Set<string>();
    const phases: GoldenPhase[] = [];

    const sync = async (name: string) => {
      sink.calls = [];
      for (const stream of STREAMS) {
        const decl = run.streams.get(stream);
        if (!decl) throw new Error(`no declaration for ${stream}`);
        await warehouse!.ensureSchema({ bronze: [decl.bronze], silver: [decl.silver] });
        const stored = (await warehouse!.getSyncState(decl.name)) ?? null;
        let { cursor, mode } = await reader.plan(decl, stored, false);
        for (let page = 0; ; page++) {
          const runId = `${name}-${stream}`;
          const r = await syncPage({ warehouse: warehouse!, reader, sink, mapping }, decl, { runId, cursor, mode }, { runId, progress: () => {} });
          cursor = r.nextCursor;
          mode = r.nextMode;
          if (r.done) break;
          if (page > 1_000) throw new Error(`${stream} never finished`);
        }
      }
      const letters = await warehouse!.query<{ id: string; stream: string; record_key: string; reason: string }>(`SELECT id, stream, record_key, reason FROM ops.dead_letters`);
      const fresh = letters.filter((l) => !seenLetters.has(l.id));
      for (const l of fresh) seenLetters.add(l.id);
      phases.push({
        name,
        calls: sink.calls.map(callOf).sort((a, b) => (a.insert_id < b.insert_id ? -1 : a.insert_id > b.insert_id ? 1 : 0)),
        deadLetters: fresh.map((l) => ({ stream: l.stream, record_key: l.record_key, reason: l.reason })).sort((a, b) => `${a.stream}${a.record_key}${a.reason}`.localeCompare(`${b.stream}${b.record_key}${b.reason}`)),
      });
    };

    await sync('first sight');

    const store = sf.store;
    const at = (s: number) => ({ at: clock.t + s * 1000 });
    const contacts = store.records('Contact').filter((c) => typeof c.Email === 'string' && c.Email.includes('@'));
    store.update('Contact', contacts[0].Id as string, { Title: 'Chief Digital Officer' }, at(1));
    store.update('Contact', contacts[1].Id as string, { Email: 'New.Address@Novade-Customer.com' }, at(2));
    store.update('Contact', contacts[2].Id as string, { Email: null, Phone: '+65 0000 0000' }, at(3));
    store.delete('Contact', contacts[3].Id as string, at(4));
    store.touch('Contact', contacts[4].Id as string, at(5));
    store.update('Contact', contacts[5].Id as string, { LeadSource: null, Title: null, MailingCountry: 'SG' }, at(6));
    store.update('Contact', contacts[6].Id as string, { Description: 'Called about the pilot; no person property changed.' }, at(7));
    store.create('Contact', { FirstName: 'Søren', LastName: 'Jørgensen', Email: 'Soren.Jorgensen@Nordbau.de', Title: 'Bauleiter', AccountId: store.records('Account')[0].Id }, at(8));
    store.create('Contact', { LastName: 'Tan', Email: 'siti@straits', Title: 'HSE Officer' }, at(9));
    store.update('Account', store.records('Account')[1].Id as string, { Name: 'Renamed Builders Pte Ltd', NumberOfEmployees: 1200 }, at(10));

    const leads = store.records('Lead').filter((l) => l.IsConverted !== true && typeof l.Email === 'string' && l.Email.includes('@'));
    store.convertLead(leads[0].Id as string, { contactId: contacts[7].Id as string, accountId: contacts[7].AccountId as string | null }, at(11));
    store.update('Lead', leads[1].Id as string, { Status: 'Working - Contacted', Rating: 'Hot' }, at(12));
    store.delete('Lead', leads[2].Id as string, at(13));
    store.create('Lead', { FirstName: 'Aiko', LastName: 'Sato', Email: 'aiko.sato@kensetsu.jp', Company: 'Sato Kensetsu', IsConverted: true }, at(14));
    store.create('Lead', { LastName: 'Nguyễn', Company: 'Trần Infrastructure', Email: null }, at(15));

    const open = store.records('Opportunity').filter((o) => o.IsClosed !== true);
    const stageOf = (id: string) => store.get('Opportunity', id)!.StageName;
    store.update('Opportunity', open[0].Id as string, { StageName: stageOf(open[0].Id as string) === 'Negotiation/Review' ? 'Proposal/Price Quote' : 'Negotiation/Review' }, at(16));
    store.update('Opportunity', open[1].Id as string, { StageName: 'Closed Won' }, at(17));
    store.update('Opportunity', open[2].Id as string, { StageName: 'Closed Lost' }, at(18));
    store.update('Opportunity', open[3].Id as string, { NextStep: 'Call back', Amount: 99_000 }, at(19));
    store.delete('Opportunity', open[4].Id as string, at(20));
    store.create('Opportunity', { Name: 'Nordbau - Novade Enterprise', StageName: 'Prospecting', CloseDate: '2026-03-31', AccountId: null }, at(21));
    store.create('Opportunity', { Name: 'Sato - Novade Lite', StageName: 'Closed Won', CloseDate: '2025-11-15', AccountId: store.records('Account')[2].Id }, at(22));
    clock.t += 60_000;
    await sync('edits, conversion, stage changes, deletes');

    // The emulator's own stage plan: open deals climb stages and close over the next weeks.
    const lastClosed = store.records('Opportunity').find((o) => o.IsClosed === true && o.StageName === 'Closed Won');
    if (lastClosed) store.update('Opportunity', lastClosed.Id as string, { StageName: 'Prospecting' }, at(30));
    clock.t += 21 * 86_400_000;
    store.tick();
    await sync('three weeks of stage plan, a reopened deal');

    clock.t += 60_000;
    await sync('nothing new');

    const silver: Record<string, Record<string, unknown>[]> = {};
    for (const stream of STREAMS) {
      const rows = await warehouse.query<Row>(`SELECT * FROM silver.${stream} ORDER BY id`);
      silver[stream] = rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('_') || k === '_deleted').map(([k, v]) => [k, norm(v)])));
    }
    return { scale: SCALE, phases, silver };
  } finally {
    await warehouse?.close();
    await sf?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One call or row per line: a reviewable diff when the output changes on purpose. */
export function formatGolden(out: GoldenOutput): string {
  const list = (items: unknown[], indent: string) => (items.length === 0 ? '[]' : `[\n${items.map((i) => `${indent}  ${JSON.stringify(i)}`).join(',\n')}\n${indent}]`);
  const phases = out.phases.map((p) => `    {\n      "name": ${JSON.stringify(p.name)},\n      "calls": ${list(p.calls, '      ')},\n      "deadLetters": ${list(p.deadLetters, '      ')}\n    }`);
  const silver = Object.entries(out.silver).map(([s, rows]) => `    ${JSON.stringify(s)}: ${list(rows, '    ')}`);
  return `{\n  "scale": ${out.scale},\n  "phases": [\n${phases.join(',\n')}\n  ],\n  "silver": {\n${silver.join(',\n')}\n  }\n}\n`;
}
