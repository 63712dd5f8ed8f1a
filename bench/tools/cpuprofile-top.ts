import fs from 'node:fs';
import path from 'node:path';

/**
 * `npx tsx bench/tools/cpuprofile-top.ts <file.cpuprofile|dir> [n]`: where a V8 CPU profile (node --cpu-prof)
 * spent its time, as self time per function and per package or project folder, largest first.
 */

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function area(url: string): string {
  if (!url) return '(native / gc / idle)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const m = /novade[^/]*\/(?:wt-[^/]+\/|main\/)?([^/]+)/.exec(url);
  return m ? m[1] + '/' : url;
}

function top(file: string, n: number): string {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const fn = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)!.callFrame;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url ? `${path.basename(cf.url)}:${cf.lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const a = cf.functionName === '(garbage collector)' ? '(gc)' : area(cf.url);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  const list = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${pct(us)} ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`)
      .join('\n');
  return `${file}: ${(total / 1e6).toFixed(1)} s busy, ${(idle / 1e6).toFixed(1)} s idle\n by area:\n${list(areas)}\n by function (self):\n${list(fn)}\n`;
}

const [target, n] = process.argv.slice(2);
if (!target) {
  process.stderr.write('usage: tsx bench/tools/cpuprofile-top.ts <file.cpuprofile|dir> [n]\n');
  process.exit(2);
}
const files = fs.statSync(target).isDirectory()
  ? fs
      .readdirSync(target, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(target, f))
  : [target];
for (const f of files) process.stdout.write(top(f, Number(n ?? 25)));
