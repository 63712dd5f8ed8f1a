import path from 'node:path';
import { spawn } from 'node:child_process';
import { loadScenarios } from './scenarios-dir';
import type { BenchResult } from './scenario';

/**
 * `npm run bench [name-or-prefix ...]`: runs the scenarios of bench/scenarios/, each in a fresh
 * process, and prints a table: scenario, records, seconds, records/s, peak RSS, notes.
 */
interface Row {
  name: string;
  result?: BenchResult & { seconds: number; peakRssMiB: number };
  error?: string;
}

function runOne(name: string, env: Record<string, string> = {}, label = name): Promise<Row> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'run-one.ts'), name], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...env },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      const s = d.toString();
      out += s;
      for (const line of s.split('\n')) if (line && !line.startsWith('@@bench')) process.stderr.write(`  ${line}\n`);
    });
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('@@bench '));
      if (code === 0 && line) resolve({ name: label, result: JSON.parse(line.slice(8)) });
      else resolve({ name: label, error: `exit ${code}` });
    });
  });
}

function table(rows: Row[]): string {
  const header = ['scenario', 'records', 'seconds', 'records/s', 'peak RSS MiB', 'notes'];
  const body = rows.map((r) =>
    r.result
      ? [
          r.name,
          r.result.records.toLocaleString('en-US'),
          r.result.seconds.toFixed(2),
          Math.round(r.result.records / Math.max(r.result.seconds, 1e-9)).toLocaleString('en-US'),
          r.result.peakRssMiB.toFixed(0),
          Object.entries(r.result.extra ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
        ]
      : [r.name, '-', '-', '-', '-', `FAILED (${r.error})`],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(fmt)].join('\n');
}

/** `--parallel 1,2,4`: each chosen scenario once per value, with BENCH_BACKFILL_PARALLEL set (the backfill scenarios read it). */
function parallelValues(args: string[]): { filters: string[]; values: string[] } {
  const i = args.indexOf('--parallel');
  if (i < 0) return { filters: args, values: process.env.BENCH_BACKFILL_PARALLEL ? process.env.BENCH_BACKFILL_PARALLEL.split(',') : [] };
  const values = (args[i + 1] ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  if (values.length === 0 || values.some((v) => !/^\d+$/.test(v))) {
    process.stderr.write('--parallel takes a comma-separated list of window counts, e.g. --parallel 1,2,4\n');
    process.exit(2);
  }
  return { filters: [...args.slice(0, i), ...args.slice(i + 2)], values };
}

async function main() {
  const { filters, values } = parallelValues(process.argv.slice(2));
  const all = await loadScenarios(path.join(__dirname, 'scenarios'));
  const chosen = filters.length ? all.filter((s) => filters.some((f) => s.name.startsWith(f))) : all;
  if (chosen.length === 0) {
    process.stderr.write(`No scenario matches ${filters.join(', ')}. Known: ${all.map((s) => s.name).join(', ')}\n`);
    process.exit(2);
  }
  const rows: Row[] = [];
  for (const s of chosen) {
    process.stderr.write(`running ${s.name}: ${s.description}\n`);
    if (values.length === 0) rows.push(await runOne(s.name));
    for (const v of values) {
      process.stderr.write(`  --parallel ${v}\n`);
      rows.push(await runOne(s.name, { BENCH_BACKFILL_PARALLEL: v }, `${s.name} --parallel ${v}`));
    }
  }
  process.stdout.write(`\n${table(rows)}\n`);
  process.exit(rows.some((r) => r.error) ? 1 : 0);
}

void main();
