import type { N8nNode } from '../export-format';
import { BUILT_IN_PACKAGES, literal, packageOf, shortType } from '../params';
import { accessOf, type SystemUse } from '../uses';
import { bigQueryNode } from './bigquery';
import { httpRequestNode } from './http';
import { salesforceNode, salesforceTriggerNode } from './salesforce';

/** What a node is for the inventory: a step that moves no data, custom code, or a use of a system. */
export type NodeRole = 'trigger' | 'logic' | 'code' | 'system' | 'note';

/** Built-in nodes that only shape, route or wait on items. */
const LOGIC = new Set([
  'set', 'if', 'switch', 'merge', 'splitInBatches', 'noOp', 'wait', 'filter', 'itemLists', 'splitOut', 'aggregate', 'sort', 'limit', 'removeDuplicates',
  'summarize', 'dateTime', 'renameKeys', 'compareDatasets', 'crypto', 'html', 'xml', 'markdown', 'moveBinaryData', 'convertToFile', 'extractFromFile',
  'spreadsheetFile', 'respondToWebhook', 'stopAndError', 'executionData', 'debugHelper', 'editImage', 'jwt', 'totp', 'form', 'executeWorkflow',
]);
const CODE = new Set(['code', 'function', 'functionItem', 'executeCommand', 'aiTransform']);

export function roleOf(node: N8nNode): Exclude<NodeRole, 'trigger'> {
  const t = shortType(node.type);
  if (t === 'stickyNote') return 'note';
  if (BUILT_IN_PACKAGES.has(packageOf(node.type)) && LOGIC.has(t)) return 'logic';
  if (BUILT_IN_PACKAGES.has(packageOf(node.type)) && CODE.has(t)) return 'code';
  return 'system';
}

/** `googleSheets` → `Google Sheets`, `n8n-nodes-foo.acmeCrm` → `Acme Crm`. */
export function appName(type: string): string {
  const t = shortType(type).replace(/Trigger$/, '').replace(/Tool$/, '');
  const words = t.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[-_]+/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The systems a node reads or writes (none for logic, code and notes). */
export function usesOf(node: N8nNode): SystemUse[] {
  const t = shortType(node.type);
  const pkg = packageOf(node.type);
  const builtIn = BUILT_IN_PACKAGES.has(pkg);
  const operation = literal(node.parameters.operation);
  const resource = literal(node.parameters.resource);
  if (builtIn) {
    switch (t) {
      case 'salesforce':
        return salesforceNode(node);
      case 'salesforceTrigger':
        return salesforceTriggerNode(node);
      case 'httpRequest':
      case 'httpRequestTool':
        return httpRequestNode(node);
      case 'googleBigQuery':
        return bigQueryNode(node);
      case 'segment': {
        // Resources identify (create), track (event, page) and group (add); all send to Segment.
        const res = resource ?? 'identify';
        const call = res === 'track' ? (operation === 'page' ? 'page' : 'track') : res === 'group' ? 'group' : 'identify';
        return [{ node: node.name, type: node.type, system: 'segment', label: 'Segment', access: 'write', operation: call, segment: { call } }];
      }
      case 'drift': {
        const op = operation ?? 'create';
        return [{ node: node.name, type: node.type, system: 'drift', label: 'Drift', access: op === 'get' || op === 'getCustomAttributes' ? 'read' : 'write', operation: op, drift: { resource: 'contacts' } }];
      }
    }
  }
  if (/amplitude/i.test(t) || /amplitude/i.test(pkg)) {
    const op = operation ?? resource;
    return [{ node: node.name, type: node.type, system: 'amplitude', label: 'Amplitude', access: accessOf(op), ...(op ? { operation: op } : {}), amplitude: { api: op ?? 'unknown' }, ...(builtIn ? {} : { community: true }) }];
  }
  const op = operation ?? undefined;
  return [{ node: node.name, type: node.type, system: 'other', label: appName(node.type), access: /Trigger$/.test(t) ? 'read' : accessOf(op), ...(op ? { operation: op } : {}), ...(builtIn ? {} : { community: true }) }];
}
