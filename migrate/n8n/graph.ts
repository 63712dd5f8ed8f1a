import type { N8nConnections } from './export-format';

/**
 * The workflow's graph from `connections`: which nodes a trigger can reach, in the order a run
 * meets them. Connections of every type count (`main`, and the `ai_*` links of AI sub-nodes, which
 * point from the sub-node to the agent using it).
 */

export function edges(connections: N8nConnections): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [from, byType] of Object.entries(connections)) {
    for (const outputs of Object.values(byType)) {
      for (const targets of outputs) {
        for (const t of targets ?? []) {
          if (!t) continue;
          const list = out.get(from) ?? [];
          if (!list.includes(t.node)) list.push(t.node);
          out.set(from, list);
        }
      }
    }
  }
  return out;
}

/** Nodes reachable from `starts` (breadth first: a run's order), sub-nodes attached to a reached node included. */
export function reachable(starts: string[], connections: N8nConnections): string[] {
  const next = edges(connections);
  // AI sub-nodes connect into the node that uses them: reaching the user reaches them.
  const attached = new Map<string, string[]>();
  for (const [from, byType] of Object.entries(connections)) {
    for (const [type, outputs] of Object.entries(byType)) {
      if (type === 'main') continue;
      for (const targets of outputs) for (const t of targets ?? []) if (t) attached.set(t.node, [...(attached.get(t.node) ?? []), from]);
    }
  }
  const seen = new Set<string>();
  const order: string[] = [];
  const queue = [...starts];
  while (queue.length > 0) {
    const n = queue.shift()!;
    if (seen.has(n)) continue;
    seen.add(n);
    order.push(n);
    queue.push(...(next.get(n) ?? []), ...(attached.get(n) ?? []));
  }
  return order;
}
