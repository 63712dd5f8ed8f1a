import type { N8nNode } from '../export-format';
import { at, items, literal, textOf, withoutExpressions } from '../params';
import { parseSoql } from '../soql';
import type { Access, HttpUse, SystemUse } from '../uses';
import { withRelationships } from './salesforce';

/**
 * The HTTP Request node (`n8n-nodes-base.httpRequest`): `url`, and the method in `method` (version 3
 * and later) or `requestMethod` (1 and 2), GET when left out. Query parameters are in
 * `queryParameters.parameters[]` (3+) or `queryParametersUi.parameter[]` (1, 2). The host says which
 * system it is: Salesforce's REST API, Segment's tracking API, Amplitude's ingestion or export APIs,
 * Drift's API, BigQuery's; any other host is listed as itself.
 */

function requestOf(node: N8nNode): HttpUse & { query: Map<string, string> } {
  const p = node.parameters;
  const method = (literal(p.method) ?? literal(p.requestMethod) ?? 'GET').toUpperCase();
  const raw = textOf(p.url)?.text ?? '';
  const query = new Map<string, string>();
  const params = [...items(at(p, 'queryParameters'), 'parameters'), ...items(at(p, 'queryParametersUi'), 'parameter')];
  for (const q of params) {
    const name = literal(q.name);
    const value = textOf(q.value)?.text;
    if (name && value !== undefined) query.set(name, value);
  }
  // Host and path survive an expression elsewhere in the URL (`https://api2.amplitude.com/2/httpapi?x={{...}}`).
  const text = withoutExpressions(raw.trim(), 'EXPR');
  const m = /^(?:https?:\/\/)?([^/?#\s]+)([^?#\s]*)(?:\?([^#\s]*))?/i.exec(text);
  const host = m && !m[1].includes('EXPR') && m[1].includes('.') ? m[1].toLowerCase().replace(/:\d+$/, '') : undefined;
  if (m?.[3]) for (const pair of m[3].split('&')) {
    const [k, v = ''] = pair.split('=');
    try {
      query.set(decodeURIComponent(k), decodeURIComponent(v.replace(/\+/g, ' ')));
    } catch {
      query.set(k, v);
    }
  }
  return { method, url: raw, host, path: host ? m?.[2] || '/' : undefined, query };
}

const access = (method: string): Access => (method === 'GET' || method === 'HEAD' ? 'read' : 'write');
const is = (host: string | undefined, ...suffixes: string[]) => !!host && suffixes.some((s) => host === s || host.endsWith(`.${s}`));

export function httpRequestNode(node: N8nNode): SystemUse[] {
  const req = requestOf(node);
  const { query, ...http } = req;
  const base = { node: node.name, type: node.type, http, operation: req.method };
  const path = req.path ?? '';
  const host = req.host;

  if (is(host, 'salesforce.com', 'force.com')) {
    const q = query.get('q');
    const soql = q !== undefined && /\/(query|queryAll)\/?$/.test(path) ? parseSoql(q) : undefined;
    const sobject = /\/sobjects\/([A-Za-z][A-Za-z0-9_]*)/.exec(path)?.[1];
    const operation = soql ? 'query' : req.method;
    const detail = withRelationships(
      { object: soql?.object ?? sobject, operation, fields: [], allFields: soql ? soql.allFields : req.method === 'GET' && !!sobject && /\/sobjects\/\w+\/\w+/.test(path), fieldsDynamic: !!q && !soql, defaultFields: false, relationships: [], metadata: /\/describe\/?$/.test(path), ...(q ? { soql: q } : {}) },
      soql?.fields ?? [],
    );
    return [{ ...base, system: 'salesforce', label: 'Salesforce REST API', access: soql ? 'read' : access(req.method), salesforce: detail }];
  }
  if (is(host, 'segment.io', 'segmentapis.com')) {
    const call = /\/v1\/(track|identify|page|screen|group|alias|batch|import)\b/.exec(path)?.[1];
    if (call) return [{ ...base, system: 'segment', label: 'Segment tracking API', access: 'write', segment: { call } }];
    return [{ ...base, system: 'segment', label: `Segment API (${host})`, access: access(req.method) }];
  }
  if (is(host, 'amplitude.com')) {
    const ingest = /^\/(2\/httpapi|batch|identify|groupidentify|usersearch)\b/.exec(path)?.[1];
    if (ingest && ingest !== 'usersearch') return [{ ...base, system: 'amplitude', label: 'Amplitude ingestion API', access: 'write', amplitude: { api: ingest } }];
    if (/\/api\/2\/export\b/.test(path)) return [{ ...base, system: 'amplitude', label: 'Amplitude export API', access: 'read', amplitude: { api: 'export' } }];
    return [{ ...base, system: 'amplitude', label: `Amplitude API (${path || host})`, access: access(req.method), amplitude: { api: 'dashboard' } }];
  }
  if (is(host, 'driftapi.com', 'drift.com')) {
    const resource = /^\/(contacts|conversations|meetings|users|accounts|playbooks|teams)\b/.exec(path)?.[1] ?? 'other';
    const messages = /\/conversations\/[^/]+\/messages/.test(path) ? 'messages' : resource;
    return [{ ...base, system: 'drift', label: 'Drift API', access: access(req.method), drift: { resource: messages } }];
  }
  if (is(host, 'bigquery.googleapis.com')) return [{ ...base, system: 'bigquery', label: 'BigQuery API', access: /\/(queries|jobs)\b/.test(path) || req.method === 'GET' ? 'read' : 'write', bigquery: { tables: [] } }];
  return [{ ...base, system: 'http', label: host ?? (req.url ? 'a URL computed at run time' : 'no URL'), access: access(req.method) }];
}
