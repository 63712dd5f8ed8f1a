import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { buildCatalog } from '../../migrate/n8n/catalog';
import { parseExport } from '../../migrate/n8n/export-format';
import { analyze, type WorkflowInventory } from '../../migrate/n8n/inventory';
import { readExports } from '../../migrate/n8n/read-files';
import { renderStreamsYaml } from '../../migrate/n8n/render-yaml';
import { suggestStreams } from '../../migrate/n8n/suggestions';
import { triggerOf } from '../../migrate/n8n/triggers';
import { parseSoql } from '../../migrate/n8n/soql';
import { sqlTables } from '../../migrate/n8n/sql-tables';
import type { N8nNode } from '../../migrate/n8n/export-format';
import { parseStreamsFile } from '../../streams/config/load';
import { salesforceSection, type StreamsFile } from '../../streams/config/schema';
import { runCli } from '../../client/cli';
import { CliContext } from '../../client/cli-context';
import { buildConfig } from '../../config/config';

/**
 * The n8n inventory over exports written from n8n's documented workflow format
 * (tests/fixtures/n8n), compared with today's four Salesforce objects unless a test gives its own
 * streams file.
 */

const FIXTURES = path.resolve(__dirname, '../fixtures/n8n');
const todays = buildCatalog({ streamsSource: 'config/streams.yaml', segmentDataset: 'segment', segmentTables: ['tracks', 'identifies', 'pages'] });

function inventoryOf(file: string, catalog = todays) {
  const { workflows, problems } = readExports(path.join(FIXTURES, file));
  expect(problems).toEqual([]);
  return analyze(workflows, problems, catalog);
}
const only = (file: string): WorkflowInventory => {
  const inv = inventoryOf(file);
  expect(inv.workflows).toHaveLength(1);
  return inv.workflows[0];
};
const node = (type: string, parameters: Record<string, unknown>, name = 'n'): N8nNode => ({ name, type, typeVersion: 1, parameters, credentials: {}, disabled: false });

describe('n8n inventory over the fixtures', () => {
  it('schedule + Salesforce Get Many: the interval, each object with the fields it names, what streams.yaml lacks', () => {
    const w = only('schedule-salesforce-getall.json');
    expect(w.triggers).toEqual([expect.objectContaining({ kind: 'schedule', description: 'every 15 minutes', everySeconds: 900 })]);
    const [opps, projects, amplitude] = w.uses;
    expect(opps.salesforce).toMatchObject({ object: 'Opportunity', operation: 'getAll', fields: ['Id', 'Name', 'StageName', 'Amount', 'AccountId', 'Region__c', 'LastModifiedDate'] });
    expect(opps.coverage).toMatchObject({ status: 'needs config', by: 'salesforce_opportunity' });
    expect(opps.coverage.reason).toContain('does not read Region__c yet');
    expect(projects.salesforce).toMatchObject({ object: 'Project__c', fields: ['Id', 'Name', 'Status__c', 'Opportunity__c'] });
    expect(projects.coverage).toMatchObject({ status: 'needs config', by: 'salesforce_project (to add)' });
    expect(amplitude).toMatchObject({ system: 'amplitude', access: 'write', http: { host: 'api2.amplitude.com', path: '/2/httpapi' } });
    expect(amplitude.coverage.status).toBe('needs config');
    expect(w.logic).toEqual(['Shape event']);
    expect(w.verdict).toBe('covered once configured');
    // The sticky note is no step.
    expect(JSON.stringify(w)).not.toContain('Sticky Note');
  });

  it('the same workflow is covered once the streams file declares the fields and the object', () => {
    const streams: StreamsFile = {
      version: 1,
      salesforce: {
        objects: [
          { object: 'Opportunity', fields: ['Id', 'Name', 'StageName', 'Amount', 'AccountId', 'Region__c', 'LastModifiedDate'] },
          { object: 'Project__c', fields: 'all' },
        ],
      },
    };
    const w = inventoryOf('schedule-salesforce-getall.json', buildCatalog({ streams, streamsSource: 'x.yaml', segmentDataset: 'segment', segmentTables: [] })).workflows[0];
    expect(w.uses.map((u) => [u.coverage.status, u.coverage.by])).toEqual([
      ['covered', 'salesforce_opportunity'],
      ['covered', 'salesforce_project'],
      ['covered', 'salesforce_opportunity, salesforce_project'],
    ]);
    expect(w.verdict).toBe('covered');
  });

  it('webhook + Segment: path and method, each Segment call covered by the Segment-compatible endpoint', () => {
    const w = only('webhook-segment.json');
    expect(w.triggers).toEqual([expect.objectContaining({ kind: 'webhook', webhook: { path: 'website-signup', methods: ['POST'] }, description: 'POST /webhook/website-signup' })]);
    expect(w.uses.map((u) => [u.system, u.access, u.segment?.call, u.coverage.status, u.coverage.by])).toEqual([
      ['segment', 'write', 'identify', 'covered', 'website tracking (/v1/identify)'],
      ['segment', 'write', 'track', 'covered', 'website tracking (/v1/track)'],
    ]);
    expect(w.logic).toEqual(['Has email?', 'Respond']);
    expect(w.verdict).toBe('covered');
    expect(w.notes.join('\n')).toMatch(/POST \/webhook\/website-signup must be pointed elsewhere/);
  });

  it('HTTP Request + BigQuery: Segment tables → backfill, another host and a BigQuery insert → not covered', () => {
    const w = only('http-bigquery.json');
    expect(w.triggers.map((t) => t.kind)).toEqual(['manual']);
    const bySystem = w.uses.map((u) => [u.node, u.system, u.access, u.coverage.status, u.coverage.by ?? null]);
    expect(bySystem).toEqual([
      ['Read Segment tracks', 'bigquery', 'read', 'covered', 'Segment backfill'],
      ['Get won deals', 'http', 'read', 'not covered', null],
      ['Amplitude batch', 'amplitude', 'write', 'covered', 'Segment backfill'],
      ['Store deals', 'bigquery', 'write', 'not covered', null],
    ]);
    expect(w.uses[0].bigquery?.tables).toEqual([
      { project: 'novade-analytics', dataset: 'segment', table: 'tracks' },
      { project: 'novade-analytics', dataset: 'segment', table: 'identifies' },
    ]);
    expect(w.uses[1].http).toMatchObject({ method: 'GET', host: 'api.pipedrive-like.example.com', path: '/v1/deals' });
    expect(w.uses[3].bigquery?.tables).toEqual([{ project: 'novade-analytics', dataset: 'reporting', table: 'won_deals' }]);
    expect(w.verdict).toBe('partly covered');
    expect(w.notes).toContain('inactive in n8n: it runs only when started by hand');
  });

  it('a Segment table the backfill is not set to read needs SEGMENT_TABLES; a per-event table is not covered', () => {
    const catalog = buildCatalog({ streamsSource: 's', segmentDataset: 'segment', segmentTables: ['tracks'] });
    const w = inventoryOf('http-bigquery.json', catalog).workflows[0];
    expect(w.uses[0].coverage).toMatchObject({ status: 'needs config', by: 'Segment backfill' });
    expect(w.uses[0].coverage.reason).toContain('add identifies to SEGMENT_TABLES');
    const perEvent = analyze(parseExport({ name: 'x', nodes: [{ name: 'q', type: 'n8n-nodes-base.googleBigQuery', typeVersion: 2, parameters: { operation: 'executeQuery', sqlQuery: 'SELECT * FROM segment.signed_up' } }], connections: {} }, 'x').workflows, [], catalog);
    expect(perEvent.workflows[0].uses[0].coverage.status).toBe('not covered');
    expect(perEvent.workflows[0].uses[0].coverage.reason).toMatch(/per-event table/);
  });

  it('an unknown community node is listed by type and not covered; a disabled node is not counted', () => {
    const w = only('community-node.json');
    expect(w.triggers).toEqual([expect.objectContaining({ kind: 'schedule', description: 'every 6 hours at :30', everySeconds: 21_600 })]);
    const acme = w.uses.find((u) => u.node === 'Acme deals')!;
    expect(acme).toMatchObject({ system: 'other', community: true, type: 'n8n-nodes-acme-crm.acmeCrm', label: 'Acme Crm', access: 'read', active: true });
    expect(acme.coverage).toMatchObject({ status: 'not covered' });
    expect(acme.coverage.reason).toContain('community node n8n-nodes-acme-crm.acmeCrm');
    expect(w.uses.find((u) => u.node === 'Slack')?.coverage.reason).toBe('novade-sync has no Slack connector');
    const drift = w.uses.find((u) => u.node === 'Drift contact')!;
    expect(drift).toMatchObject({ active: false, inactiveReason: 'disabled' });
    // The disabled Drift read would be covered, but it does not run: the workflow stays not covered.
    expect(w.verdict).toBe('not covered');
    expect(w.code).toEqual(['Big deals only']);
  });

  it('a legacy Cron node: both trigger times; a SOQL query read with its relationship; Drift through HTTP; a write back', () => {
    const w = only('legacy-cron.json');
    expect(w.triggers).toEqual([expect.objectContaining({ kind: 'schedule', description: 'every 10 minutes; cron 0 0 6 * * 1-5', cron: ['0 0 6 * * 1-5'] })]);
    expect(w.triggers[0].everySeconds).toBeUndefined();
    const [soql, drift, write] = w.uses;
    expect(soql.salesforce).toMatchObject({ object: 'Contact', operation: 'query', fields: ['Id', 'Email', 'FirstName', 'Region__c', 'LastModifiedDate', 'AccountId'], relationships: ['Account.Name'] });
    expect(soql.coverage.reason).toContain('does not read Region__c yet');
    expect(drift).toMatchObject({ system: 'drift', access: 'read', drift: { resource: 'contacts' } });
    expect(drift.coverage).toMatchObject({ status: 'covered', by: 'drift_contacts' });
    expect(write).toMatchObject({ system: 'salesforce', access: 'write', operation: 'update', salesforce: { object: 'Contact', fields: ['Drift_Id__c'] } });
    expect(write.coverage.status).toBe('not covered');
    expect(w.verdict).toBe('partly covered');
  });

  it('an export:workflow array: a polling Salesforce trigger with n8n default fields, a sub-workflow of custom code', () => {
    const inv = inventoryOf('all-workflows.json');
    const [leads, sub] = inv.workflows;
    expect(leads.source).toBe('all-workflows.json[0]');
    expect(leads.triggers).toEqual([expect.objectContaining({ kind: 'poll', description: 'polls Salesforce every 5 minutes', everySeconds: 300 })]);
    expect(leads.uses[0].salesforce).toMatchObject({ object: 'Lead', defaultFields: true, fields: ['Id', 'Company', 'FirstName', 'LastName', 'Street', 'PostalCode', 'City', 'Email', 'Status', 'LastModifiedDate'] });
    expect(leads.uses[1]).toMatchObject({ system: 'amplitude', access: 'write', amplitude: { api: 'identify' } });
    expect(sub.triggers.map((t) => t.kind)).toEqual(['workflow']);
    expect(sub.code).toEqual(['Trim names']);
    expect(sub.verdict).toBe('moves no data');
  });

  it('the folder: every workflow of every file, in file order', () => {
    const inv = inventoryOf('');
    expect(inv.workflows.map((w) => w.name)).toEqual([
      'Updated leads to Amplitude identify',
      'Sub-workflow: format names',
      'Acme CRM deals to Slack',
      'Segment history and CRM deals',
      'Contacts refresh (legacy cron)',
      'Opportunities to Amplitude',
      'Website signups to Segment',
    ]);
  });
});

describe('HTTP Request: the host says which system', () => {
  const http = (parameters: Record<string, unknown>, typeVersion = 4.2) => {
    const wf = { name: 'h', nodes: [{ name: 'go', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} }, { name: 'req', type: 'n8n-nodes-base.httpRequest', typeVersion, parameters }], connections: { go: { main: [[{ node: 'req', type: 'main', index: 0 }]] } } };
    return analyze(parseExport(wf, 'h.json').workflows, [], todays).workflows[0].uses[0];
  };

  it('Salesforce REST: a SOQL query in the URL or in the query parameters, a record by id', () => {
    const inUrl = http({ url: 'https://novade.my.salesforce.com/services/data/v59.0/query?q=SELECT+Id,Name,Industry+FROM+Account' });
    expect(inUrl).toMatchObject({ system: 'salesforce', access: 'read', salesforce: { object: 'Account', fields: ['Id', 'Name', 'Industry'] } });
    expect(inUrl.coverage).toMatchObject({ status: 'covered', by: 'salesforce_account' });
    const inParams = http({ url: 'https://novade.my.salesforce.com/services/data/v59.0/query', sendQuery: true, queryParameters: { parameters: [{ name: 'q', value: 'SELECT Id, Score__c FROM Lead' }] } });
    expect(inParams.salesforce).toMatchObject({ object: 'Lead', fields: ['Id', 'Score__c'] });
    expect(inParams.coverage.status).toBe('needs config');
    const v1 = http({ url: '=https://novade.my.salesforce.com/services/data/v59.0/sobjects/Opportunity/{{ $json.id }}', requestMethod: 'PATCH' }, 1);
    expect(v1).toMatchObject({ system: 'salesforce', access: 'write', salesforce: { object: 'Opportunity' } });
    expect(v1.coverage.status).toBe('not covered');
  });

  it('Segment, Amplitude, Drift and any other host', () => {
    expect(http({ method: 'POST', url: 'https://api.segment.io/v1/batch' }).coverage).toMatchObject({ status: 'covered', by: 'website tracking (/v1/batch)' });
    expect(http({ url: 'https://amplitude.com/api/2/export?start=20240101T00&end=20240102T00' }).coverage).toMatchObject({ status: 'covered', by: 'Amplitude ingest (/amplitude)' });
    expect(http({ url: 'https://amplitude.com/api/2/events/segmentation' }).coverage.status).toBe('not covered');
    // An Amplitude send with no covered source in the workflow is not covered.
    expect(http({ method: 'POST', url: 'https://api2.amplitude.com/2/httpapi' }).coverage.status).toBe('not covered');
    expect(http({ url: 'https://driftapi.com/conversations/123/messages' })).toMatchObject({ drift: { resource: 'messages' }, coverage: { status: 'covered', by: 'drift_messages' } });
    expect(http({ method: 'POST', url: 'https://driftapi.com/contacts' }).coverage.status).toBe('not covered');
    expect(http({ url: '={{ $json.next }}' })).toMatchObject({ system: 'http', label: 'a URL computed at run time' });
    expect(http({ url: 'https://hooks.example.org:8443/x' })).toMatchObject({ system: 'http', label: 'hooks.example.org', http: { path: '/x' } });
  });
});

describe('--yaml: streams.yaml entries', () => {
  it('entries for the objects the file lacks, which the streams loader accepts added to the shipped file; declared objects get their missing fields as comments', () => {
    const { workflows, problems } = readExports(FIXTURES);
    const shipped = fs.readFileSync(path.resolve(__dirname, '../../config/streams.yaml'), 'utf8');
    const parsed = parseStreamsFile(shipped, 'config/streams.yaml');
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
    const catalog = buildCatalog({ streams: parsed.file, streamsSource: 'config/streams.yaml', segmentDataset: 'segment', segmentTables: ['tracks'] });
    const suggestions = suggestStreams(analyze(workflows, problems, catalog), catalog);
    const text = renderStreamsYaml(suggestions, catalog.salesforceSource);

    expect(text).toContain('# Opportunity (salesforce_opportunity) is declared; add to its fields: Region__c (read by "Opportunities to Amplitude")');
    expect(text).toContain('# Lead (salesforce_lead) is declared; add to its fields: Street, PostalCode, City');
    const section = salesforceSection.parse((YAML.parse(text) as { salesforce: unknown }).salesforce);
    expect(section.objects).toEqual([{ object: 'Project__c', stream: 'salesforce_project', fields: ['Id', 'Name', 'Status__c', 'Opportunity__c'] }]);

    // Pasted under salesforce.objects of the shipped file, the whole file still loads.
    const doc = YAML.parseDocument(shipped);
    for (const o of section.objects) doc.addIn(['salesforce', 'objects'], o);
    const merged = parseStreamsFile(doc.toString(), 'config/streams.yaml');
    expect(merged.ok ? 'ok' : merged.problems).toBe('ok');
  });

  it('an object read with every field becomes `fields: all`; nothing to add says so', () => {
    const wf = { name: 'get one', nodes: [{ name: 'get', type: 'n8n-nodes-base.salesforce', typeVersion: 1, parameters: { resource: 'customObject', customObject: 'Site__c', operation: 'get' } }, { name: 'go', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} }], connections: { go: { main: [[{ node: 'get', type: 'main', index: 0 }]] } } };
    const inv = analyze(parseExport(wf, 'x').workflows, [], todays);
    const s = suggestStreams(inv, todays);
    expect(s.add.map((a) => a.entry)).toEqual([{ object: 'Site__c', stream: 'salesforce_site', fields: 'all' }]);
    expect(renderStreamsYaml(s, 'config/streams.yaml')).toContain('a workflow read every field');
    const none = renderStreamsYaml({ add: [], extend: [] }, 'config/streams.yaml');
    expect(none).toMatch(/Nothing to add/);
    expect(YAML.parse(none)).toBeNull();
  });
});

describe('triggers: n8n defaults for parameters an export leaves out', () => {
  const schedule = (rule: unknown) => triggerOf(node('n8n-nodes-base.scheduleTrigger', rule === undefined ? {} : { rule }))!;
  it.each([
    [undefined, 'every day at 00:00', 86_400],
    [{ interval: [{}] }, 'every day at 00:00', 86_400],
    [{ interval: [{ field: 'minutes' }] }, 'every 5 minutes', 300],
    [{ interval: [{ field: 'seconds' }] }, 'every 30 seconds', 30],
    [{ interval: [{ field: 'hours', hoursInterval: 2, triggerAtMinute: 15 }] }, 'every 2 hours at :15', 7_200],
    [{ interval: [{ field: 'days', triggerAtHour: 6, triggerAtMinute: 30 }] }, 'every day at 06:30', 86_400],
    [{ interval: [{ field: 'weeks', triggerAtDay: [1, 5], triggerAtHour: 9 }] }, 'every week on Monday, Friday at 09:00', undefined],
    [{ interval: [{ field: 'months', monthsInterval: 3, triggerAtDayOfMonth: 15 }] }, 'every 3 months on day 15 at 00:00', undefined],
    [{ interval: [{ field: 'cronExpression', expression: '0 */6 * * *' }] }, 'cron 0 */6 * * *', undefined],
  ])('Schedule Trigger %j → %s', (rule, description, seconds) => {
    const t = schedule(rule);
    expect(t.description).toBe(description);
    expect(t.everySeconds).toBe(seconds);
  });

  it('legacy Cron, Interval, webhook and manual nodes', () => {
    expect(triggerOf(node('n8n-nodes-base.cron', { triggerTimes: { item: [{}] } }))?.description).toBe('every day at 14:00');
    expect(triggerOf(node('n8n-nodes-base.cron', { triggerTimes: { item: [{ mode: 'everyX' }] } }))).toMatchObject({ description: 'every 2 hours', everySeconds: 7_200 });
    expect(triggerOf(node('n8n-nodes-base.cron', {}))?.description).toBe('no trigger times (never runs)');
    expect(triggerOf(node('n8n-nodes-base.interval', { interval: 10, unit: 'minutes' }))).toMatchObject({ description: 'every 10 minutes', everySeconds: 600 });
    expect(triggerOf(node('n8n-nodes-base.webhook', { path: 'x' }))?.webhook).toEqual({ path: 'x', methods: ['GET'] });
    expect(triggerOf(node('n8n-nodes-base.webhook', { path: '/y', multipleMethods: true, httpMethod: ['POST', 'PUT'] }))?.description).toBe('POST|PUT /webhook/y');
    expect(triggerOf(node('n8n-nodes-base.manualTrigger', {}))?.kind).toBe('manual');
    expect(triggerOf(node('n8n-nodes-base.hubspotTrigger', {}))).toMatchObject({ kind: 'other', description: 'Hubspot event (app trigger)' });
    expect(triggerOf(node('n8n-nodes-base.set', {}))).toBeUndefined();
  });
});

describe('SOQL and SQL readers', () => {
  it('SOQL: select list, filters, subqueries, FIELDS(ALL), functions, n8n expressions and URL-encoded spaces', () => {
    expect(parseSoql("SELECT Id, toLabel(StageName), COUNT(Amount) total, (SELECT Id FROM Contacts) FROM Opportunity WHERE CloseDate > 2024-01-01 AND Owner.Name = 'Ann O\\'Neil' ORDER BY CreatedDate DESC LIMIT 10")).toEqual({
      object: 'Opportunity',
      fields: ['Id', 'StageName', 'Amount', 'CloseDate', 'Owner.Name', 'CreatedDate'],
      allFields: false,
      children: ['Contacts'],
    });
    expect(parseSoql('SELECT FIELDS(ALL) FROM Project__c LIMIT 200')).toMatchObject({ object: 'Project__c', allFields: true, fields: [] });
    expect(parseSoql("=SELECT Id FROM Lead WHERE Email = '{{ $json.email }}' AND Status IN ('Open', 'New')")).toMatchObject({ object: 'Lead', fields: ['Id', 'Email', 'Status'] });
    expect(parseSoql('SELECT+Id,Name+FROM+Account')).toMatchObject({ object: 'Account', fields: ['Id', 'Name'] });
    expect(parseSoql('FIND {Acme} IN ALL FIELDS')).toBeUndefined();
    expect(parseSoql('SELECT Id')).toBeUndefined();
  });

  it('BigQuery SQL: quoted names, Legacy SQL, CTEs, writes', () => {
    expect(sqlTables('WITH recent AS (SELECT * FROM `p`.`segment`.`pages`) SELECT * FROM recent JOIN segment.identifies USING (user_id)')).toEqual({
      reads: [{ project: 'p', dataset: 'segment', table: 'pages' }, { dataset: 'segment', table: 'identifies' }],
      writes: [],
      writesData: false,
    });
    expect(sqlTables('SELECT * FROM [novade:segment.tracks]').reads).toEqual([{ project: 'novade', dataset: 'segment', table: 'tracks' }]);
    const insert = sqlTables('INSERT INTO reporting.daily (d, n) SELECT DATE(timestamp), COUNT(*) FROM segment.tracks GROUP BY 1');
    expect(insert.writes).toEqual([{ dataset: 'reporting', table: 'daily' }]);
    expect(insert.reads).toEqual([{ dataset: 'segment', table: 'tracks' }]);
    expect(sqlTables('MERGE INTO crm.deals t USING staging.deals s ON t.id = s.id WHEN MATCHED THEN DELETE')).toMatchObject({ writes: [{ dataset: 'crm', table: 'deals' }], reads: [{ dataset: 'staging', table: 'deals' }] });
    expect(sqlTables('DELETE FROM crm.old WHERE true')).toEqual({ reads: [], writes: [{ dataset: 'crm', table: 'old' }], writesData: true });
  });
});

describe('reading exports', () => {
  it('an API listing, an empty list, a node without a type, odd connections', () => {
    const listing = parseExport({ data: [{ id: 9, name: 'A', nodes: [] }], nextCursor: null }, 'api.json');
    expect(listing.workflows.map((w) => [w.source, w.id, w.name])).toEqual([['api.json[0]', '9', 'A']]);
    expect(parseExport([], 'empty.json').problems).toEqual([{ source: 'empty.json', message: 'the file holds an empty list: no workflow to read' }]);
    const odd = parseExport({ nodes: [{ name: 'a' }, { name: 'b', type: 'n8n-nodes-base.noOp', parameters: 'oops', typeVersion: 'x' }], connections: { b: { main: [null, [null, { node: 'a' }]] }, c: 5 } }, 'odd.json', 'odd');
    expect(odd.workflows[0]).toMatchObject({ name: 'odd', nodes: [{ name: 'b', parameters: {}, typeVersion: 1 }] });
    expect(odd.problems).toEqual([{ source: 'odd.json', message: expect.stringMatching(/^nodes\[0\] skipped: a node needs a "type"/) }]);
    expect(parseExport({ name: 'credentials' }, 'c.json').problems[0].message).toMatch(/not an n8n workflow/);
  });

  it('a folder with a file that is not JSON and one that is no workflow: both named, the rest read', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-export-'));
    try {
      fs.copyFileSync(path.join(FIXTURES, 'webhook-segment.json'), path.join(dir, 'a.json'));
      fs.mkdirSync(path.join(dir, 'sub'));
      fs.writeFileSync(path.join(dir, 'sub', 'b.json'), '{ "nodes": [');
      fs.writeFileSync(path.join(dir, 'c.json'), '{"credentials": []}');
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
      const { workflows, problems } = readExports(dir);
      expect(workflows.map((w) => w.name)).toEqual(['Website signups to Segment']);
      expect(problems.map((p) => p.source)).toEqual(['c.json', path.join('sub', 'b.json')]);
      expect(problems[1].message).toMatch(/^not JSON/);
      expect(() => readExports(path.join(dir, 'missing.json'))).toThrow(/no such file or folder/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

describe('npx novade migrate n8n', () => {
  const run = async (...args: string[]) => {
    const out = new Capture();
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
    try {
      const code = await runCli(['migrate', 'n8n', ...args], new CliContext(out, buildConfig({}, '/tmp')));
      return { code, out: out.text, err: errors.join('') };
    } finally {
      process.stderr.write = write;
    }
  };

  it('prints the report, the YAML and the JSON; refuses both formats at once and a path that holds no workflow', async () => {
    const text = await run(FIXTURES);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^n8n inventory of .*: 7 workflows \(Salesforce streams from config\/streams\.yaml\)/);
    expect(text.out).toContain('"Website signups to Segment" (webhook-segment.json, id 12, active): COVERED');

    const yaml = await run(FIXTURES, '--yaml');
    expect(yaml.code).toBe(0);
    expect(salesforceSection.parse((YAML.parse(yaml.out) as { salesforce: unknown }).salesforce).objects.map((o) => o.object)).toEqual(['Project__c']);

    const json = await run(path.join(FIXTURES, 'legacy-cron.json'), '--json');
    const parsed = JSON.parse(json.out) as { workflows: WorkflowInventory[]; streams: { extend: { object: string; fields: string[] }[] } };
    expect(parsed.workflows[0].verdict).toBe('partly covered');
    expect(parsed.streams.extend).toEqual([expect.objectContaining({ object: 'Contact', fields: ['Region__c'] })]);

    expect((await run(FIXTURES, '--yaml', '--json')).code).toBe(1);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-streams-'));
    try {
      // No streams file: compared with today's four objects, and said so.
      const missing = await run(FIXTURES, '--streams', path.join(scratch, 'none.yaml'));
      expect(missing.code).toBe(0);
      expect(missing.out).toMatch(/Salesforce streams from today's objects \(.*none\.yaml not found\)/);
      // An invalid one stops the command with its problems.
      fs.writeFileSync(path.join(scratch, 'bad.yaml'), 'version: 2\n');
      const bad = await run(FIXTURES, '--streams', path.join(scratch, 'bad.yaml'));
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/bad\.yaml.*version/s);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-empty-'));
    try {
      const empty = await run(dir);
      expect(empty.code).toBe(1);
      expect(empty.err).toMatch(/no n8n workflow could be read/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
