import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDBWarehouse, type DuckDBWarehouse } from '../../connectors/warehouse/duckdb/duckdb-warehouse';
import { segmentSilverDef, segmentSilverRow } from '../../mappings/segment-warehouse';
import { SEGMENT_TABLES, segmentRows } from '../../sandbox/seed/segment';
import { draftPlanFiles } from '../../tracking/draft';
import { readDraftStats } from '../../tracking/draft-read';
import { loadPlan } from '../../tracking/plan-compile';
import { formatProblem } from '../../tracking/plan-load';

/**
 * The draft of a tracking plan from a seeded Segment history in the warehouse (silver.segment_*, as
 * the backfill writes them): the sandbox's known events and properties come out named, typed and
 * with their values, and the files pass lint.
 */
let wh: DuckDBWarehouse;
const seed = { seed: 7, rowsPerTable: 6_000, from: '2024-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' };

beforeAll(async () => {
  wh = await openDuckDBWarehouse({ path: ':memory:' });
  for (const table of SEGMENT_TABLES) {
    const def = segmentSilverDef(table);
    await wh.ensureSchema({ silver: [def] });
    await wh.mergeSilver(def, [...segmentRows(seed, table)].map((r) => segmentSilverRow(table, r)));
  }
});
afterAll(async () => {
  await wh?.close();
});

type Schema = { type: string | string[]; enum?: unknown[]; examples?: unknown[]; format?: string; description?: string };
type EventFile = { name: string; source: string; properties: { required?: string[]; properties: Record<string, Schema> } };

describe('tracking plan draft from the Segment history', () => {
  let files: Map<string, string>;
  let events: EventFile[];

  beforeAll(async () => {
    const stats = await readDraftStats(wh, { from: '2024-01-01', to: '2024-12-31', perSubject: 2_000 });
    files = draftPlanFiles(stats);
    events = [...files].filter(([f]) => f.startsWith('events/')).map(([, text]) => parse(text) as EventFile);
  });

  it('names every event seen, under the name the site sends', () => {
    const names = events.map((e) => e.name).sort();
    for (const name of ['Form Submitted', 'Checklist Completed', 'Defect Reported', 'Login', 'Photo Uploaded', 'Project Created', 'Report Exported']) expect(names).toContain(name);
    // The same event sent with a very long text is still one event, under its usual name.
    expect(names.filter((n) => n.startsWith('Form Submitted'))).toEqual(['Form Submitted']);
    expect(events.every((e) => e.source === 'website')).toBe(true);
  });

  it('types each property as observed, with its values when few and how often it is present', () => {
    const form = events.find((e) => e.name === 'Form Submitted')!;
    const p = form.properties.properties;
    expect(p.form_type).toMatchObject({ type: 'string', enum: ['daily-report', 'incident', 'inspection', 'ncr', 'permit-to-work', 'toolbox-meeting'] });
    expect(p.platform).toMatchObject({ type: 'string', enum: ['android', 'ios', 'server', 'web'] });
    expect(p.plan).toMatchObject({ type: 'string', enum: ['enterprise', 'free', 'professional', 'starter'] });
    expect(p.project_id.type).toBe('string');
    expect(p.project_id.enum).toBeUndefined();
    expect(p.project_id.examples?.[0]).toMatch(/^prj_\d+$/);
    expect(p.offline.type).toBe('boolean');
    expect(form.properties.required).toEqual(expect.arrayContaining(['form_type', 'platform', 'project_id']));
    expect(form.properties.required).not.toContain('plan');
    expect(p.plan.description).toMatch(/^Present in (6\d|7\d)% of [\d,]+ calls read; seen as string 100\.0%\.$/);
    const checklist = events.find((e) => e.name === 'Checklist Completed')!.properties.properties;
    expect(checklist.item_count.type).toBe('integer');
    expect(checklist.checklist_id.type).toBe('string');
  });

  it('drafts the identify traits and the pages, without copying personal data', () => {
    const identify = parse(files.get('identify.yaml')!) as { traits: { properties: Record<string, Schema> } };
    expect(identify.traits.properties.email.type).toBe('string');
    expect(identify.traits.properties.email.examples).toBeUndefined();
    expect(identify.traits.properties.created_at).toMatchObject({ type: 'string', format: 'date-time' });
    expect(identify.traits.properties.plan.enum).toEqual(['enterprise', 'free', 'professional', 'starter']);
    expect(files.get('identify.yaml')).not.toMatch(/@/);
    const pages = parse(files.get('pages.yaml')!) as { names: { name: string }[]; properties: { properties: Record<string, Schema> } };
    expect(pages.names.map((n) => n.name).sort()).toEqual(['Blog', 'Checklists', 'Defects', 'Démo', 'Forms', 'Home', 'Login', 'Pricing', 'Projects']);
    expect(pages.properties.properties.path.type).toBe('string');
  });

  it('writes files that pass lint', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-draft-'));
    for (const [rel, text] of files) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text);
    }
    expect(loadPlan(dir).problems.map(formatProblem)).toEqual([]);
  });

  it('an empty range drafts an empty plan that still lints', async () => {
    const stats = await readDraftStats(wh, { from: '2030-01-01', to: '2030-01-31' });
    expect(stats).toMatchObject({ events: [], pages: [] });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-draft-empty-'));
    for (const [rel, text] of draftPlanFiles(stats)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text);
    }
    expect(loadPlan(dir).problems.map(formatProblem)).toEqual([]);
  });
});
