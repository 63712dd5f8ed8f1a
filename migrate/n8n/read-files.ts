import fs from 'node:fs';
import path from 'node:path';
import { parseExport, type N8nWorkflow, type ReadProblem } from './export-format';

/**
 * Reads an export file, or every `.json` file of a folder (recursively, as `n8n export:workflow
 * --backup` writes one file per workflow), into workflows. A file that is not JSON or holds no
 * workflow becomes a problem naming it; the others are still read.
 */
export function readExports(target: string): { workflows: N8nWorkflow[]; problems: ReadProblem[] } {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    throw new Error(`${target}: no such file or folder: give an n8n workflow export (.json) or a folder of them.`);
  }
  const files = stat.isDirectory() ? listJson(target) : [target];
  const workflows: N8nWorkflow[] = [];
  const problems: ReadProblem[] = [];
  if (stat.isDirectory() && files.length === 0) problems.push({ source: target, message: 'no .json file in this folder: export the workflows with `n8n export:workflow --all --separate --output=<folder>`' });
  const base = stat.isDirectory() ? target : path.dirname(target);
  for (const file of files) {
    const name = path.relative(base, file) || path.basename(file);
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
    } catch (err) {
      problems.push({ source: name, message: `not JSON (${err instanceof Error ? err.message : String(err)})` });
      continue;
    }
    const parsed = parseExport(json, name, path.basename(file, path.extname(file)));
    workflows.push(...parsed.workflows);
    problems.push(...parsed.problems);
  }
  return { workflows, problems };
}

function listJson(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listJson(full));
    else if (entry.isFile() && entry.name.toLowerCase().endsWith('.json')) out.push(full);
  }
  return out;
}
