import type { Inventory, UseEntry, Verdict, WorkflowInventory } from './inventory';
import { keyOf } from './sql-tables';

/** The inventory as text for a person: one block per workflow, a line per trigger and per system use. */

const VERDICTS: Verdict[] = ['covered', 'covered once configured', 'partly covered', 'not covered', 'moves no data'];

function what(u: UseEntry): string {
  const op = u.operation ? ` ${u.operation}` : '';
  switch (u.system) {
    case 'salesforce': {
      const sf = u.salesforce!;
      const object = sf.object ?? '(object computed at run time)';
      const fields = sf.metadata
        ? 'metadata'
        : sf.allFields
          ? 'every field'
          : sf.fieldsDynamic && sf.fields.length === 0
            ? 'fields computed at run time'
            : `${sf.fields.join(', ')}${sf.defaultFields ? " (n8n's default fields)" : ''}${sf.fieldsDynamic ? ' and fields computed at run time' : ''}`;
      const via = u.http ? ` via ${u.http.host ?? 'REST'}` : '';
      if (u.access === 'write') return `Salesforce ${object}${op}${via}${sf.fields.length ? `: sets ${sf.fields.join(', ')}` : ''}`;
      return `Salesforce ${object}${op}${via}: ${fields}${sf.relationships.length ? ` (through ${sf.relationships.join(', ')})` : ''}`;
    }
    case 'bigquery': {
      const tables = u.bigquery?.tables.map(keyOf) ?? [];
      return `BigQuery${op}${tables.length ? `: ${tables.join(', ')}` : ''}`;
    }
    case 'http':
      return `HTTP ${u.http?.method ?? ''} ${u.http?.host ? `${u.http.host}${u.http.path ?? ''}` : u.label}`;
    case 'segment':
      return u.segment ? `Segment ${u.segment.call}${u.http ? ` via ${u.http.host}` : ''}` : u.label;
    case 'drift':
      return `Drift ${u.drift?.resource ?? ''}${op}`;
    case 'amplitude':
      return `${u.label}${u.http?.host ? ` (${u.http.host}${u.http.path ?? ''})` : ''}${u.http ? '' : op}`;
    case 'other':
      return `${u.label}${op}${u.community ? ` (community node ${u.type})` : ''}`;
  }
}

function renderWorkflow(w: WorkflowInventory): string[] {
  const tags = [w.source, w.id !== undefined ? `id ${w.id}` : '', w.active === undefined ? '' : w.active ? 'active' : 'inactive'].filter(Boolean).join(', ');
  const lines = [`"${w.name}" (${tags}): ${w.verdict.toUpperCase()}`];
  if (w.triggers.length === 0) lines.push('  trigger  none');
  for (const t of w.triggers) lines.push(`  trigger  ${t.kind}: ${t.description}  [${t.node}]`);
  for (const u of w.uses) {
    const verb = u.access === 'read' ? 'reads ' : u.access === 'write' ? 'writes' : 'uses  ';
    lines.push(`  ${verb}   ${what(u)}  [${u.node}]${u.active ? '' : ` (${u.inactiveReason}: not counted)`}`);
    lines.push(`           → ${u.coverage.status}${u.coverage.by ? ` by ${u.coverage.by}` : ''}: ${u.coverage.reason}`);
  }
  if (w.logic.length) lines.push(`  steps    ${w.logic.join(', ')}`);
  for (const n of w.notes) lines.push(`  note     ${n}`);
  return lines;
}

export function renderInventoryText(inv: Inventory, what: string): string {
  const counts = VERDICTS.map((v) => [v, inv.workflows.filter((w) => w.verdict === v).length] as const).filter(([, n]) => n > 0);
  const lines = [
    `n8n inventory of ${what}: ${inv.workflows.length} workflow${inv.workflows.length === 1 ? '' : 's'} (Salesforce streams from ${inv.salesforceSource})`,
    counts.length ? `  ${counts.map(([v, n]) => `${v}: ${n}`).join(' · ')}` : '  no workflow read',
  ];
  for (const w of inv.workflows) lines.push('', ...renderWorkflow(w));
  if (inv.problems.length) {
    lines.push('', 'Not read:');
    for (const p of inv.problems) lines.push(`  ${p.source}: ${p.message}`);
  }
  return lines.join('\n');
}
