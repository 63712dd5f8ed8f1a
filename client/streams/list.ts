import { columnName } from '../../mappings/salesforce-fields';
import { targetState } from '../../mappings/salesforce-rules';
import { buildStreamDeclarations } from '../../streams/registry';
import { DEFAULT_EVENT_NAMES, driftStreamEnabled } from '../../streams/drift';
import { DRIFT_STREAM_EVENTS, defaultSalesforceStreamName, type DriftEventKey, type DriftStreamName, type EventRule, type StreamsFile } from '../../streams/config/schema';
import { syncStreamsOf } from '../../streams/sources';
import { formatTable } from '../cli-context';

/**
 * What `npx novade streams list` shows: every declared stream with its fields, silver columns and
 * events, from the streams file alone (no call to Salesforce: fields whose types come from
 * describe say so).
 */

export interface ListedField {
  field: string;
  column: string;
  /** Silver column type; null while it comes from describe (resolved at the stream's next run). */
  type: string | null;
}

export interface ListedEvent {
  id: string;
  when: string;
  name: string;
  /** Its insert_id pattern (Salesforce rules; empty for Drift, whose ids are the mapping's). */
  insertId: string;
}

export interface ListedStream {
  stream: string;
  source: 'salesforce' | 'drift';
  object: string;
  /** Whether scheduled runs sync it. */
  scheduled: boolean;
  cursor: string;
  deletes: boolean;
  /** `file`: fields and types known without Salesforce; `describe`: resolved from describe at each run. */
  fieldsFrom: 'file' | 'describe';
  selection: string;
  identity?: string;
  traits?: Record<string, string>;
  fields: ListedField[];
  events: ListedEvent[];
}

/** A rule's trigger in words. */
function when(rule: EventRule): string {
  if (rule.on === 'created') return 'first sight';
  if (rule.on === 'deleted') return 'deleted';
  const state = targetState(rule);
  if (state) return Object.entries(state).map(([f, v]) => `${f} = ${JSON.stringify(v)}`).join(' and ');
  return `${rule.field} changes`;
}

function insertIdOf(object: string, rule: EventRule, versionField: string): string {
  const once = rule.on === 'created' || rule.on === 'deleted' || rule.once === true;
  return once ? `sf:${object}:<Id>:${rule.id}` : `sf:${object}:<Id>:<${versionField}>:${rule.id}`;
}

export function listStreams(file: StreamsFile, opts: { userIdField?: string } = {}): ListedStream[] {
  const decls = buildStreamDeclarations(file, { salesforce: { userIdField: opts.userIdField } });
  const scheduled = new Set([...syncStreamsOf(file, 'salesforce'), ...syncStreamsOf(file, 'drift')]);
  const out: ListedStream[] = [];
  for (const o of file.salesforce?.objects ?? []) {
    const name = o.stream ?? defaultSalesforceStreamName(o.object);
    const decl = decls.get(name);
    if (!decl) continue;
    const cursor = o.cursor ?? 'SystemModstamp';
    const described = decl.fromDescribe !== undefined;
    const fields: ListedField[] = described
      ? (Array.isArray(o.fields) ? o.fields : []).map((f) => ({ field: f, column: columnName(f), type: null }))
      : decl.fields.map((f, i) => ({ field: f, column: decl.silver.columns[i].name, type: decl.silver.columns[i].type }));
    const id = o.identity;
    const userIdField = id?.user_id !== undefined ? (opts.userIdField ?? id.user_id) : undefined;
    out.push({
      stream: name,
      source: 'salesforce',
      object: o.object,
      scheduled: scheduled.has(name),
      cursor,
      deletes: o.deletes !== false,
      fieldsFrom: described ? 'describe' : 'file',
      selection: o.fields === 'all' ? 'all' : Array.isArray(o.fields) ? 'list' : `all except ${o.fields.all_except.join(', ')}`,
      ...(id
        ? {
            identity: userIdField
              ? `user_id = ${userIdField}${userIdField !== id.user_id ? ` (SALESFORCE_USER_ID_FIELD; the file says ${id.user_id})` : ''}`
              : `device_id = ${id.device_id}${id.device_id_fallback ? ` (else ${id.device_id_fallback})` : ''}${id.groups ? `, groups ${Object.entries(id.groups).map(([g, f]) => `${g} = ${f}`).join(', ')}` : ''}`,
          }
        : {}),
      ...(o.traits ? { traits: o.traits } : {}),
      fields,
      events: (o.events ?? []).map((r) => ({ id: r.id, when: when(r), name: r.name, insertId: insertIdOf(o.object, r, cursor) })),
    });
  }
  for (const [stream, events] of Object.entries(DRIFT_STREAM_EVENTS) as [DriftStreamName, readonly DriftEventKey[]][]) {
    const decl = decls.get(stream);
    if (!decl) continue;
    const names = file.drift?.streams[stream]?.events ?? {};
    out.push({
      stream,
      source: 'drift',
      object: decl.object,
      scheduled: scheduled.has(stream),
      cursor: decl.cursorField,
      deletes: false,
      fieldsFrom: 'file',
      selection: driftStreamEnabled(file.drift, stream) ? (stream === 'drift_playbook_goals' ? 'webhooks only' : 'enabled') : 'disabled (enabled: false)',
      fields: decl.silver.columns.map((c) => ({ field: c.name, column: c.name, type: c.type })),
      events: events.map((key) => ({ id: key, when: key.replace(/_/g, ' '), name: names[key] ?? DEFAULT_EVENT_NAMES[key], insertId: '' })),
    });
  }
  return out;
}

export function renderStreams(streams: ListedStream[], file: string): string {
  const lines: string[] = [`Streams declared in ${file}`, ''];
  lines.push(
    formatTable(
      ['stream', 'source', 'object', 'runs', 'cursor', 'fields', 'events'],
      streams.map((s) => [
        s.stream,
        s.source,
        s.object,
        s.scheduled ? 'scheduled' : s.selection.startsWith('webhooks') ? 'webhooks' : 'off',
        s.cursor,
        s.fieldsFrom === 'describe' ? (s.selection === 'list' ? `${s.fields.length} (types from describe)` : `${s.selection} (from describe)`) : String(s.fields.length),
        String(s.events.length),
      ]),
    ),
  );
  for (const s of streams) {
    lines.push('', `${s.stream} (${s.source} ${s.object})`);
    if (s.identity) lines.push(`  identity: ${s.identity}`);
    else if (s.source === 'salesforce') lines.push('  identity: none (warehouse only)');
    if (s.traits) lines.push(`  traits: ${Object.entries(s.traits).map(([t, f]) => `${t} = ${f}`).join(', ')}`);
    if (s.fieldsFrom === 'describe' && s.fields.length === 0) lines.push(`  fields: ${s.selection}, resolved from Salesforce's describe at each run (\`npx novade streams discover salesforce --object ${s.object}\` shows them)`);
    else lines.push(`  fields → silver.${s.stream} columns:`, ...s.fields.map((f) => `    ${f.field} → ${f.column} ${f.type ?? '(type from describe)'}`));
    if (s.events.length > 0) {
      lines.push('  events:');
      lines.push(...formatTable(['id', 'when', 'event', 'insert_id'], s.events.map((e) => [e.id, e.when, e.name, e.insertId])).split('\n').map((l) => `    ${l}`));
    }
  }
  return lines.join('\n');
}
