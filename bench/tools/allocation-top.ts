import fs from 'node:fs';

/**
 * `npx tsx bench/tools/allocation-top.ts <file> [n]`: the bytes a sampled allocation profile
 * (bench/tools/allocation-profile.ts) attributes to each function (self) and to each caller chain's
 * project frame, largest first.
 */

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

const short = (url: string) => url.replace(/^.*node_modules\//, '').replace(/^.*\/(wt-[^/]+|main)\//, '').replace(/^file:\/\//, '');
const frame = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const ours = (url: string) => url !== '' && !url.includes('node_modules') && !url.startsWith('node:');

function main(): void {
  const [file, nText] = process.argv.slice(2);
  const n = Number(nText ?? 25);
  const head = (JSON.parse(fs.readFileSync(file, 'utf8')) as { head: Node }).head;
  const self = new Map<string, number>();
  const byOwn = new Map<string, number>();
  let total = 0;
  const walk = (node: Node, own: string) => {
    const here = ours(node.callFrame.url) ? frame(node) : own;
    self.set(frame(node), (self.get(frame(node)) ?? 0) + node.selfSize);
    byOwn.set(here, (byOwn.get(here) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const c of node.children) walk(c, here);
  };
  walk(head, '(outside the project)');
  const mib = (b: number) => (b / 1048576).toFixed(0).padStart(7);
  const print = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${mib(v)} MiB ${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
  };
  console.log(`sampled allocations: ${mib(total)} MiB`);
  print('self (allocating function)', self);
  print('by nearest project frame (what of ours asked for it)', byOwn);
}

main();
