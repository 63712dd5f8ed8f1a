import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { buildCatalog } from '../../migrate/n8n/catalog';
import { parseExport } from '../../migrate/n8n/export-format';
import { analyze } from '../../migrate/n8n/inventory';
import { renderInventoryText } from '../../migrate/n8n/render-text';
import { renderStreamsYaml } from '../../migrate/n8n/render-yaml';
import { suggestStreams } from '../../migrate/n8n/suggestions';
import { salesforceSection } from '../../streams/config/schema';

/**
 * Any export n8n could write, and much it could not, is read without crashing: arbitrary JSON at
 * the top, arbitrary node lists (known types with hostile parameters, unknown types), arbitrary
 * connections. Every workflow read gets an inventory, every use a coverage, and the YAML stays
 * valid streams.yaml.
 */

const catalog = buildCatalog({ streamsSource: 'config/streams.yaml', segmentDataset: 'segment', segmentTables: ['tracks', 'identifies', 'pages'] });

const TYPES = [
  'n8n-nodes-base.salesforce', 'n8n-nodes-base.salesforceTrigger', 'n8n-nodes-base.httpRequest', 'n8n-nodes-base.googleBigQuery', 'n8n-nodes-base.segment',
  'n8n-nodes-base.drift', 'n8n-nodes-base.scheduleTrigger', 'n8n-nodes-base.cron', 'n8n-nodes-base.interval', 'n8n-nodes-base.webhook', 'n8n-nodes-base.manualTrigger',
  'n8n-nodes-base.code', 'n8n-nodes-base.set', 'n8n-nodes-base.stickyNote', 'n8n-nodes-base.slack', 'n8n-nodes-amplitude.amplitude', '@acme/n8n-nodes-acme.acmeTrigger',
];

/** Values shaped like what the node readers look for, and anything else. */
const value = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom('getAll', 'get', 'query', 'search', 'customObject', 'opportunity', 'executeQuery', 'insert', 'track', 'page', 'minutes', 'cronExpression', 'everyX', 'custom', 'POST', 'leadUpdated', 'customObjectCreated'),
  fc.constantFrom('SELECT Id, Account.Name, (SELECT Id FROM Contacts) FROM Contact WHERE', 'SELECT FROM', "SELECT * FROM `p.d.t` JOIN [a:b.c]", '={{ $json.x }}', '=https://{{ $json.host }}/x', 'https://acme.my.salesforce.com/services/data/v59.0/query?q=SELECT+Id+FROM+Lead', 'https://api2.amplitude.com/batch', 'https://driftapi.com/conversations/1/messages', '%E0%A4%A', 'Id,,Name, ,'),
  fc.record({ __rl: fc.constant(true), value: fc.jsonValue(), mode: fc.string() }),
);
const params = fc.dictionary(
  fc.oneof(fc.constantFrom('resource', 'operation', 'customObject', 'query', 'sqlQuery', 'url', 'method', 'requestMethod', 'path', 'httpMethod', 'triggerOn', 'projectId', 'datasetId', 'tableId'), fc.string()),
  fc.oneof(
    value,
    fc.record({ fields: fc.oneof(value, fc.array(value)), conditionsUi: fc.record({ conditionValues: fc.array(fc.dictionary(fc.string(), value)) }) }),
    fc.record({ interval: fc.array(fc.dictionary(fc.constantFrom('field', 'minutesInterval', 'hoursInterval', 'expression', 'triggerAtDay', 'weeksInterval'), value)) }),
    fc.record({ item: fc.array(fc.dictionary(fc.constantFrom('mode', 'value', 'unit', 'cronExpression', 'hour', 'weekday'), value)) }),
    fc.record({ parameters: fc.array(fc.record({ name: value, value })) }),
  ),
  { maxKeys: 8 },
);
const node = fc.record(
  { name: fc.oneof(fc.constantFrom('A', 'B', 'C', 'D'), fc.string()), type: fc.oneof(fc.constantFrom(...TYPES), fc.string()), typeVersion: fc.oneof(fc.constantFrom(1, 2, 4.2), fc.jsonValue()), parameters: fc.oneof(params, fc.jsonValue()), disabled: fc.oneof(fc.boolean(), fc.jsonValue()) },
  { requiredKeys: ['type'] },
);
const target = fc.oneof(fc.record({ node: fc.oneof(fc.constantFrom('A', 'B', 'C', 'D'), fc.string()), type: fc.constant('main'), index: fc.nat(3) }), fc.constant(null), fc.jsonValue());
const connections = fc.oneof(
  fc.dictionary(fc.oneof(fc.constantFrom('A', 'B', 'C', 'D'), fc.string()), fc.dictionary(fc.constantFrom('main', 'ai_tool'), fc.array(fc.oneof(fc.array(target), fc.constant(null))))),
  fc.jsonValue(),
);
const workflow = fc.record({ name: fc.oneof(fc.string(), fc.jsonValue()), active: fc.oneof(fc.boolean(), fc.jsonValue()), nodes: fc.array(fc.oneof(node, fc.jsonValue()), { maxLength: 12 }), connections }, { requiredKeys: ['nodes'] });

const STATUSES = new Set(['covered', 'needs config', 'not covered']);
const VERDICTS = new Set(['covered', 'covered once configured', 'partly covered', 'not covered', 'moves no data']);

function runAll(json: unknown) {
  const { workflows, problems } = parseExport(json, 'fuzz.json');
  const inv = analyze(workflows, problems, catalog);
  const suggestions = suggestStreams(inv, catalog);
  const yaml = renderStreamsYaml(suggestions, 'config/streams.yaml');
  renderInventoryText(inv, 'fuzz.json');
  JSON.stringify({ ...inv, streams: suggestions });
  return { workflows, inv, yaml };
}

describe('n8n inventory: arbitrary input never crashes', () => {
  it('any JSON value at the top', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        runAll(json);
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary node lists and connections: one inventory per workflow, a coverage per use, valid streams.yaml', () => {
    fc.assert(
      fc.property(fc.oneof(workflow, fc.array(workflow, { maxLength: 3 })), (json) => {
        const { workflows, inv, yaml } = runAll(json);
        expect(inv.workflows).toHaveLength(workflows.length);
        for (const w of inv.workflows) {
          expect(VERDICTS.has(w.verdict)).toBe(true);
          for (const u of w.uses) {
            expect(STATUSES.has(u.coverage.status)).toBe(true);
            expect(u.coverage.reason.length).toBeGreaterThan(0);
          }
        }
        const doc = YAML.parse(yaml) as { salesforce?: unknown } | null;
        if (doc !== null) salesforceSection.parse(doc.salesforce);
      }),
      { numRuns: 400 },
    );
  });

  it('Salesforce reads with arbitrary object and field names, run from a trigger: the YAML is valid streams.yaml for what can be named', () => {
    const apiName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,20}$/);
    const name = fc.oneof(apiName, fc.string());
    const read = fc.oneof(
      fc.record({ resource: fc.constant('customObject'), customObject: name, operation: fc.constantFrom('getAll', 'get'), options: fc.record({ fields: fc.oneof(fc.array(name), name.map((n) => `${n},Id`)) }) }),
      fc.tuple(fc.array(name, { minLength: 1, maxLength: 5 }), name).map(([fields, object]) => ({ resource: 'search', operation: 'query', query: `SELECT ${fields.join(', ')} FROM ${object}` })),
    );
    fc.assert(
      fc.property(fc.array(read, { minLength: 1, maxLength: 4 }), (reads) => {
        const nodes = [{ name: 'go', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} }, ...reads.map((parameters, i) => ({ name: `sf${i}`, type: 'n8n-nodes-base.salesforce', typeVersion: 1, parameters }))];
        const { yaml } = runAll({ name: 'w', nodes, connections: { go: { main: [reads.map((_, i) => ({ node: `sf${i}`, type: 'main', index: 0 }))] } } });
        const doc = YAML.parse(yaml) as { salesforce?: unknown } | null;
        if (doc !== null) salesforceSection.parse(doc.salesforce);
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
