import { compilePlan } from '../../tracking/plan-compile';
import { formatProblem, loadPlanDir } from '../../tracking/plan-load';

export class PlanLintError extends Error {
  constructor(count: number) {
    super(`the tracking plan has ${count} problem${count === 1 ? '' : 's'} (listed above)`);
    this.name = 'PlanLintError';
  }
}

export interface LintReport {
  dir: string;
  events: number;
  pages: number;
  problems: { file: string; line?: number; message: string }[];
}

/** Checks the plan's files: structure, JSON Schemas, duplicate names. */
export function lintPlan(dir: string): LintReport {
  const loaded = loadPlanDir(dir);
  const { problems } = compilePlan(loaded);
  return { dir, events: loaded.events.length, pages: loaded.pages?.value.names.length ?? 0, problems };
}

export function renderLint(r: LintReport): string {
  if (r.problems.length === 0) return `${r.dir}: ok (${r.events} events, ${r.pages} pages)`;
  return r.problems.map(formatProblem).join('\n');
}
