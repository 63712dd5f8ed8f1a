import { z } from 'zod';

/**
 * n8n's workflow JSON, as the editor's Download, `n8n export:workflow` (one workflow per file with
 * `--separate`, else an array) and the public API (`{ data: [...] }`) write it: `nodes` (each with
 * `name`, `type` such as `n8n-nodes-base.salesforce`, `typeVersion`, `parameters`, `credentials`,
 * `disabled`) and `connections` (source node name → connection type → output index → targets).
 *
 * Read tolerantly: n8n leaves out every parameter still at its default, old and new node versions
 * name parameters differently, and community nodes carry anything. A field of the wrong type falls
 * back to its default and a node without a type is skipped with a problem, so one odd node never
 * hides the rest of a workflow.
 */

const record = z.record(z.string(), z.unknown());

export const n8nNode = z.looseObject({
  name: z.string().catch(''),
  type: z.string().min(1),
  typeVersion: z.number().catch(1),
  parameters: record.catch({}),
  credentials: record.catch({}),
  disabled: z.boolean().catch(false),
});
export type N8nNode = z.infer<typeof n8nNode>;

const connectionTarget = z.looseObject({ node: z.string() });
/** One output's targets; n8n writes `null` for an output with none. */
const outputTargets = z.array(connectionTarget.nullable().catch(null)).nullable().catch(null);
/** Per connection type (`main`, `ai_tool`, ...): one list of targets per output index. */
const nodeConnections = z.record(z.string(), z.array(outputTargets).catch([])).catch({});
export const n8nConnections = z.record(z.string(), nodeConnections).catch({});
export type N8nConnections = z.infer<typeof n8nConnections>;

/** What makes a JSON value a workflow: a `nodes` array. Everything else is optional. */
const workflowShape = z.looseObject({
  id: z.union([z.string(), z.number()]).optional().catch(undefined),
  name: z.string().optional().catch(undefined),
  active: z.boolean().optional().catch(undefined),
  nodes: z.array(z.unknown()),
  connections: z.unknown().optional(),
});

export interface N8nWorkflow {
  /** Where it was read from: `file` or `file[2]` for the third workflow of an array. */
  source: string;
  id?: string;
  name: string;
  active?: boolean;
  nodes: N8nNode[];
  connections: N8nConnections;
}

export interface ReadProblem {
  source: string;
  message: string;
}

export interface ParsedExport {
  workflows: N8nWorkflow[];
  problems: ReadProblem[];
}

function isWorkflowLike(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Array.isArray((v as { nodes?: unknown }).nodes);
}

function toWorkflow(value: unknown, source: string, fallbackName: string, problems: ReadProblem[]): N8nWorkflow | undefined {
  const shape = workflowShape.safeParse(value);
  if (!shape.success) {
    problems.push({ source, message: 'not an n8n workflow: expected an object with a "nodes" array (export it with Download or `n8n export:workflow`)' });
    return undefined;
  }
  const nodes: N8nNode[] = [];
  shape.data.nodes.forEach((raw, i) => {
    const node = n8nNode.safeParse(raw);
    if (node.success) nodes.push(node.data);
    else problems.push({ source, message: `nodes[${i}] skipped: a node needs a "type" (text such as "n8n-nodes-base.salesforce")` });
  });
  return {
    source,
    id: shape.data.id === undefined ? undefined : String(shape.data.id),
    name: shape.data.name?.trim() || fallbackName,
    active: shape.data.active,
    nodes,
    connections: n8nConnections.parse(shape.data.connections ?? {}),
  };
}

/**
 * Every workflow in one parsed JSON document: a workflow, an array of them, or an API listing
 * (`{ data: [...] }`). `source` names the file; `fallbackName` names a workflow without a name
 * (the editor's copy of selected nodes has none).
 */
export function parseExport(json: unknown, source: string, fallbackName = source): ParsedExport {
  const problems: ReadProblem[] = [];
  const workflows: N8nWorkflow[] = [];
  const list = Array.isArray(json) ? json : !isWorkflowLike(json) && Array.isArray((json as { data?: unknown } | null)?.data) ? (json as { data: unknown[] }).data : undefined;
  if (list === undefined) {
    const wf = toWorkflow(json, source, fallbackName, problems);
    if (wf) workflows.push(wf);
    return { workflows, problems };
  }
  list.forEach((item, i) => {
    const wf = toWorkflow(item, `${source}[${i}]`, `${fallbackName} #${i + 1}`, problems);
    if (wf) workflows.push(wf);
  });
  if (list.length === 0) problems.push({ source, message: 'the file holds an empty list: no workflow to read' });
  return { workflows, problems };
}
