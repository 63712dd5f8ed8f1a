import fs from 'node:fs';
import path from 'node:path';
import type { BenchScenario } from './scenario';

export async function loadScenarios(dir: string): Promise<BenchScenario[]> {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).sort() : [];
  const all: BenchScenario[] = [];
  for (const f of files) {
    const mod = (await import(path.join(dir, f))) as { default?: BenchScenario | BenchScenario[] };
    const d = mod.default;
    if (d) all.push(...(Array.isArray(d) ? d : [d]));
  }
  return all;
}
