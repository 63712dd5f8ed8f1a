import { canonicalField, findObject, lookupField, type NovadeCatalog } from './catalog';
import { coverageOf, type Coverage, type CoverageStatus } from './coverage';
import type { N8nWorkflow, ReadProblem } from './export-format';
import { reachable } from './graph';
import { roleOf, usesOf } from './nodes/catalog';
import { triggerOf, type Trigger } from './triggers';
import type { SystemUse } from './uses';

/** The inventory of one n8n workflow: its triggers, what it reads and writes, and what in novade-sync does the same. */

export interface UseEntry extends SystemUse {
  coverage: Coverage;
  /** Runs: enabled and reached from a trigger. */
  active: boolean;
  /** Why it never runs, when it does not. */
  inactiveReason?: string;
}

/** covered: everything it does has a flow; `covered once configured`: after config/streams.yaml or env changes. */
export type Verdict = 'covered' | 'covered once configured' | 'partly covered' | 'not covered' | 'moves no data';

export interface WorkflowInventory {
  source: string;
  id?: string;
  name: string;
  active?: boolean;
  triggers: Trigger[];
  uses: UseEntry[];
  /** Nodes that only shape or route items, and nodes running custom code. */
  logic: string[];
  code: string[];
  verdict: Verdict;
  notes: string[];
}

export interface Inventory {
  workflows: WorkflowInventory[];
  problems: ReadProblem[];
  salesforceSource: string;
}

/** Field names in their API case, relationship paths through their lookup field. */
function normalize(use: SystemUse, catalog: NovadeCatalog): SystemUse {
  const sf = use.salesforce;
  if (!sf || !sf.object) return use;
  const entry = findObject(catalog, sf.object);
  const object = entry?.object ?? sf.object;
  const fields: string[] = [];
  for (const f of [...sf.fields.map((x) => canonicalField(x, entry)), ...sf.relationships.map(lookupField)]) if (!fields.includes(f)) fields.push(f);
  return { ...use, salesforce: { ...sf, object, fields } };
}

function verdictOf(statuses: CoverageStatus[]): Verdict {
  if (statuses.length === 0) return 'moves no data';
  if (statuses.every((s) => s === 'covered')) return 'covered';
  if (statuses.every((s) => s !== 'not covered')) return 'covered once configured';
  if (statuses.some((s) => s !== 'not covered')) return 'partly covered';
  return 'not covered';
}

export function analyzeWorkflow(wf: N8nWorkflow, catalog: NovadeCatalog): WorkflowInventory {
  const triggers: Trigger[] = [];
  const triggerNodes: string[] = [];
  for (const node of wf.nodes) {
    const t = triggerOf(node);
    if (!t) continue;
    triggerNodes.push(node.name);
    if (!node.disabled) triggers.push(t);
  }
  const enabledStarts = wf.nodes.filter((n) => triggerNodes.includes(n.name) && !n.disabled).map((n) => n.name);
  // Without any trigger the editor's "Execute workflow" runs every node: count them all as run.
  const order = triggerNodes.length === 0 ? wf.nodes.map((n) => n.name) : reachable(enabledStarts, wf.connections);
  const rank = new Map(order.map((n, i) => [n, i]));
  const nodes = [...wf.nodes].sort((a, b) => (rank.get(a.name) ?? Infinity) - (rank.get(b.name) ?? Infinity));

  const logic: string[] = [];
  const code: string[] = [];
  const raw: { use: SystemUse; active: boolean; inactiveReason?: string }[] = [];
  for (const node of nodes) {
    const trigger = triggerOf(node);
    const runs = !node.disabled && rank.has(node.name);
    const inactiveReason = node.disabled ? 'disabled' : runs ? undefined : 'not connected to a trigger';
    if (trigger && trigger.kind !== 'poll' && trigger.kind !== 'other') continue;
    const role = trigger ? 'system' : roleOf(node);
    if (role === 'note') continue;
    if (role === 'logic') {
      if (runs) logic.push(node.name);
      continue;
    }
    if (role === 'code') {
      if (runs) code.push(node.name);
      continue;
    }
    for (const use of usesOf(node)) raw.push({ use: normalize(use, catalog), active: runs, inactiveReason });
  }
  const active = raw.filter((r) => r.active);
  const inactive = raw.filter((r) => !r.active);
  const activeCoverage = coverageOf(active.map((r) => r.use), catalog);
  const inactiveCoverage = coverageOf(inactive.map((r) => r.use), catalog);
  const uses: UseEntry[] = [
    ...active.map((r, i) => ({ ...r.use, coverage: activeCoverage[i], active: true })),
    ...inactive.map((r, i) => ({ ...r.use, coverage: inactiveCoverage[i], active: false, inactiveReason: r.inactiveReason })),
  ];

  const notes: string[] = [];
  if (wf.active === false) notes.push('inactive in n8n: it runs only when started by hand');
  if (triggerNodes.length === 0) notes.push('no trigger: it runs only when opened and executed in the editor');
  const schedules = triggers.filter((t) => t.kind === 'schedule' || t.kind === 'poll');
  const polled = active.some((r) => r.use.system === 'salesforce' || r.use.system === 'drift');
  if (schedules.length && polled) notes.push(`schedule in n8n: ${schedules.map((t) => t.description).join('; ')}; novade-sync syncs Salesforce and Drift every 5 minutes (Temporal schedules)`);
  for (const t of triggers.filter((x) => x.kind === 'webhook'))
    notes.push(`${t.node}: whatever posts to n8n's ${t.description} must be pointed elsewhere: Segment calls to /v1/*, Drift to /drift, Amplitude event streaming to /amplitude`);
  if (code.length) notes.push(`custom code in ${code.map((c) => `"${c}"`).join(', ')}: check by hand what it computes (novade-sync's mappings and config/streams.yaml event rules must do the same)`);
  const community = uses.filter((u) => u.community);
  if (community.length) notes.push(`community node${community.length === 1 ? '' : 's'} ${[...new Set(community.map((u) => u.type))].join(', ')}: not known to this inventory`);
  return { source: wf.source, ...(wf.id !== undefined ? { id: wf.id } : {}), name: wf.name, ...(wf.active !== undefined ? { active: wf.active } : {}), triggers, uses, logic, code, verdict: verdictOf(active.map((r, i) => activeCoverage[i].status)), notes };
}

export function analyze(workflows: N8nWorkflow[], problems: ReadProblem[], catalog: NovadeCatalog): Inventory {
  return { workflows: workflows.map((w) => analyzeWorkflow(w, catalog)), problems, salesforceSource: catalog.salesforceSource };
}
